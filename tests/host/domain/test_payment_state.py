"""The payment state machine: the table, and invariants over random event sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.payment_state import (
    FINAL_STATES,
    Authorised,
    Declined,
    Effect,
    Event,
    Expire,
    IllegalTransition,
    LatePayment,
    PaymentState,
    PinConfirmed,
    PinRejected,
    PinRequired,
    Refund,
    Reverse,
    state_code,
    transition,
)
from scanpay.protocol.models import PaymentStatus

S = PaymentState


def test_states_are_the_protocols_statuses() -> None:
    assert {s.value for s in S} == {s.value for s in PaymentStatus}


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (None, Authorised(), (S.SUCCESS, "00", Effect.CAPTURE)),
        (None, PinRequired(), (S.USER_PAYING, "09", Effect.NONE)),
        (None, Declined("51"), (S.FAILED, "51", Effect.NONE)),
        (None, Reverse(), (S.REVERSED, "12", Effect.NONE)),
        (S.USER_PAYING, PinConfirmed(), (S.SUCCESS, "00", Effect.CAPTURE)),
        (S.USER_PAYING, PinRejected(locked=False), (S.USER_PAYING, "55", Effect.NONE)),
        (S.USER_PAYING, PinRejected(locked=True), (S.FAILED, "75", Effect.NONE)),
        (S.USER_PAYING, Expire(), (S.FAILED, "12", Effect.NONE)),
        (S.USER_PAYING, Reverse(), (S.REVERSED, "12", Effect.NONE)),
        (S.SUCCESS, Reverse(), (S.REVERSED, "12", Effect.RETURN)),
        (S.FAILED, Reverse(), (S.REVERSED, "12", Effect.NONE)),
        (S.REVERSED, Reverse(), (S.REVERSED, "12", Effect.NONE)),
        (S.REVERSED, LatePayment(), (S.REVERSED, "12", Effect.NONE)),
        (S.SUCCESS, Refund(40, 100, 0), (S.PARTIALLY_REFUNDED, "00", Effect.REFUND)),
        (S.PARTIALLY_REFUNDED, Refund(60, 100, 40), (S.REFUNDED, "00", Effect.REFUND)),
    ],
)
def test_table(state: S | None, event: Event, expected: tuple[S, str, Effect]) -> None:
    step = transition(state, event)
    assert (step.state, step.code, step.effect) == expected


@pytest.mark.parametrize(
    ("state", "event", "code"),
    [
        (S.SUCCESS, Authorised(), "30"),
        (S.FAILED, PinConfirmed(), "30"),
        (S.REVERSED, PinConfirmed(), "12"),
        (S.REFUNDED, Reverse(), "12"),
        (S.SUCCESS, Refund(101, 100, 0), "13"),
        (S.PARTIALLY_REFUNDED, Refund(0, 100, 10), "13"),
        (None, PinConfirmed(), "25"),
        (S.SUCCESS, LatePayment(), "30"),
    ],
)
def test_refused(state: S | None, event: Event, code: str) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(state, event)
    assert caught.value.code == code


def test_state_codes() -> None:
    assert state_code(S.FAILED, "51") == "51" and state_code(S.FAILED) == "96"
    assert state_code(S.USER_PAYING) == "09" and state_code(S.REVERSED) == "12"


events = st.one_of(
    st.just(Authorised()),
    st.just(PinRequired()),
    st.sampled_from(["14", "51", "54"]).map(Declined),
    st.just(PinConfirmed()),
    st.booleans().map(lambda b: PinRejected(locked=b)),
    st.just(Expire()),
    st.just(Reverse()),
    st.just(LatePayment()),
    st.integers(1, 60).map(lambda a: Refund(a, 100, 0)),
)


@given(st.lists(events, max_size=12))
def test_money_is_captured_at_most_once_and_never_left_behind_a_reversal(seq: list[Event]) -> None:
    state: S | None = None
    captured = 0
    refunded = 0
    for event in seq:
        if isinstance(event, Refund):
            event = Refund(event.amount, 100, refunded)
        try:
            step = transition(state, event)
        except IllegalTransition:
            continue
        if state in FINAL_STATES:
            assert step.state == state  # nothing leaves a final state
        captured += {Effect.CAPTURE: 100, Effect.RETURN: -100}.get(step.effect, 0)
        if step.effect is Effect.REFUND:
            refunded += event.amount if isinstance(event, Refund) else 0
        state = step.state
        assert captured in (0, 100)
        assert 0 <= refunded <= captured or state is S.REVERSED
        if state is S.REVERSED:
            assert captured == 0
        if state in (S.SUCCESS, S.PARTIALLY_REFUNDED, S.REFUNDED):
            assert captured == 100
