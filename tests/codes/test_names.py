"""Every network or wallet identifier the codes, the wallet rules, the terminal and the
host use has a name for people in both languages, the same everywhere (issue 14)."""

from __future__ import annotations

import pytest

from scanpay.codes import DEFAULT_WALLET_RULES
from scanpay.codes.names import (
    NETWORK_NAMES,
    SHOW_TO_PAY,
    UNKNOWN_NETWORK,
    masked_number,
    network_name,
)
from scanpay.codes.schemes import _EXACT, _PREFIX, PRIMITIVE_NETWORKS
from scanpay.host.portal.texts import translate

IDENTIFIERS = sorted(
    {rule.wallet for rule in DEFAULT_WALLET_RULES.rules}
    | {spec.scheme for spec in _EXACT.values()}
    | {spec.scheme for _, spec in _PREFIX}
    | set(PRIMITIVE_NETWORKS.values())
    | {"qris", "khqr", "emv", SHOW_TO_PAY}
)


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_every_identifier_has_a_name_in_both_languages(identifier: str) -> None:
    name = network_name(identifier)
    assert name is NETWORK_NAMES[identifier]
    assert name.zh_cn and name.en and "_" not in name.en and identifier not in (name.en, "")
    # the portal says the same
    assert translate(f"wallet.{identifier}", "zh-CN") == name.zh_cn
    assert translate(f"wallet.{identifier}", "en") == name.en


def test_the_names_people_know() -> None:
    assert network_name("wechat_pay").as_dict() == {"zh-CN": "微信支付", "en": "WeChat Pay"}
    assert network_name("alipay").as_dict() == {"zh-CN": "支付宝", "en": "Alipay"}
    assert network_name("unionpay").as_dict() == {"zh-CN": "银联", "en": "UnionPay"}
    assert network_name("scanpay").en == "scanpay wallet"
    assert network_name(SHOW_TO_PAY).en == "Show-to-pay QR"


def test_an_unknown_identifier_is_never_shown_as_it_is() -> None:
    assert network_name("acme_pay_v2") == UNKNOWN_NETWORK == network_name(None)
    assert "acme" not in network_name("acme_pay_v2").en


def test_the_masked_number_leaves_the_identifier_out() -> None:
    assert masked_number("wallet", "wechat_pay 134567********1234") == "134567********1234"
    assert masked_number("emv_cpm", "cpm A000000333010101 621234******3456") == "621234******3456"
    assert masked_number("emv_mpm", "promptpay / Shop / Bangkok / 4.22 THB") == (
        "Shop / Bangkok / 4.22 THB"
    )
