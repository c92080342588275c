"""Pure: an order's state in words, and refunds made elsewhere in the totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from scanpay.terminal.labels import ORDER_STATE_LABELS
from scanpay.terminal.order import OrderState
from scanpay.terminal.refund import OutsideRefund
from scanpay.terminal.sale import Sale, SaleState
from scanpay.terminal.totals import day_totals


def test_no_raw_state_reaches_people() -> None:
    assert set(ORDER_STATE_LABELS) == set(OrderState)
    assert all("_" not in label.en for label in ORDER_STATE_LABELS.values())


def _at(hour: int) -> float:
    return datetime(2026, 3, 14, hour, tzinfo=UTC).timestamp()


def test_refunds_made_elsewhere_count_on_their_own_day() -> None:
    sale = Sale.open("T1", 1234, "CNY", operator_id="c01", now=_at(1))
    approved = _approved(sale)
    outside = [
        OutsideRefund("PR1", "T1", 800, "CNY", _at(2)),
        OutsideRefund("PR2", "T1", 100, "CNY", _at(2) + 86_400),  # the next day
        OutsideRefund("PR3", "T1", 50, "CNY", _at(3), training=True),  # never counted
    ]
    totals = day_totals(date(2026, 3, 14), "CNY", [approved], [], UTC, outside)
    assert (totals.count, totals.total, totals.refund_count, totals.refund_total) == (
        1,
        1234,
        1,
        800,
    )
    assert totals.net == 434
    assert [(line.out_trade_no, line.kind, line.amount) for line in totals.lines] == [
        ("T1", "payment", 1234),
        ("PR1", "refund", 800),
    ]


def _approved(sale: Sale) -> Sale:
    return replace(sale, state=SaleState.APPROVED, submitted_at=sale.created_at, wallet="scanpay")
