"""Order states and QR payloads, refund rules, batch comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanpay.codes import SCANPAY_GUI, parse_mpm, parse_payment_code
from scanpay.host.domain.batch import BatchLine, BatchTotals, compare_batch
from scanpay.host.domain.orders import (
    Close,
    Expire,
    IllegalOrderTransition,
    OrderEffect,
    OrderState,
    Pay,
    is_due,
    order_payload,
    order_transition,
)
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.refunds import RefundPlan, RefundRefusal, plan_refund, refundable

OS = OrderState


@pytest.mark.parametrize(
    ("state", "event", "after", "code", "effect"),
    [
        (OS.CREATED, Pay(), OS.PAID, "00", OrderEffect.CAPTURE),
        (OS.CREATED, Expire(), OS.EXPIRED, "12", OrderEffect.NONE),
        (OS.CREATED, Close(), OS.CLOSED, "12", OrderEffect.NONE),
        (OS.EXPIRED, Close(), OS.CLOSED, "12", OrderEffect.NONE),
        (OS.CLOSED, Close(), OS.CLOSED, "12", OrderEffect.NONE),
        (OS.PAID, Close(), OS.PAID, "00", OrderEffect.NONE),
        (OS.PAID, Expire(), OS.PAID, "12", OrderEffect.NONE),
        (OS.EXPIRED, Pay(), OS.EXPIRED, "12", OrderEffect.CAPTURE_AND_REFUND),
        (OS.CLOSED, Pay(), OS.CLOSED, "12", OrderEffect.CAPTURE_AND_REFUND),
    ],
)
def test_order_transitions(
    state: OrderState, event: object, after: OrderState, code: str, effect: OrderEffect
) -> None:
    step = order_transition(state, event)  # type: ignore[arg-type]
    assert (step.state, step.code, step.effect) == (after, code, effect)


def test_a_paid_order_takes_no_second_payment() -> None:
    with pytest.raises(IllegalOrderTransition) as caught:
        order_transition(OS.PAID, Pay())
    assert caught.value.code == "12"


def test_only_a_created_order_falls_due() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert is_due(OS.CREATED, now, now)
    assert not is_due(OS.CREATED, now + timedelta(seconds=1), now)
    assert not is_due(OS.PAID, now - timedelta(days=1), now)


def test_the_order_payload_carries_everything_and_parses_back() -> None:
    payload = order_payload(
        payee="M000007",
        reference="O0123456789ABCDEF",
        merchant_name="Best Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
        amount=1234,
    )
    code = parse_payment_code(payload)
    assert code.kind == "emv_mpm"
    assert (code.amount, code.currency_alpha, code.is_dynamic) == (1234, "CNY", True)
    assert (code.merchant_name, code.merchant_city, code.mcc, code.country) == (
        "Best Shop",
        "Shanghai",
        "5411",
        "CN",
    )
    account = code.merchant_accounts[0]
    assert (account.id, account.gui, account.scheme, account.payee) == (
        "26",
        SCANPAY_GUI,
        "scanpay",
        "M000007",
    )
    assert code.additional_data is not None
    assert code.additional_data.reference_label == "O0123456789ABCDEF"
    assert parse_mpm(payload).encode() == payload and code.warnings == ()


P = PaymentState


@pytest.mark.parametrize(
    ("state", "paid", "refunded", "amount", "expected"),
    [
        (P.SUCCESS, 1000, 0, 400, RefundPlan(P.PARTIALLY_REFUNDED, 400)),
        (P.SUCCESS, 1000, 0, 1000, RefundPlan(P.REFUNDED, 1000)),
        (P.PARTIALLY_REFUNDED, 1000, 400, 600, RefundPlan(P.REFUNDED, 1000)),
        (P.PARTIALLY_REFUNDED, 1000, 400, 601, RefundRefusal("13", "exceeds_paid")),
        (P.REFUNDED, 1000, 1000, 1, RefundRefusal("13", "exceeds_paid")),
        (P.SUCCESS, 1000, 0, 0, RefundRefusal("13", "bad_amount")),
        (P.REVERSED, 1000, 0, 100, RefundRefusal("12", "not_refundable")),
        (P.FAILED, 1000, 0, 100, RefundRefusal("12", "not_refundable")),
        (P.USER_PAYING, 1000, 0, 100, RefundRefusal("12", "not_refundable")),
    ],
)
def test_refund_rules(
    state: PaymentState, paid: int, refunded: int, amount: int, expected: object
) -> None:
    assert plan_refund(state, paid, refunded, amount) == expected


def test_refusals_say_whether_they_are_stored() -> None:
    assert RefundRefusal("12", "not_refundable").stored
    assert not RefundRefusal("13", "exceeds_paid").stored
    assert refundable(P.PARTIALLY_REFUNDED, 1000, 250) == 750
    assert refundable(P.REVERSED, 1000, 0) == 0


HOST = [
    BatchLine("S-1", "payment", "SUCCESS", 1000),
    BatchLine("S-2", "payment", "PARTIALLY_REFUNDED", 500),
    BatchLine("S-2-R1", "refund", "SUCCESS", 200),
]


def test_a_matching_batch() -> None:
    totals = BatchTotals(2, 1500, 1, 200)
    assert BatchTotals.from_lines(HOST) == totals
    result = compare_batch(totals, list(HOST), HOST)
    assert (result.matched, result.differences, result.host) == (True, (), totals)
    assert compare_batch(totals, None, HOST).matched  # totals only


def test_differences_are_named_by_trade_number() -> None:
    terminal = [
        BatchLine("S-1", "payment", "SUCCESS", 1001),  # amount differs
        BatchLine("S-3", "payment", "SUCCESS", 700),  # the host never had it
        BatchLine("S-2-R1", "refund", "SUCCESS", 200),
    ]  # and S-2 is missing on the terminal
    result = compare_batch(BatchTotals(2, 1701, 1, 200), terminal, HOST)
    assert not result.matched
    assert [(d.out_trade_no, d.kind, d.terminal, d.host) for d in result.differences] == [
        ("S-1", "payment", "SUCCESS 1001", "SUCCESS 1000"),
        ("S-2", "payment", None, "PARTIALLY_REFUNDED 500"),
        ("S-3", "payment", "SUCCESS 700", None),
    ]
    # Totals alone can disagree too, with nothing to name.
    totals_only = compare_batch(BatchTotals(3, 1500, 1, 200), None, HOST)
    assert (totals_only.matched, totals_only.differences) == (False, ())
