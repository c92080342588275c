"""Pure: a day-close difference as a sentence, and refunds made elsewhere in the totals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from scanpay.i18n import Text
from scanpay.terminal.labels import ORDER_STATE_LABELS, describe_difference, status_label
from scanpay.terminal.order import OrderState
from scanpay.terminal.refund import OutsideRefund
from scanpay.terminal.sale import Sale, SaleState
from scanpay.terminal.totals import day_totals


@pytest.mark.parametrize(
    ("diff", "en", "zh"),
    [
        (
            {"out_trade_no": "T1", "kind": "payment", "terminal": "SUCCESS 1234",
             "host": "SUCCESS 1000"},
            "Payment T1: CNY 12.34 on this terminal, CNY 10.00 on the host",
            "付款 T1：本终端记 CNY 12.34，主机记 CNY 10.00",
        ),
        (
            {"out_trade_no": "T2", "kind": "payment", "terminal": "SUCCESS 500", "host": None,
             "terminal_status": "SUCCESS", "terminal_amount": 500},
            "Payment T2: this terminal has CNY 5.00 (paid); the host has no record",
            "付款 T2：本终端有 CNY 5.00（已支付），主机没有记录",
        ),
        (
            {"out_trade_no": "PR1", "kind": "refund", "terminal": None, "host": "SUCCESS 800",
             "host_status": "SUCCESS", "host_amount": 800},
            "Refund PR1: the host has CNY 8.00 (refunded); this terminal has no record",
            "退款 PR1：主机有 CNY 8.00（已退款），本终端没有记录",
        ),
        (
            {"out_trade_no": "T3", "kind": "payment", "terminal": "SUCCESS 700",
             "host": "FAILED 700"},
            "Payment T3 (CNY 7.00): paid on this terminal, declined on the host",
            "付款 T3（CNY 7.00）：本终端为“已支付”，主机为“失败”",
        ),
    ],
)  # fmt: skip
def test_a_difference_is_a_sentence(diff: dict[str, object], en: str, zh: str) -> None:
    said = describe_difference(diff, "CNY")
    assert (said.en, said.zh_cn) == (en, zh)
    assert "{" not in said.en and "SUCCESS" not in said.en


def test_no_raw_status_or_state_reaches_people() -> None:
    assert status_label("SOMETHING_NEW") == Text("状态未知", "in an unknown state")
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
