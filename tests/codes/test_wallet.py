"""Wallet payment codes (付款码)."""

from __future__ import annotations

import pytest

from scanpay.codes import (
    DEFAULT_WALLET_RULES,
    CodeError,
    WalletRules,
    mask,
    parse_payment_code,
    parse_wallet_code,
)


@pytest.mark.parametrize(
    ("code", "wallet"),
    [
        ("134567890123456789", "wechat_pay"),
        ("2812345678901234", "alipay"),
        ("301234567890123456789012", "alipay"),
        ("6212345678901234567", "unionpay_quickpass"),
        ("881234567890123456", "scanpay"),
    ],
)
def test_wallet_by_prefix_and_length(code: str, wallet: str) -> None:
    parsed = parse_payment_code(code)
    assert parsed.kind == "wallet" and parsed.scheme == wallet


@pytest.mark.parametrize(
    "code", ["13456789012345678", "3112345678901234", "6234018780175989", "0912345678901"]
)
def test_unknown_digits_are_refused(code: str) -> None:
    with pytest.raises(CodeError) as caught:
        parse_payment_code(code)
    assert caught.value.code == "unknown_wallet_code"
    assert code not in str(caught.value) and code not in caught.value.message("zh-CN")


def test_the_table_is_configuration() -> None:
    rules = WalletRules.from_mapping([{"wallet": "shopcard", "regex": r"77[0-9]{14}"}])
    assert parse_wallet_code("7712345678901234", rules).wallet == "shopcard"
    with pytest.raises(CodeError):
        parse_wallet_code("134567890123456789", rules)
    moved = DEFAULT_WALLET_RULES.with_builtin_prefix("99")
    assert parse_wallet_code("991234567890123456", moved).wallet == "scanpay"
    with pytest.raises(CodeError):
        parse_wallet_code("881234567890123456", moved)
    with pytest.raises(ValueError):
        DEFAULT_WALLET_RULES.with_builtin_prefix("ab")


def test_not_a_payment_code() -> None:
    for text in ["https://example.com", "hello", "", "MEBKM:URL:http\\://x;;"]:
        with pytest.raises(CodeError) as caught:
            parse_payment_code(text)
        assert caught.value.code == "not_a_payment_code"


def test_mask_shows_at_most_first_6_and_last_4() -> None:
    code = parse_payment_code("134567890123456789")
    assert code.mask() == "wechat_pay 134567********6789"
    assert mask("134567890123456789") == "134567********6789"
    assert "134567890123456789" not in str(code.to_dict())
