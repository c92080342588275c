from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.money import Money, MoneyError, format_amount, get_currency, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("23.72", "CNY", 2372),
        ("23.7", "CNY", 2370),
        ("98.", "USD", 9800),
        ("98", "156", 9800),
        ("999", "JPY", 999),
        ("1.234", "BHD", 1234),
        ("0.50", "CNY", 50),
        ("23.720", "CNY", 2372),
    ],
)
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["23.723", "1,00", "3 705", "-1", "1e3", "", ".", "1.2.3", "+5"])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_amount(text, "CNY")
    assert err.value.code == "bad_amount"
    assert err.value.field == "amount"


def test_currency_lookup_by_alpha_and_numeric() -> None:
    assert get_currency("cny") == get_currency("156")
    assert get_currency("392").exponent == 0
    with pytest.raises(MoneyError) as err:
        get_currency("XXX")
    assert err.value.code == "unknown_currency"
    assert "未知" in err.value.message("zh-CN")


def test_money_refuses_floats_and_normalises_currency() -> None:
    assert Money(100, "156") == Money(100, "CNY")
    assert str(Money.parse("12.3", "CNY")) == "12.30 CNY"
    with pytest.raises(MoneyError):
        Money(1.5, "CNY")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["CNY", "JPY", "BHD", "CLF"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency), currency) == minor
