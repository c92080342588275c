"""WeChat Pay's codes in our terms: a decline only when the network says no money moved."""

from __future__ import annotations

import pytest

from scanpay.networks import (
    WECHAT_PAY_CODES,
    Outcome,
    TradeState,
    wechat_pay_answer,
    wechat_trade_state,
)
from scanpay.protocol.result_codes import RESULT_CODES


@pytest.mark.parametrize(
    ("network_code", "outcome", "ours"),
    [
        ("SUCCESS", Outcome.APPROVED, "00"),
        ("USERPAYING", Outcome.USER_PAYING, "09"),
        ("SYSTEMERROR", Outcome.UNKNOWN, "91"),
        ("BANKERROR", Outcome.UNKNOWN, "91"),
        ("NOTENOUGH", Outcome.DECLINED, "51"),
        ("AUTHCODEEXPIRE", Outcome.DECLINED, "54"),
        ("AUTH_CODE_INVALID", Outcome.DECLINED, "14"),
        ("AUTH_CODE_ERROR", Outcome.DECLINED, "14"),
        ("NOTSUPORTCARD", Outcome.DECLINED, "57"),
        ("ORDERCLOSED", Outcome.DECLINED, "12"),
        ("ORDERREVERSED", Outcome.DECLINED, "12"),
        ("SIGNERROR", Outcome.DECLINED, "58"),
        # The trade number already has a trade at the network: ours may have paid it.
        ("ORDERPAID", Outcome.UNKNOWN, "91"),
        ("OUT_TRADE_NO_USED", Outcome.UNKNOWN, "91"),
        # v3 spellings, and a code nobody documented: never a decline.
        ("SYSTEM_ERROR", Outcome.UNKNOWN, "91"),
        ("NOT_ENOUGH", Outcome.DECLINED, "51"),
        ("something_new", Outcome.UNKNOWN, "91"),
    ],
)
def test_wechat_codes_map_to_our_result_codes(
    network_code: str, outcome: Outcome, ours: str
) -> None:
    answer = wechat_pay_answer(network_code, "4200001")
    assert (answer.outcome, answer.result_code) == (outcome, ours)
    assert answer.network_code == network_code.upper()
    assert answer.message.zh_cn and answer.message.en


def test_the_config_message_names_the_code() -> None:
    message = wechat_pay_answer("APPID_MCHID_NOT_MATCH").message
    assert "APPID_MCHID_NOT_MATCH" in message.en and "APPID_MCHID_NOT_MATCH" in message.zh_cn


def test_every_rule_uses_an_existing_result_code_of_its_kind() -> None:
    kinds = {
        Outcome.APPROVED: {"approved"},
        Outcome.USER_PAYING: {"pending"},
        Outcome.UNKNOWN: {"unknown"},
        Outcome.DECLINED: {"declined", "error"},
    }
    for code, rule in WECHAT_PAY_CODES.items():
        assert RESULT_CODES[rule.result_code].klass in kinds[rule.outcome], code


@pytest.mark.parametrize(
    ("trade_state", "state"),
    [
        ("SUCCESS", TradeState.PAID),
        ("REFUND", TradeState.REFUNDED),
        ("NOTPAY", TradeState.NOT_PAID),
        ("CLOSED", TradeState.CLOSED),
        ("REVOKED", TradeState.REVERSED),
        ("USERPAYING", TradeState.USER_PAYING),
        ("PAYERROR", TradeState.PAY_ERROR),
        ("ORDERNOTEXIST", TradeState.NOT_FOUND),
        ("ORDER_NOT_EXIST", TradeState.NOT_FOUND),
        ("WHATEVER", TradeState.UNKNOWN),
    ],
)
def test_wechat_trade_states(trade_state: str, state: TradeState) -> None:
    assert wechat_trade_state(trade_state) is state
