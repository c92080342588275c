"""Alipay's pay-call codes in our terms: a decline only when Alipay says no money moved,
never an approval from a code that is not 10000."""

from __future__ import annotations

import pytest

from scanpay.networks import Outcome, decline_message
from scanpay.networks.alipay.codes import ALIPAY_PAY_CODES, pay_answer
from scanpay.protocol.result_codes import RESULT_CODES


@pytest.mark.parametrize(
    ("code", "sub_code", "outcome", "ours"),
    [
        ("10000", None, Outcome.APPROVED, "00"),
        ("10003", None, Outcome.USER_PAYING, "09"),
        ("20000", "isp.unknow-error", Outcome.UNKNOWN, "91"),
        ("20000", None, Outcome.UNKNOWN, "91"),
        ("40004", "ACQ.SYSTEM_ERROR", Outcome.UNKNOWN, "91"),
        ("40004", "ACQ.TRADE_HAS_SUCCESS", Outcome.UNKNOWN, "91"),
        ("40004", "ACQ.TRADE_BUYER_NOT_MATCH", Outcome.UNKNOWN, "91"),
        ("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", Outcome.DECLINED, "14"),
        ("40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH", Outcome.DECLINED, "51"),
        ("40004", "acq.buyer_bankcard_balance_not_enough", Outcome.DECLINED, "51"),
        ("40004", "ACQ.TRADE_HAS_CLOSE", Outcome.DECLINED, "12"),
        ("40004", "ACQ.CONTEXT_INCONSISTENT", Outcome.DECLINED, "95"),
        ("40004", "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR", Outcome.DECLINED, "57"),
        ("40004", "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR", Outcome.DECLINED, "57"),
        ("40004", "ACQ.BUYER_SELLER_EQUAL", Outcome.DECLINED, "57"),
        ("40004", "ACQ.TOTAL_FEE_EXCEED", Outcome.DECLINED, "57"),
        ("40004", "ACQ.SELLER_BALANCE_NOT_ENOUGH", Outcome.DECLINED, "57"),
        ("40004", "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT", Outcome.DECLINED, "57"),
        ("40004", "ACQ.PAYMENT_REQUEST_HAS_RISK", Outcome.DECLINED, "57"),
        ("40004", "ACQ.PAYMENT_FAIL", Outcome.DECLINED, "05"),
        ("40004", "ACQ.INVALID_PARAMETER", Outcome.DECLINED, "58"),
        ("40004", "ACQ.ACCESS_FORBIDDEN", Outcome.DECLINED, "58"),
        ("40004", "ACQ.SOMETHING_NEW", Outcome.DECLINED, "05"),  # 40004 is a "no"
        ("40004", None, Outcome.UNKNOWN, "91"),  # ... but not without saying why
        ("40002", "isv.invalid-signature", Outcome.DECLINED, "58"),
        ("40002", "isv.invalid-app-id", Outcome.DECLINED, "58"),
        ("40001", None, Outcome.DECLINED, "58"),
        ("40006", "isv.insufficient-isv-permissions", Outcome.DECLINED, "58"),
        ("99999", None, Outcome.UNKNOWN, "91"),
        (None, None, Outcome.UNKNOWN, "91"),
    ],
)
def test_pay_codes(code: str | None, sub_code: str | None, outcome: Outcome, ours: str) -> None:
    answer = pay_answer(code, sub_code, "2026120822001")
    assert (answer.outcome, answer.result_code) == (outcome, ours)
    assert answer.message.zh_cn and answer.message.en
    if outcome is Outcome.APPROVED:
        assert answer.transaction_id == "2026120822001"
    else:
        assert answer.transaction_id in (None, "2026120822001")
    if sub_code and outcome is not Outcome.APPROVED:
        assert answer.network_code.upper() == sub_code.upper()  # the host shows alipay:SUB


def test_the_table_never_approves_and_every_code_is_the_hosts() -> None:
    for sub_code, rule in ALIPAY_PAY_CODES.items():
        assert sub_code.startswith("ACQ.")
        assert rule.outcome is not Outcome.APPROVED
        assert rule.result_code in RESULT_CODES
        assert pay_answer("40004", sub_code).outcome is rule.outcome
        assert pay_answer("10000", sub_code).outcome is Outcome.APPROVED  # the code decides


def test_decline_messages_for_the_host() -> None:
    text = decline_message("alipay", "ACQ.BUYER_BALANCE_NOT_ENOUGH")
    assert text is not None and "余额" in text.zh_cn
    assert decline_message("alipay", "ACQ.SYSTEM_ERROR") is None  # not a decline
    assert decline_message("alipay", "ACQ.NEVER_HEARD_OF") is None
    assert decline_message("wechat_pay", "ACQ.BUYER_BALANCE_NOT_ENOUGH") is None
