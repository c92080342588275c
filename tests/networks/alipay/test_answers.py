"""Query, cancel, refund and refund-query answers (scanpay.networks.alipay.answers), for
every branch: a state is final only when Alipay's answer says so."""

from __future__ import annotations

from typing import Any

import pytest

from scanpay.networks import RefundStatus, ReverseOutcome, TradeState
from scanpay.networks.alipay.answers import (
    query_answer,
    refund_answer,
    refund_query_answer,
    reverse_answer,
)

OK = {"code": "10000", "msg": "Success"}


def _failed(sub_code: str, **more: Any) -> dict[str, Any]:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, **more}


def _trade(status: str, **more: Any) -> dict[str, Any]:
    return {
        **OK,
        "out_trade_no": "T1",
        "trade_no": "2026120822001400001",
        "trade_status": status,
        "total_amount": "12.30",
        **more,
    }


@pytest.mark.parametrize(
    ("data", "state"),
    [
        (_trade("WAIT_BUYER_PAY"), TradeState.USER_PAYING),
        (_trade("TRADE_SUCCESS", send_pay_date="2026-12-08 10:00:00"), TradeState.PAID),
        (_trade("TRADE_FINISHED"), TradeState.PAID),
        (_trade("TRADE_CLOSED"), TradeState.CLOSED),
        (_trade("TRADE_CLOSED", buyer_pay_amount="0.00"), TradeState.CLOSED),
        (_trade("TRADE_CLOSED", send_pay_date="2026-12-08 10:00:00"), TradeState.REVERSED),
        (_trade("TRADE_CLOSED", buyer_pay_amount="12.30"), TradeState.REVERSED),
        (_trade("TRADE_SOMETHING"), TradeState.UNKNOWN),
        (_trade("TRADE_SUCCESS", total_amount="12.345"), TradeState.UNKNOWN),  # how much?
        (_trade("TRADE_SUCCESS", total_amount=None), TradeState.UNKNOWN),
        (_trade("TRADE_SUCCESS", out_trade_no="T2"), TradeState.UNKNOWN),  # not ours
        (_failed("ACQ.TRADE_NOT_EXIST"), TradeState.NOT_FOUND),
        (_failed("ACQ.SYSTEM_ERROR"), TradeState.UNKNOWN),
        (_failed("ACQ.INVALID_PARAMETER"), TradeState.UNKNOWN),
        ({"code": "20000", "sub_code": "isp.unknow-error"}, TradeState.UNKNOWN),
        ({"code": "40002", "sub_code": "isv.invalid-signature"}, TradeState.UNKNOWN),
        ({}, TradeState.UNKNOWN),
    ],
)
def test_query(data: dict[str, Any], state: TradeState) -> None:
    answer = query_answer(data, "T1")
    assert answer.state is state
    if state in (TradeState.PAID, TradeState.USER_PAYING):
        assert answer.amount == 1230 and answer.transaction_id == "2026120822001400001"
    if state in (TradeState.CLOSED, TradeState.REVERSED):
        assert answer.message is not None and answer.message.zh_cn and answer.message.en


@pytest.mark.parametrize(
    ("data", "outcome", "network_code"),
    [
        ({**OK, "retry_flag": "N", "action": "close"}, ReverseOutcome.DONE, "close"),
        ({**OK, "retry_flag": "N", "action": "refund"}, ReverseOutcome.DONE, "refund"),
        ({**OK, "retry_flag": "N"}, ReverseOutcome.DONE, "10000"),
        ({**OK, "retry_flag": "Y"}, ReverseOutcome.AGAIN, "10000"),
        (_failed("ACQ.SYSTEM_ERROR", retry_flag="Y"), ReverseOutcome.AGAIN, "ACQ.SYSTEM_ERROR"),
        (_failed("ACQ.SYSTEM_ERROR", retry_flag="N"), ReverseOutcome.UNKNOWN, "ACQ.SYSTEM_ERROR"),
        (_failed("ACQ.TRADE_NOT_EXIST"), ReverseOutcome.DONE, "ACQ.TRADE_NOT_EXIST"),
        (_failed("ACQ.TRADE_HAS_CLOSE"), ReverseOutcome.DONE, "ACQ.TRADE_HAS_CLOSE"),
        (_failed("ACQ.REASON_TRADE_BEEN_FREEZEN"), ReverseOutcome.REFUSED, None),
        (_failed("ACQ.TRADE_STATUS_ERROR"), ReverseOutcome.REFUSED, None),
        (_failed("ACQ.TRADE_CANCEL_TIME_OUT"), ReverseOutcome.REFUSED, None),
        ({"code": "40002", "sub_code": "isv.invalid-app-id"}, ReverseOutcome.REFUSED, None),
        ({"code": "20000", "sub_code": "isp.unknow-error"}, ReverseOutcome.UNKNOWN, None),
        ({"code": "40004"}, ReverseOutcome.UNKNOWN, None),
        (None, ReverseOutcome.UNKNOWN, None),
    ],
)
def test_cancel(
    data: dict[str, Any] | None, outcome: ReverseOutcome, network_code: str | None
) -> None:
    answer = reverse_answer(data)
    assert answer.outcome is outcome
    assert answer.message is not None and answer.message.zh_cn and answer.message.en
    if network_code is not None:
        assert answer.network_code == network_code
    if data and outcome is ReverseOutcome.REFUSED:
        assert answer.network_code == (data.get("sub_code") or data["code"])


def test_too_old_to_cancel_says_refund() -> None:
    answer = reverse_answer(_failed("ACQ.TRADE_CANCEL_TIME_OUT"))
    assert answer.message is not None and "refund" in answer.message.en


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({**OK, "fund_change": "Y", "refund_fee": "20.00"}, RefundStatus.SUCCESS),
        (_failed("ACQ.SELLER_BALANCE_NOT_ENOUGH"), RefundStatus.FAILED),
        (_failed("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"), RefundStatus.FAILED),
        (_failed("ACQ.DISCORDANT_REPEAT_REQUEST"), RefundStatus.FAILED),
        (_failed("ACQ.TRADE_NOT_EXIST"), RefundStatus.FAILED),
        (_failed("ACQ.SOMETHING_NEW"), RefundStatus.FAILED),
        ({"code": "40002", "sub_code": "isv.invalid-signature"}, RefundStatus.FAILED),
        (_failed("ACQ.SYSTEM_ERROR"), RefundStatus.UNKNOWN),
        ({"code": "20000"}, RefundStatus.UNKNOWN),
        ({"code": "40004"}, RefundStatus.UNKNOWN),
        ({}, RefundStatus.UNKNOWN),
    ],
)
def test_refund(data: dict[str, Any], status: RefundStatus) -> None:
    answer = refund_answer(data, "R1", 500)
    assert answer is not None and answer.status is status and answer.refund_no == "R1"
    if status is RefundStatus.SUCCESS:
        assert answer.amount == 500  # this refund's, not refund_fee (the trade's total)
    if status is RefundStatus.FAILED:
        assert answer.message is not None and answer.message.zh_cn and answer.message.en


def test_a_refund_that_moved_no_money_asks_the_query() -> None:
    assert refund_answer({**OK, "fund_change": "N"}, "R1", 500) is None
    assert refund_answer({**OK}, "R1", 500) is None


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (
            {**OK, "out_request_no": "R1", "refund_status": "REFUND_SUCCESS", "refund_amount": "5"},
            RefundStatus.SUCCESS,
        ),
        ({**OK, "out_request_no": "R1", "refund_amount": "5.00"}, RefundStatus.UNKNOWN),
        ({**OK}, RefundStatus.UNKNOWN),  # nothing found: not a "no" (it may be on its way)
        (
            {**OK, "out_request_no": "R2", "refund_status": "REFUND_SUCCESS"},
            RefundStatus.UNKNOWN,
        ),
        (_failed("ACQ.TRADE_NOT_EXIST"), RefundStatus.FAILED),
        (_failed("ACQ.SYSTEM_ERROR"), RefundStatus.UNKNOWN),
        ({"code": "20000"}, RefundStatus.UNKNOWN),
    ],
)
def test_refund_query(data: dict[str, Any], status: RefundStatus) -> None:
    answer = refund_query_answer(data, "R1")
    assert answer.status is status
    if status is RefundStatus.SUCCESS:
        assert answer.amount == 500
