"""The refund and show-to-pay machines, and the backoff schedule (pure)."""

from __future__ import annotations

import pytest

from scanpay.i18n import Text
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.order import (
    CREATE_GIVE_UP,
    EXPIRY_GRACE,
    CloseOrder,
    CreateOrder,
    OrderCancel,
    OrderNoAnswer,
    OrderNotFound,
    OrderRecord,
    OrderRecovered,
    OrderRefused,
    OrderReplied,
    OrderState,
    OrderTick,
    PrintOrder,
    QueryOrder,
    WaitOrder,
    advance_order,
    open_order,
)
from scanpay.terminal.refund import (
    RefundNoAnswer,
    RefundNotSent,
    RefundRecord,
    RefundRecovered,
    RefundRefused,
    RefundReplied,
    RefundState,
    RefundTick,
    SendRefund,
    advance_refund,
    open_refund,
)
from scanpay.terminal.sale import (
    CodeScanned,
    CodeSummary,
    Confirmed,
    PaymentReplied,
    RefundApplied,
    Sale,
    Submitted,
    advance,
)

# ------------------------------------------------------------------ backoff


def test_backoff_doubles_caps_and_never_overflows() -> None:
    b = Backoff(1.0, 2.0, 8.0)
    assert [b.delay(i) for i in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert b.delay(10_000) == 8.0
    assert b.delay(-3) == 1.0


def test_backoff_jitter_takes_at_most_its_share() -> None:
    b = Backoff(2.0, 2.0, 60.0, jitter=0.5)
    assert b.delay(1, rand=1.0) == 4.0
    assert b.delay(1, rand=0.0) == 2.0
    assert 2.0 <= b.delay(1, rand=0.3) <= 4.0


@pytest.mark.parametrize("kwargs", [{"first": 0}, {"factor": 0.5}, {"cap": 0.5}, {"jitter": 1.0}])
def test_backoff_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


# ------------------------------------------------------------------ refunds


def paid_sale(amount: int = 1000) -> Sale:
    sale = Sale.open("T1-7", amount, "CNY", operator_id="c01", now=0.0)
    sale = advance(sale, CodeScanned(1, CodeSummary("wallet", "scanpay", "x"))).sale
    sale = advance(sale, Confirmed(2)).sale
    sale = advance(sale, Submitted(3)).sale
    return advance(sale, PaymentReplied(4, "send", "SUCCESS", "00")).sale


def opened(amount: int = 300) -> RefundRecord:
    step = open_refund(
        paid_sale(), "T1-7-R1", amount, operator_id="c01", approved_by="s01", now=10.0
    )
    assert step.commands == (SendRefund("T1-7-R1", 1),)
    return step.refund


def test_open_refund_checks_before_anything_is_written() -> None:
    with pytest.raises(TerminalError) as err:
        open_refund(paid_sale(), "R", 1001, operator_id="c", approved_by="s", now=0)
    assert err.value.code == "refund_too_much"
    with pytest.raises(TerminalError) as err:
        open_refund(paid_sale(), "R", 1, operator_id="c", approved_by="s", now=0, pending=True)
    assert err.value.code == "refund_pending"
    unpaid = Sale.open("T1-8", 5, "CNY", operator_id="c", now=0)
    with pytest.raises(TerminalError) as err:
        open_refund(unpaid, "R", 1, operator_id="c", approved_by="s", now=0)
    assert err.value.code == "not_refundable"
    partly = advance(paid_sale(), RefundApplied(5, 800)).sale
    with pytest.raises(TerminalError) as err:
        open_refund(partly, "R", 201, operator_id="c", approved_by="s", now=0)
    assert err.value.code == "refund_too_much"


@pytest.mark.parametrize(
    ("status", "state"), [("SUCCESS", RefundState.SUCCESS), ("FAILED", RefundState.FAILED)]
)
def test_refund_definite_answers(status: str, state: RefundState) -> None:
    step = advance_refund(opened(), RefundReplied(11.0, status, "00", None, "RF1"))
    assert step.refund.state == state and step.refund.settled and step.refund.refund_id == "RF1"


def test_refund_refused_is_failed() -> None:
    assert advance_refund(opened(), RefundRefused(11.0, "95")).refund.state == RefundState.FAILED


def test_refund_no_answer_is_sent_again_with_backoff_and_same_number() -> None:
    refund = advance_refund(opened(), RefundNoAnswer(11.0, "timeout")).refund
    assert refund.state == RefundState.UNKNOWN and refund.wake_at == 12.0
    assert advance_refund(refund, RefundTick(11.5)).ignored == "nothing due"
    step = advance_refund(refund, RefundTick(12.0))
    assert step.commands == (SendRefund("T1-7-R1", 2),)
    again = advance_refund(step.refund, RefundNoAnswer(13.0, "timeout")).refund
    assert again.wake_at == 15.0  # 2 s after the second try
    weird = advance_refund(opened(), RefundReplied(11.0, "PENDING", "00"))
    assert weird.refund.state == RefundState.UNKNOWN


def test_refund_processing_at_a_network_is_asked_again_until_final() -> None:
    step = advance_refund(opened(), RefundReplied(11.0, "PROCESSING", "09"))
    assert step.refund.state == RefundState.UNKNOWN and not step.refund.settled
    assert step.refund.wake_at is not None and step.refund.wake_at > 11.0
    due = advance_refund(step.refund, RefundTick(step.refund.wake_at))
    assert due.commands == (SendRefund("T1-7-R1", 2),)  # the same number again
    done = advance_refund(due.refund, RefundReplied(30.0, "SUCCESS", "00", None, "RF1"))
    assert done.refund.state == RefundState.SUCCESS and done.refund.refund_id == "RF1"


def test_refund_recovered_sends_again_and_settled_ignores_all() -> None:
    refund = advance_refund(opened(), RefundRecovered(50.0)).refund
    assert advance_refund(refund, RefundTick(50.0)).commands == (SendRefund("T1-7-R1", 2),)
    done = advance_refund(opened(), RefundReplied(11.0, "SUCCESS", "00")).refund
    assert advance_refund(done, RefundNoAnswer(12.0, "x")).ignored
    assert RefundRecord.from_dict(done.to_dict()) == done


NOT_TRUSTED = Text("证书不受信任", "certificate not trusted")


def test_refund_whose_first_send_never_left_fails_with_the_reason() -> None:
    """Certificate (or connection) refused before the first byte: the host has no trace
    of the refund, so it is not in doubt - FAILED at once, nothing sent again."""
    step = advance_refund(opened(), RefundNotSent(11.0, "host_untrusted", NOT_TRUSTED))
    refund = step.refund
    assert refund.state == RefundState.FAILED and refund.settled
    assert refund.result is not None
    assert (refund.result.code, refund.result.status) == ("host_untrusted", None)
    assert refund.result.message == NOT_TRUSTED
    assert refund.finished_at == 11.0 and refund.wake_at is None
    assert step.commands == ()
    assert advance_refund(refund, RefundTick(100.0)).ignored  # no retry loop
    assert RefundRecord.from_dict(refund.to_dict()) == refund


def test_refund_resend_or_recovered_send_not_sent_stays_in_doubt() -> None:
    """After a send that may have reached the host, a send not sent says nothing about
    it: the refund keeps being sent (same number) until the host answers."""
    lost = advance_refund(opened(), RefundNoAnswer(11.0, "timeout")).refund
    resend = advance_refund(lost, RefundTick(12.0)).refund
    after = advance_refund(resend, RefundNotSent(12.5, "host_pin_mismatch")).refund
    assert after.state == RefundState.UNKNOWN and after.wake_at is not None
    assert advance_refund(after, RefundTick(after.wake_at)).commands == (SendRefund("T1-7-R1", 3),)
    # Journaled PENDING before a crash: the first send may have left before it.
    recovered = advance_refund(opened(), RefundRecovered(50.0)).refund
    resent = advance_refund(recovered, RefundTick(50.0)).refund
    again = advance_refund(resent, RefundNotSent(50.5, "host_connection_refused")).refund
    assert again.state == RefundState.UNKNOWN and not again.settled


# ------------------------------------------------------------------- orders


def order() -> OrderRecord:
    step = open_order("T1-O1", 500, "CNY", operator_id="c01", now=0.0, expires_in=60)
    assert step.commands == (CreateOrder("T1-O1"),)
    return step.order


def shown() -> OrderRecord:
    step = advance_order(order(), OrderReplied(1.0, "CREATED", "000201...", "O1", 61.0))
    assert step.commands == (WaitOrder("T1-O1"),)
    return step.order


def test_order_created_is_shown_with_payload() -> None:
    o = shown()
    assert o.state == OrderState.SHOWN and o.payload == "000201..." and o.expires_at == 61.0


@pytest.mark.parametrize(
    ("status", "state"),
    [("PAID", OrderState.PAID), ("EXPIRED", OrderState.EXPIRED), ("CLOSED", OrderState.CLOSED)],
)
def test_order_outcomes(status: str, state: OrderState) -> None:
    step = advance_order(shown(), OrderReplied(5.0, status, payer="a****1"))
    assert step.order.state == state
    assert step.commands == ((PrintOrder("T1-O1"),) if state == OrderState.PAID else ())


def test_order_long_poll_that_times_out_waits_again() -> None:
    step = advance_order(shown(), OrderReplied(26.0, "CREATED"))
    assert step.commands == (WaitOrder("T1-O1"),) and step.order.state == OrderState.SHOWN


def test_order_create_refused_fails_and_lost_create_is_looked_up_first() -> None:
    assert advance_order(order(), OrderRefused(1.0, "13")).order.state == OrderState.FAILED
    lost = advance_order(order(), OrderNoAnswer(1.0, "timeout")).order
    assert lost.state == OrderState.CREATING and lost.wake_at == 2.0
    step = advance_order(lost, OrderTick(2.0))
    assert step.commands == (QueryOrder("T1-O1"),)
    again = advance_order(step.order, OrderNotFound(2.1))
    assert again.commands == (CreateOrder("T1-O1"),)


def test_order_that_cannot_be_created_is_closed_after_a_while() -> None:
    lost = advance_order(order(), OrderNoAnswer(1.0, "timeout")).order
    step = advance_order(lost, OrderTick(CREATE_GIVE_UP))
    assert step.order.state == OrderState.CLOSING and step.commands == (CloseOrder("T1-O1"),)


def test_order_silent_past_expiry_is_closed() -> None:
    o = advance_order(shown(), OrderNoAnswer(30.0, "timeout")).order
    assert advance_order(o, OrderTick(61.0 + EXPIRY_GRACE - 1)).commands in (
        (),
        (WaitOrder("T1-O1"),),
    )
    step = advance_order(o, OrderTick(61.0 + EXPIRY_GRACE))
    assert step.order.state == OrderState.CLOSING


def test_order_cancel_closes_and_close_may_find_it_paid() -> None:
    step = advance_order(shown(), OrderCancel(10.0))
    assert step.order.state == OrderState.CLOSING and step.commands == (CloseOrder("T1-O1"),)
    assert advance_order(step.order, OrderCancel(10.5)).ignored == "already closing"
    assert advance_order(step.order, OrderReplied(11.0, "CREATED")).ignored
    assert advance_order(step.order, OrderReplied(11.0, "CLOSED")).order.state == OrderState.CLOSED
    assert advance_order(step.order, OrderReplied(11.0, "PAID")).order.state == OrderState.PAID
    closing = advance_order(step.order, OrderNoAnswer(11.0, "timeout")).order
    assert advance_order(closing, OrderTick(13.0)).commands == (CloseOrder("T1-O1"),)
    assert advance_order(step.order, OrderNotFound(11.0)).order.state == OrderState.CLOSED


def test_order_recovery_and_round_trip() -> None:
    o = advance_order(shown(), OrderRecovered(20.0)).order
    assert o.wake_at == 20.0
    assert advance_order(o, OrderTick(20.0)).commands == (WaitOrder("T1-O1"),)
    # Recovered long after the expiry: closed rather than waited on.
    late = advance_order(shown(), OrderRecovered(100.0)).order
    assert advance_order(late, OrderTick(100.0)).commands == (CloseOrder("T1-O1"),)
    assert OrderRecord.from_dict(o.to_dict()) == o
    final = advance_order(shown(), OrderReplied(5.0, "PAID")).order
    assert advance_order(final, OrderCancel(6.0)).ignored


def test_order_create_refused_for_its_nonce_is_looked_up_not_failed() -> None:
    # A duplicated create may have made the order on the host: the copy's refusal
    # for a replayed nonce must lead to a query, never to FAILED.
    for field in ("X-Scanpay-Nonce", "X-Scanpay-Timestamp"):
        step = advance_order(order(), OrderRefused(1.0, "63", field))
        assert step.order.state == OrderState.CREATING
        assert advance_order(step.order, OrderTick(5.0)).commands == (QueryOrder("T1-O1"),)
    assert advance_order(order(), OrderRefused(1.0, "63", "X-Scanpay-Signature")).order.state == (
        OrderState.FAILED
    )
