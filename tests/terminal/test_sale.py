"""The pure sale state machine: every transition, the races, and its invariants."""

from __future__ import annotations

import pytest

from scanpay.i18n import Text
from scanpay.money import MoneyError
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.sale import (
    FINAL_STATES,
    IN_DOUBT_STATES,
    CancelRequested,
    CodeScanned,
    CodeSummary,
    Confirmed,
    NoAnswer,
    NotFound,
    PaymentReplied,
    Print,
    Query,
    Recovered,
    RefundApplied,
    Refused,
    RescanRequested,
    ReversalAcknowledged,
    ReversalReason,
    Reverse,
    Sale,
    SaleError,
    SaleState,
    Send,
    Show,
    Submitted,
    Tick,
    Timings,
    advance,
    agrees_with_host,
)

T = Timings(
    unknown_deadline=45.0,
    customer_deadline=40.0,
    poll_interval=3.0,
    query_backoff=Backoff(1.0, 2.0, 8.0),
    max_sends=3,
)
WALLET = CodeSummary("wallet", "scanpay", "scanpay 881234********5678")
T0 = 1_000.0


def new_sale(**kw: object) -> Sale:
    return Sale.open("T1-0001", 1234, "CNY", operator_id="c01", now=T0, **kw)  # type: ignore[arg-type]


def step(sale: Sale, event: object) -> Sale:
    return advance(sale, event, T).sale  # type: ignore[arg-type]


def code_read() -> Sale:
    return step(new_sale(), CodeScanned(T0 + 1, WALLET))


def confirmed() -> Sale:
    return step(code_read(), Confirmed(T0 + 2))


def submitted() -> Sale:
    return step(confirmed(), Submitted(T0 + 3))


def paid(status: str = "SUCCESS", code: str = "00", now: float = T0 + 4) -> PaymentReplied:
    return PaymentReplied(
        now, "send", status, code, Text("好", "ok"), "P1", "scanpay", "881234****5678", "2026-01-01"
    )


def unknown() -> Sale:
    return step(submitted(), NoAnswer(T0 + 5, "send", "timeout"))


def user_paying() -> Sale:
    return step(submitted(), paid("USER_PAYING", "09", T0 + 4))


def reversing(reason: str = "timeout") -> Sale:
    if reason == "timeout":
        return step(submitted(), Tick(T0 + 3 + 45))
    if reason == "customer_timeout":
        return step(user_paying(), Tick(T0 + 3 + 40))
    return step(user_paying(), CancelRequested(T0 + 10))


def approved() -> Sale:
    return step(submitted(), paid())


def kinds(commands: tuple[object, ...]) -> list[type]:
    return [type(c) for c in commands]


# ------------------------------------------------------------------ opening


def test_open_sale_is_new_with_canonical_currency() -> None:
    sale = Sale.open("T1-9", 5, "cny", operator_id="c01", now=T0, training=True, note="x")
    assert (sale.state, sale.currency, sale.training, sale.version) == (
        SaleState.NEW,
        "CNY",
        True,
        0,
    )


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_open_refuses_bad_amounts(amount: object) -> None:
    with pytest.raises(SaleError) as err:
        Sale.open("T1", amount, "CNY", operator_id="c", now=T0)  # type: ignore[arg-type]
    assert err.value.code == "bad_amount"


def test_open_refuses_unknown_currency() -> None:
    with pytest.raises(MoneyError):
        Sale.open("T1", 1, "XXX", operator_id="c", now=T0)


# ---------------------------------------------------------------- NEW / CODE_READ


def test_new_scan_reads_code_and_shows() -> None:
    s = advance(new_sale(), CodeScanned(T0 + 1, WALLET), T)
    assert s.sale.state == SaleState.CODE_READ
    assert s.sale.code == WALLET
    assert s.commands == (Show("T1-0001", SaleState.CODE_READ),)


def test_new_refuses_merchant_presented_code() -> None:
    mpm = CodeSummary("emv_mpm", "pix", "pix / Shop")
    with pytest.raises(SaleError) as err:
        advance(new_sale(), CodeScanned(T0, mpm), T)
    assert err.value.code == "merchant_code"


@pytest.mark.parametrize("event", [Confirmed(T0), Submitted(T0), RescanRequested(T0)])
def test_new_refuses_actions_out_of_order(event: object) -> None:
    with pytest.raises(SaleError) as err:
        advance(new_sale(), event, T)  # type: ignore[arg-type]
    assert err.value.code == "action_not_allowed"


def test_new_cancel_is_final_and_never_sent() -> None:
    sale = step(new_sale(), CancelRequested(T0 + 1))
    assert sale.state == SaleState.CANCELLED and sale.submitted_at is None
    assert agrees_with_host(sale, None)
    assert not agrees_with_host(sale, "SUCCESS")


@pytest.mark.parametrize(
    "event",
    [
        Tick(T0 + 100),
        paid(),
        NoAnswer(T0, "query", "x"),
        NotFound(T0, True),
        Refused(T0, "send", "63"),
        ReversalAcknowledged(T0, "REVERSED", "00"),
        RefundApplied(T0, 5),
    ],
)
def test_new_ignores_host_events_and_ticks(event: object) -> None:
    result = advance(new_sale(), event, T)  # type: ignore[arg-type]
    assert result.ignored and result.sale == new_sale() and result.commands == ()


def test_code_read_scan_again_replaces_code() -> None:
    other = CodeSummary("emv_cpm", "unionpay", "cpm A000000333010102 621234*********4567")
    sale = step(code_read(), CodeScanned(T0 + 2, other))
    assert sale.state == SaleState.CODE_READ and sale.code == other


def test_code_read_rescan_drops_code() -> None:
    sale = step(code_read(), RescanRequested(T0 + 2))
    assert sale.state == SaleState.NEW and sale.code is None


def test_code_read_confirm_and_cancel() -> None:
    assert step(code_read(), Confirmed(T0 + 2)).state == SaleState.CONFIRMED
    assert step(code_read(), CancelRequested(T0 + 2)).state == SaleState.CANCELLED


def test_code_read_recovered_goes_back_to_new_because_the_code_was_in_memory() -> None:
    sale = step(code_read(), Recovered(T0 + 9))
    assert sale.state == SaleState.NEW and sale.code is None


# ------------------------------------------------------------------ CONFIRMED


def test_submit_sends_once_and_sets_deadlines() -> None:
    s = advance(confirmed(), Submitted(T0 + 3), T)
    assert s.sale.state == SaleState.SUBMITTED
    assert s.commands[0] == Send("T1-0001", 1)
    assert s.sale.deadline_at == T0 + 3 + 45
    assert s.sale.customer_deadline_at == T0 + 3 + 40
    assert s.sale.wake_at == s.sale.deadline_at and s.sale.in_flight == "send"


def test_confirmed_cancel_rescan_and_recover() -> None:
    assert step(confirmed(), CancelRequested(T0 + 3)).state == SaleState.CANCELLED
    assert step(confirmed(), RescanRequested(T0 + 3)).state == SaleState.NEW
    recovered = step(confirmed(), Recovered(T0 + 3))
    # SUBMITTED is journaled before the first byte: CONFIRMED was never sent.
    assert recovered.state == SaleState.CANCELLED and recovered.submitted_at is None


def test_confirm_twice_is_refused() -> None:
    with pytest.raises(SaleError):
        advance(confirmed(), Confirmed(T0 + 3), T)


# ------------------------------------------------------------------ SUBMITTED


def test_submitted_success_approves_prints_and_keeps_host_facts() -> None:
    s = advance(submitted(), paid(), T)
    assert s.sale.state == SaleState.APPROVED
    assert kinds(s.commands) == [Print, Show]
    assert (s.sale.payment_id, s.sale.wallet, s.sale.paid_at) == ("P1", "scanpay", "2026-01-01")
    assert s.sale.result is not None and s.sale.result.code == "00"
    assert s.sale.finished_at == T0 + 4 and s.sale.wake_at is None
    assert agrees_with_host(s.sale, "SUCCESS") and not agrees_with_host(s.sale, "REVERSED")


def test_submitted_user_paying_polls_after_interval() -> None:
    sale = user_paying()
    assert sale.state == SaleState.USER_PAYING
    assert sale.wake_at == T0 + 4 + 3 and sale.in_flight is None


@pytest.mark.parametrize("code", ["14", "51", "54", "57", "75", "12"])
def test_submitted_failed_declines_with_code(code: str) -> None:
    s = advance(submitted(), paid("FAILED", code), T)
    assert s.sale.state == SaleState.DECLINED
    assert s.sale.result is not None and s.sale.result.code == code
    assert kinds(s.commands) == [Show]  # a decline never prints by itself
    assert agrees_with_host(s.sale, "FAILED") and agrees_with_host(s.sale, None)


def test_submitted_reversed_by_tombstone_is_reversed() -> None:
    sale = step(submitted(), paid("REVERSED", "12"))
    assert sale.state == SaleState.REVERSED and agrees_with_host(sale, "REVERSED")


@pytest.mark.parametrize("status", ["REFUNDED", "PARTIALLY_REFUNDED"])
def test_submitted_already_refunded(status: str) -> None:
    event = PaymentReplied(T0 + 4, "query", status, "00", None, "P1", refunded_amount=1234)
    sale = step(submitted(), event)
    assert sale.state == SaleState(status) and sale.refunded_amount == 1234


def test_submitted_refused_is_definite_decline() -> None:
    sale = step(submitted(), Refused(T0 + 4, "send", "63", Text("安全", "security")))
    assert sale.state == SaleState.DECLINED
    assert sale.result is not None and sale.result.code == "63" and sale.result.status is None


@pytest.mark.parametrize("field", ["X-Scanpay-Nonce", "X-Scanpay-Timestamp"])
def test_race_send_refused_as_replay_is_not_a_decline(field: str) -> None:
    # A duplicating network delivered a copy first; the host accepted the copy and
    # refused the original as a replay. The payment may exist: ask, never decline.
    s = advance(submitted(), Refused(T0 + 4, "send", "63", None, field), T)
    assert s.sale.state == SaleState.UNKNOWN and s.sale.wake_at == T0 + 5
    found = step(step(s.sale, Tick(T0 + 5)), PaymentReplied(T0 + 5.1, "query", "SUCCESS", "00"))
    assert found.state == SaleState.APPROVED


def test_send_refused_for_the_signature_is_definite() -> None:
    sale = step(submitted(), Refused(T0 + 4, "send", "63", None, "X-Scanpay-Signature"))
    assert sale.state == SaleState.DECLINED


def test_submitted_no_answer_goes_unknown_with_first_backoff() -> None:
    sale = unknown()
    assert sale.state == SaleState.UNKNOWN
    assert sale.wake_at == T0 + 5 + 1.0 and sale.queries == 1 and sale.in_flight is None


def test_submitted_no_answer_after_deadline_reverses() -> None:
    s = advance(submitted(), NoAnswer(T0 + 3 + 46, "send", "timeout"), T)
    assert s.sale.state == SaleState.REVERSING
    assert s.commands[0] == Reverse("T1-0001", ReversalReason.TIMEOUT)


def test_submitted_unknown_status_is_no_answer() -> None:
    sale = step(submitted(), paid("WEIRD", "00"))
    assert sale.state == SaleState.UNKNOWN


def test_submitted_tick_before_deadline_is_ignored_and_at_deadline_reverses() -> None:
    assert advance(submitted(), Tick(T0 + 3 + 44.9), T).ignored == "nothing due"
    s = advance(submitted(), Tick(T0 + 3 + 45), T)
    assert s.sale.state == SaleState.REVERSING
    assert kinds(s.commands) == [Reverse, Show]


def test_submitted_cancel_reverses() -> None:
    s = advance(submitted(), CancelRequested(T0 + 4), T)
    assert s.sale.state == SaleState.REVERSING
    assert s.commands[0] == Reverse("T1-0001", ReversalReason.CASHIER_CANCEL)


def test_submitted_recovered_queries_at_once() -> None:
    sale = step(submitted(), Recovered(T0 + 30))
    assert sale.state == SaleState.UNKNOWN and sale.wake_at == T0 + 30 and sale.in_flight is None
    s = advance(sale, Tick(T0 + 30), T)
    assert s.commands == (Query("T1-0001", "unknown"),)


# -------------------------------------------------------------------- UNKNOWN


def test_unknown_tick_before_wake_is_ignored_then_queries() -> None:
    sale = unknown()
    assert advance(sale, Tick(T0 + 5.5), T).ignored == "nothing due"
    s = advance(sale, Tick(T0 + 6), T)
    assert s.commands == (Query("T1-0001", "unknown"),)
    assert s.sale.in_flight == "query" and s.sale.wake_at == sale.deadline_at
    # A query in flight is not sent twice.
    assert advance(s.sale, Tick(T0 + 7), T).ignored == "nothing due"


def test_unknown_backoff_doubles_and_is_capped_and_clipped_to_deadline() -> None:
    sale = unknown()
    waits = []
    now = T0 + 5
    for _ in range(6):
        now = sale.wake_at or now
        sale = step(sale, Tick(now))
        sale = step(sale, NoAnswer(now, "query", "timeout"))
        waits.append(round((sale.wake_at or 0) - now, 3))
    assert waits == [2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    late = step(unknown(), NoAnswer(T0 + 3 + 44.5, "query", "timeout"))
    assert late.wake_at == T0 + 3 + 45  # never past the deadline


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("SUCCESS", SaleState.APPROVED),
        ("FAILED", SaleState.DECLINED),
        ("USER_PAYING", SaleState.USER_PAYING),
    ],
)
def test_unknown_resolved_by_query(status: str, state: SaleState) -> None:
    event = PaymentReplied(T0 + 7, "query", status, "00" if status != "FAILED" else "51")
    assert step(unknown(), event).state == state


def test_unknown_not_found_resends_same_request_while_code_in_memory() -> None:
    s = advance(unknown(), NotFound(T0 + 7, can_resend=True), T)
    assert s.sale.state == SaleState.UNKNOWN
    assert s.commands == (Send("T1-0001", 2),)
    assert s.sale.sends == 2 and s.sale.in_flight == "send"


def test_unknown_not_found_without_code_reverses_to_leave_a_tombstone() -> None:
    s = advance(unknown(), NotFound(T0 + 7, can_resend=False), T)
    assert s.sale.state == SaleState.REVERSING
    assert s.commands[0] == Reverse("T1-0001", ReversalReason.NOT_FOUND)
    final = step(s.sale, ReversalAcknowledged(T0 + 8, "REVERSED", "00"))
    assert final.state == SaleState.REVERSED


def test_unknown_not_found_after_max_sends_reverses() -> None:
    sale = unknown()
    sale = step(sale, NotFound(T0 + 7, True))  # send 2
    sale = step(sale, NoAnswer(T0 + 8, "send", "timeout"))
    sale = step(sale, NotFound(T0 + 10, True))  # send 3
    assert sale.sends == 3
    sale = step(sale, NoAnswer(T0 + 11, "send", "timeout"))
    s = advance(sale, NotFound(T0 + 13, True), T)
    assert s.sale.state == SaleState.REVERSING
    assert s.commands[0] == Reverse("T1-0001", ReversalReason.NOT_FOUND)


def test_unknown_not_found_past_deadline_reverses_for_timeout() -> None:
    sale = step(unknown(), NotFound(T0 + 3 + 45, True))
    assert sale.state == SaleState.REVERSING and sale.reversal_reason == ReversalReason.TIMEOUT


def test_unknown_refused_query_keeps_asking_but_refused_resend_declines() -> None:
    sale = step(unknown(), Refused(T0 + 7, "query", "63"))
    assert sale.state == SaleState.UNKNOWN and sale.queries == 2
    resend = step(unknown(), NotFound(T0 + 7, True))
    assert step(resend, Refused(T0 + 8, "send", "95")).state == SaleState.DECLINED


def test_unknown_tick_at_deadline_reverses_and_cancel_reverses() -> None:
    assert step(unknown(), Tick(T0 + 48)).state == SaleState.REVERSING
    sale = step(unknown(), CancelRequested(T0 + 6))
    assert sale.reversal_reason == ReversalReason.CASHIER_CANCEL


def test_unknown_recovered_queries_at_once() -> None:
    sale = step(unknown(), Recovered(T0 + 20))
    assert sale.state == SaleState.UNKNOWN and sale.wake_at == T0 + 20


# ----------------------------------------------------------------- USER_PAYING


def test_user_paying_polls_on_tick_and_not_twice() -> None:
    sale = user_paying()
    assert advance(sale, Tick(T0 + 6), T).ignored == "nothing due"
    s = advance(sale, Tick(T0 + 7), T)
    assert s.commands == (Query("T1-0001", "user_paying"),)
    assert advance(s.sale, Tick(T0 + 8), T).ignored == "nothing due"


def test_user_paying_still_waiting_polls_again() -> None:
    sale = step(step(user_paying(), Tick(T0 + 7)), paid("USER_PAYING", "09", T0 + 7.2))
    assert sale.state == SaleState.USER_PAYING and sale.wake_at == pytest.approx(T0 + 10.2)


def test_user_paying_wrong_pin_reply_keeps_waiting() -> None:
    sale = step(user_paying(), paid("USER_PAYING", "55", T0 + 8))
    assert sale.state == SaleState.USER_PAYING
    assert sale.result is not None and sale.result.code == "55"


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [("SUCCESS", "00", SaleState.APPROVED), ("FAILED", "75", SaleState.DECLINED)],
)
def test_user_paying_confirmed_or_locked(status: str, code: str, state: SaleState) -> None:
    assert step(user_paying(), paid(status, code, T0 + 9)).state == state


def test_user_paying_poll_failures_keep_polling() -> None:
    sale = step(user_paying(), NoAnswer(T0 + 8, "query", "timeout"))
    assert sale.state == SaleState.USER_PAYING and sale.wake_at == T0 + 11
    sale = step(user_paying(), NotFound(T0 + 8, True))
    assert sale.state == SaleState.USER_PAYING


def test_user_paying_deadline_cancels_through_reversal() -> None:
    s = advance(user_paying(), Tick(T0 + 3 + 40), T)
    assert s.sale.state == SaleState.REVERSING
    assert s.commands[0] == Reverse("T1-0001", ReversalReason.CUSTOMER_TIMEOUT)
    final = step(s.sale, ReversalAcknowledged(T0 + 44, "REVERSED", "00"))
    assert final.state == SaleState.CANCELLED
    assert agrees_with_host(final, "REVERSED") and not agrees_with_host(final, "SUCCESS")


def test_user_paying_reply_after_deadline_cancels() -> None:
    assert step(user_paying(), paid("USER_PAYING", "09", T0 + 50)).state == SaleState.REVERSING
    assert step(user_paying(), NoAnswer(T0 + 50, "query", "x")).state == SaleState.REVERSING


def test_user_paying_cashier_cancel() -> None:
    sale = reversing("cashier_cancel")
    assert sale.reversal_reason == ReversalReason.CASHIER_CANCEL
    assert step(sale, ReversalAcknowledged(T0 + 11, "REVERSED", "00")).state == SaleState.CANCELLED


def test_user_paying_recovered_polls_at_once() -> None:
    sale = step(user_paying(), Recovered(T0 + 20))
    assert sale.state == SaleState.USER_PAYING and sale.wake_at == T0 + 20


# ------------------------------------------------------------------ REVERSING


@pytest.mark.parametrize(
    ("reason", "final"),
    [
        ("timeout", SaleState.REVERSED),
        ("customer_timeout", SaleState.CANCELLED),
        ("cashier_cancel", SaleState.CANCELLED),
    ],
)
def test_reversal_acknowledged(reason: str, final: SaleState) -> None:
    s = advance(reversing(reason), ReversalAcknowledged(T0 + 60, "REVERSED", "00"), T)
    assert s.sale.state == final and s.sale.finished_at == T0 + 60
    assert kinds(s.commands) == [Show]


def test_reversal_acknowledged_as_failed_means_nothing_was_taken() -> None:
    sale = step(reversing(), ReversalAcknowledged(T0 + 60, "FAILED", "51"))
    assert sale.state == SaleState.REVERSED and agrees_with_host(sale, "FAILED")


@pytest.mark.parametrize(
    "event",
    [
        paid("SUCCESS", "00", T0 + 50),
        NoAnswer(T0 + 50, "query", "x"),
        NotFound(T0 + 50, True),
        Refused(T0 + 50, "send", "63"),
        Tick(T0 + 10_000),
        RefundApplied(T0 + 50, 100),
    ],
)
def test_reversing_ignores_everything_but_the_acknowledgement(event: object) -> None:
    sale = reversing()
    s = advance(sale, event, T)  # type: ignore[arg-type]
    assert s.ignored and s.sale == sale and s.commands == ()


def test_reversing_refuses_cashier_actions_and_recovery_requeues() -> None:
    with pytest.raises(SaleError):
        advance(reversing(), CancelRequested(T0 + 50), T)
    s = advance(reversing(), Recovered(T0 + 500), T)
    assert s.commands == (Reverse("T1-0001", ReversalReason.TIMEOUT),)
    assert s.sale.state == SaleState.REVERSING


# ------------------------------------------------------------ APPROVED, refunds


def test_refunds_partial_then_full() -> None:
    sale = step(approved(), RefundApplied(T0 + 10, 234))
    assert sale.state == SaleState.PARTIALLY_REFUNDED and sale.refundable == 1000
    assert agrees_with_host(sale, "PARTIALLY_REFUNDED")
    sale = step(sale, RefundApplied(T0 + 11, 1234))
    assert sale.state == SaleState.REFUNDED and sale.refundable == 0
    assert agrees_with_host(sale, "REFUNDED")


def test_refund_counted_twice_is_ignored_and_too_much_is_refused() -> None:
    sale = step(approved(), RefundApplied(T0 + 10, 234))
    assert advance(sale, RefundApplied(T0 + 11, 234), T).ignored == "refund already counted"
    with pytest.raises(SaleError) as err:
        advance(sale, RefundApplied(T0 + 11, 2000), T)
    assert err.value.code == "refund_exceeds_payment"


def test_approved_ignores_late_answers_and_refuses_cancel() -> None:
    sale = approved()
    for event in (paid("FAILED", "51"), NoAnswer(T0 + 9, "query", "x"), Tick(T0 + 999)):
        assert advance(sale, event, T).ignored
    with pytest.raises(SaleError):
        advance(sale, CancelRequested(T0 + 9), T)
    assert advance(sale, Recovered(T0 + 9), T).ignored


@pytest.mark.parametrize(
    "final",
    [
        lambda: step(submitted(), paid("FAILED", "51")),
        lambda: step(reversing(), ReversalAcknowledged(T0 + 60, "REVERSED", "00")),
        lambda: step(new_sale(), CancelRequested(T0 + 1)),
    ],
)
def test_declined_reversed_cancelled_are_final(final: object) -> None:
    sale: Sale = final()  # type: ignore[operator]
    assert sale.state in FINAL_STATES
    for event in (paid(), RefundApplied(T0 + 99, 10), Tick(T0 + 999), Recovered(T0 + 999)):
        assert advance(sale, event, T).ignored
    for action in (CancelRequested(T0), Confirmed(T0), CodeScanned(T0, WALLET)):
        with pytest.raises(SaleError):
            advance(sale, action, T)


# ---------------------------------------------------------------------- races


def test_race_reply_after_deadline_processed_before_the_tick_wins() -> None:
    # The deadline passed while the answer was on its way; the machine sees the
    # answer first: a definite success is believed, nothing is reversed.
    s = advance(submitted(), paid("SUCCESS", "00", T0 + 3 + 50), T)
    assert s.sale.state == SaleState.APPROVED
    assert not any(isinstance(c, Reverse) for c in s.commands)


def test_race_reply_after_deadline_processed_after_the_tick_is_reversed() -> None:
    sale = step(submitted(), Tick(T0 + 3 + 45))
    s = advance(sale, paid("SUCCESS", "00", T0 + 3 + 46), T)
    assert s.ignored and s.sale.state == SaleState.REVERSING
    final = step(s.sale, ReversalAcknowledged(T0 + 49, "REVERSED", "00"))
    # The reversal gave the money back: the journal and the host agree on "no money".
    assert final.state == SaleState.REVERSED and agrees_with_host(final, "REVERSED")


def test_race_reverse_crosses_late_success_from_query() -> None:
    sale = step(unknown(), Tick(T0 + 6))  # query in flight
    sale = step(sale, CancelRequested(T0 + 6.5))  # cashier gives up: reverse sent
    late = advance(sale, PaymentReplied(T0 + 7, "query", "SUCCESS", "00"), T)
    assert late.ignored and late.sale.state == SaleState.REVERSING
    assert not any(isinstance(c, Print) for c in late.commands)
    final = step(late.sale, ReversalAcknowledged(T0 + 8, "REVERSED", "00"))
    assert final.state == SaleState.CANCELLED


def test_race_user_paying_confirmed_exactly_at_the_deadline() -> None:
    deadline = T0 + 3 + 40
    # Answer first: approved, even though the clock reads the deadline.
    assert step(user_paying(), paid("SUCCESS", "00", deadline)).state == SaleState.APPROVED
    # Tick first: the sale is cancelled; the confirmation that follows is refunded
    # by the reversal and never shown as a success.
    sale = step(user_paying(), Tick(deadline))
    assert sale.state == SaleState.REVERSING
    after = advance(sale, paid("SUCCESS", "00", deadline), T)
    assert after.ignored and after.sale.state == SaleState.REVERSING
    assert step(after.sale, ReversalAcknowledged(deadline + 1, "REVERSED", "00")).state == (
        SaleState.CANCELLED
    )


def test_race_poll_reply_and_cancel_in_flight() -> None:
    sale = step(user_paying(), Tick(T0 + 7))  # poll in flight
    sale = step(sale, CancelRequested(T0 + 7.1))
    assert advance(sale, NoAnswer(T0 + 8, "query", "timeout"), T).ignored


# ----------------------------------------------------------- serialisation


@pytest.mark.parametrize(
    "make",
    [new_sale, code_read, confirmed, submitted, unknown, user_paying, reversing, approved],
)
def test_round_trip_through_journal_snapshot(make: object) -> None:
    sale: Sale = make()  # type: ignore[operator]
    assert Sale.from_dict(sale.to_dict()) == sale


def test_snapshot_never_holds_the_full_code() -> None:
    text = str(approved().to_dict())
    assert "********" in text and "881234567890125678" not in text


def test_agrees_with_host_in_doubt_never_agrees() -> None:
    for sale in (submitted(), unknown(), user_paying(), reversing()):
        assert not agrees_with_host(sale, "SUCCESS")
    assert IN_DOUBT_STATES.isdisjoint(FINAL_STATES)
