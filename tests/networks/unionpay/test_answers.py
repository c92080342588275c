"""Query, cancel, refund and refund-query replies in the port's terms: every branch."""

from __future__ import annotations

import pytest

from scanpay.networks import RefundStatus, ReverseOutcome, TradeState
from scanpay.networks.unionpay.answers import (
    query_answer,
    refund_answer,
    refund_query_answer,
    reverse_answer,
)

Q = {"respCode": "00", "orderId": "T0000001", "queryId": "Q1", "txnAmt": "1230"}


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"origRespCode": "00"}, TradeState.PAID),
        ({"origRespCode": "05"}, TradeState.USER_PAYING),
        ({"origRespCode": "03"}, TradeState.UNKNOWN),
        ({"origRespCode": "04"}, TradeState.UNKNOWN),
        ({}, TradeState.UNKNOWN),
        ({"origRespCode": "64"}, TradeState.PAY_ERROR),
        ({"origRespCode": "ZZ"}, TradeState.PAY_ERROR),
        ({"origRespCode": "06"}, TradeState.UNKNOWN),
        ({"origRespCode": "70"}, TradeState.USER_PAYING),
        ({"origRespCode": "00", "txnAmt": None}, TradeState.UNKNOWN),  # paid, amount unsaid
        ({"origRespCode": "00", "orderId": "T0000002"}, TradeState.UNKNOWN),  # another order
        ({"respCode": "34"}, TradeState.NOT_FOUND),
        ({"respCode": "03"}, TradeState.UNKNOWN),
        ({"respCode": "11"}, TradeState.UNKNOWN),
    ],
)
def test_query(changes: dict[str, str | None], state: TradeState) -> None:
    fields = {k: v for k, v in {**Q, **changes}.items() if v is not None}
    answer = query_answer(fields, "T0000001")
    assert answer.state is state
    if state is TradeState.PAID:
        assert (answer.amount, answer.transaction_id, answer.network_code) == (1230, "Q1", "00")
    if state is TradeState.PAY_ERROR:
        assert answer.message is not None


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (None, ReverseOutcome.UNKNOWN),
        ("00", ReverseOutcome.DONE),
        ("45", ReverseOutcome.DONE),
        ("46", ReverseOutcome.DONE),
        ("03", ReverseOutcome.UNKNOWN),
        ("05", ReverseOutcome.UNKNOWN),
        ("12", ReverseOutcome.UNKNOWN),
        ("37", ReverseOutcome.UNKNOWN),
        ("35", ReverseOutcome.REFUSED),
        ("11", ReverseOutcome.REFUSED),
    ],
)
def test_cancel(code: str | None, outcome: ReverseOutcome) -> None:
    answer = reverse_answer(None if code is None else {"respCode": code})
    assert answer.outcome is outcome and answer.message is not None
    if code == "35":
        assert "refund" in answer.message.en


def test_refund() -> None:
    done = refund_answer({"respCode": "00", "origRespCode": "00", "queryId": "R"}, "R0000001", 5)
    assert done is not None and (done.status, done.amount, done.refund_id) == (
        RefundStatus.SUCCESS,
        5,
        "R",
    )
    accepted = refund_answer({"respCode": "00"}, "R0000001", 5)
    assert accepted is not None and accepted.status is RefundStatus.PROCESSING
    assert refund_answer({"respCode": "12"}, "R0000001", 5) is None  # ask the refund query
    for code in ("03", "04", "05", "06", "37"):
        again = refund_answer({"respCode": code}, "R0000001", 5)
        assert again is not None and again.status is RefundStatus.UNKNOWN
    failed = refund_answer({"respCode": "35"}, "R0000001", 5)
    assert failed is not None and failed.status is RefundStatus.FAILED
    assert failed.message is not None and "35" in failed.message.en
    assert "原交易不存在" in failed.message.zh_cn and "missing" in failed.message.en


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"origRespCode": "00"}, RefundStatus.SUCCESS),
        ({"origRespCode": "05"}, RefundStatus.PROCESSING),
        ({}, RefundStatus.PROCESSING),
        ({"origRespCode": "35"}, RefundStatus.FAILED),
        ({"origRespCode": "06"}, RefundStatus.UNKNOWN),
        ({"respCode": "34"}, RefundStatus.UNKNOWN),
        ({"respCode": "00", "orderId": "R0000002"}, RefundStatus.UNKNOWN),
        ({"respCode": "03"}, RefundStatus.UNKNOWN),
    ],
)
def test_refund_query(changes: dict[str, str], status: RefundStatus) -> None:
    fields = {"respCode": "00", "orderId": "R0000001", "txnAmt": "5", **changes}
    answer = refund_query_answer(fields, "R0000001")
    assert answer.status is status
    if status is RefundStatus.SUCCESS:
        assert answer.amount == 5
