"""The network leg, rule by rule, with concrete times (seconds; the pay call at t=100)."""

from __future__ import annotations

import pytest

from scanpay.networks import (
    CallPay,
    CallQuery,
    CallReverse,
    Leg,
    LegRules,
    LegStatus,
    NetworkError,
    NoAnswer,
    Outcome,
    PayAnswer,
    PayAnswered,
    QueryAnswer,
    QueryAnswered,
    Record,
    Recovered,
    ReverseAnswer,
    ReverseAnswered,
    ReverseOutcome,
    ReverseRequested,
    Sent,
    Step,
    Tick,
    TradeState,
    due,
    exhausted,
    step,
    wechat_pay_answer,
)

R = LegRules()
T0 = 100.0


def _sent(amount: int = 500) -> Leg:
    s = step(Leg("T1-0001", "wechat_pay", amount), Sent(T0), R)
    assert s.actions == (CallPay("T1-0001"),)
    assert s.leg.status is LegStatus.SENT and s.leg.sent_at == T0 and s.leg.awaiting == "pay"
    return s.leg


def _query(state: TradeState, amount: int | None = None, tx: str | None = None) -> QueryAnswer:
    return QueryAnswer(state, transaction_id=tx, amount=amount)


def _only(s: Step) -> object:
    assert len(s.actions) == 1, s.actions
    return s.actions[0]


def _user_paying() -> Leg:
    return step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("USERPAYING")), R).leg


def _reversing(at: float = T0 + 45) -> Leg:
    s = step(_user_paying(), Tick(at), R)
    assert s.leg.status is LegStatus.REVERSING
    return s.leg


# ------------------------------------------------------------------- pay answers


def test_approved_pay_records_00_with_the_transaction_id() -> None:
    s = step(_sent(), PayAnswered(T0 + 1.2, wechat_pay_answer("SUCCESS", "4200001")), R)
    assert s.leg.status is LegStatus.APPROVED
    record = _only(s)
    assert isinstance(record, Record)
    assert (record.outcome, record.result_code, record.network_code, record.transaction_id) == (
        LegStatus.APPROVED,
        "00",
        "SUCCESS",
        "4200001",
    )
    assert s.leg.finished_at == T0 + 1.2 and s.leg.awaiting is None


def test_declined_pay_records_the_networks_reason() -> None:
    s = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("NOTENOUGH")), R)
    assert s.leg.status is LegStatus.DECLINED
    record = _only(s)
    assert isinstance(record, Record)
    assert (record.outcome, record.result_code, record.network_code) == (
        LegStatus.DECLINED,
        "51",
        "NOTENOUGH",
    )


def test_systemerror_waits_5_s_then_queries() -> None:
    s = step(_sent(), PayAnswered(T0 + 2, wechat_pay_answer("SYSTEMERROR")), R)
    assert s.leg.status is LegStatus.UNKNOWN
    assert s.actions == (CallQuery("T1-0001", T0 + 7),)
    s = step(s.leg, QueryAnswered(T0 + 7.3, _query(TradeState.PAID, 500, "42")), R)
    assert s.leg.status is LegStatus.APPROVED and s.leg.transaction_id == "42"


def test_bankerror_is_unknown_too() -> None:
    s = step(_sent(), PayAnswered(T0 + 2, wechat_pay_answer("BANKERROR")), R)
    assert s.leg.status is LegStatus.UNKNOWN and s.actions == (CallQuery("T1-0001", T0 + 7),)


def test_no_answer_to_the_pay_call_is_never_a_decline() -> None:
    s = step(_sent(), NoAnswer(T0 + 10, "pay"), R)
    assert s.leg.status is LegStatus.UNKNOWN
    assert s.actions == (CallQuery("T1-0001", T0 + 15),)


def test_userpaying_polls_every_5_s_and_declines_on_pay_error() -> None:
    leg = _user_paying()
    assert leg.status is LegStatus.USER_PAYING and leg.network_code == "USERPAYING"
    s = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("USERPAYING")), R)
    assert s.actions == (CallQuery("T1-0001", T0 + 6),)
    s = step(leg, QueryAnswered(T0 + 6.2, _query(TradeState.USER_PAYING)), R)
    assert s.actions == (CallQuery("T1-0001", T0 + 11.2),) and s.leg.queries == 2
    s = step(s.leg, QueryAnswered(T0 + 11.4, _query(TradeState.PAY_ERROR)), R)
    assert s.leg.status is LegStatus.DECLINED
    # 05, not 12: a failed payment is not the customer running out of time.
    assert _only(s) == Record("T1-0001", LegStatus.DECLINED, "05", "USERPAYING", None, None)


def test_closed_is_final_but_not_paid_and_not_found_are_not() -> None:
    leg = _user_paying()
    assert step(leg, QueryAnswered(T0 + 6, _query(TradeState.CLOSED)), R).leg.status is (
        LegStatus.DECLINED
    )
    for state in (TradeState.NOT_PAID, TradeState.NOT_FOUND, TradeState.UNKNOWN):
        s = step(leg, QueryAnswered(T0 + 6, _query(state)), R)
        assert s.leg.status is LegStatus.USER_PAYING, state
        assert s.actions == (CallQuery("T1-0001", T0 + 11),)


def test_final_failures_are_per_network() -> None:
    strict = LegRules(final_failures=frozenset({TradeState.CLOSED}))
    leg = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("USERPAYING")), strict).leg
    s = step(leg, QueryAnswered(T0 + 6, _query(TradeState.PAY_ERROR)), strict)
    assert s.leg.status is LegStatus.USER_PAYING and s.actions == (CallQuery("T1-0001", T0 + 11),)


def test_a_query_finding_it_reversed_ends_reversed() -> None:
    s = step(_user_paying(), QueryAnswered(T0 + 6, _query(TradeState.REVERSED)), R)
    assert s.leg.status is LegStatus.REVERSED
    assert isinstance(_only(s), Record)


def test_a_paid_trade_of_another_amount_is_never_approved() -> None:
    s = step(_user_paying(), QueryAnswered(T0 + 6, _query(TradeState.PAID, 499)), R)
    assert s.leg.status is LegStatus.USER_PAYING
    assert s.actions == (CallQuery("T1-0001", T0 + 11),)


# ---------------------------------------------------------------- the deadline


def test_polling_stops_before_the_deadline_and_the_tick_reverses() -> None:
    s = step(_user_paying(), QueryAnswered(T0 + 41, _query(TradeState.USER_PAYING)), R)
    # T0 + 46 would be past the deadline (T0 + 45): no query, the tick decides.
    assert s.actions == () and s.leg.awaiting is None
    assert due(s.leg, R) == T0 + 45
    assert step(s.leg, Tick(T0 + 44.9), R).ignored is not None
    s = step(s.leg, Tick(T0 + 45), R)
    assert s.leg.status is LegStatus.REVERSING
    assert s.actions == (CallReverse("T1-0001", T0 + 45, 1),)


def test_the_deadline_comes_even_while_the_pay_call_hangs() -> None:
    s = step(_sent(), Tick(T0 + 45), R)
    assert s.leg.status is LegStatus.REVERSING
    assert s.actions == (CallReverse("T1-0001", T0 + 45, 1),)


def test_a_success_after_the_deadline_is_reversed_not_approved() -> None:
    leg = _user_paying()
    s = step(leg, QueryAnswered(T0 + 45.5, _query(TradeState.PAID, 500)), R)
    assert s.leg.status is LegStatus.REVERSING
    assert s.actions == (CallReverse("T1-0001", T0 + 45.5, 1),)
    s = step(_sent(), PayAnswered(T0 + 50, wechat_pay_answer("SUCCESS")), R)
    assert s.leg.status is LegStatus.REVERSING


def test_a_deadline_shorter_than_15_s_still_reverses_at_15_s() -> None:
    short = LegRules(deadline=10.0)
    leg = step(Leg("T1-0001", "wechat_pay", 500), Sent(T0), short).leg
    s = step(leg, Tick(T0 + 10), short)
    assert s.actions == (CallReverse("T1-0001", T0 + 15, 1),)


def test_the_terminals_reverse_waits_for_15_s_after_the_pay_call() -> None:
    s = step(_user_paying(), ReverseRequested(T0 + 3), R)
    assert s.leg.status is LegStatus.REVERSING
    assert s.actions == (CallReverse("T1-0001", T0 + 15, 1),)


# ------------------------------------------------------------------ reversing


def test_recall_y_calls_reverse_again_with_growing_spacing() -> None:
    leg = _reversing()
    again = ReverseAnswer(ReverseOutcome.AGAIN, "SYSTEMERROR")
    ats = []
    for n in range(2, 7):
        s = step(leg, ReverseAnswered(T0 + 50, again), R)
        call = _only(s)
        assert isinstance(call, CallReverse) and call.attempt == n
        ats.append(call.at - (T0 + 50))
        leg = s.leg
    assert ats == [2.0, 5.0, 10.0, 30.0, 60.0]
    # Six tries spent: the leg waits for the sweeper; a tick does nothing.
    s = step(leg, ReverseAnswered(T0 + 200, again), R)
    assert s.actions == () and s.leg.status is LegStatus.REVERSING and exhausted(s.leg, R)
    assert step(s.leg, Tick(T0 + 10_000), R).ignored is not None
    # The sweeper's pass makes one more try, then the reverse is done.
    s = step(s.leg, Recovered(T0 + 600), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 600, 7),)
    s = step(s.leg, ReverseAnswered(T0 + 601, ReverseAnswer(ReverseOutcome.DONE)), R)
    assert s.leg.status is LegStatus.REVERSED
    assert _only(s) == Record("T1-0001", LegStatus.REVERSED, "12", "SYSTEMERROR", None, None)


def test_a_reverse_with_no_answer_is_retried() -> None:
    s = step(_reversing(), NoAnswer(T0 + 55, "reverse"), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 57, 2),)
    s = step(s.leg, ReverseAnswered(T0 + 58, ReverseAnswer(ReverseOutcome.UNKNOWN)), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 63, 3),)


def test_once_reversing_a_late_success_changes_nothing() -> None:
    leg = _reversing()
    for event in (
        PayAnswered(T0 + 46, wechat_pay_answer("SUCCESS")),
        QueryAnswered(T0 + 46, _query(TradeState.PAID, 500)),
        NoAnswer(T0 + 46, "query"),  # the answer of a query sent before: not the reverse's
        Tick(T0 + 46),
        ReverseRequested(T0 + 46),
        Sent(T0 + 46),
    ):
        s = step(leg, event, R)
        assert s.ignored is not None and s.leg == leg, event
    s = step(leg, ReverseAnswered(T0 + 47, ReverseAnswer(ReverseOutcome.DONE)), R)
    assert s.leg.status is LegStatus.REVERSED


def test_an_approved_sale_the_terminal_reverses_is_reversed_at_the_network() -> None:
    leg = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("SUCCESS", "42")), R).leg
    s = step(leg, ReverseRequested(T0 + 20), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 20, 1),)
    s = step(s.leg, ReverseAnswered(T0 + 21, ReverseAnswer(ReverseOutcome.DONE)), R)
    assert s.leg.status is LegStatus.REVERSED and s.leg.transaction_id == "42"


def test_a_declined_leg_has_nothing_to_reverse() -> None:
    leg = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("AUTHCODEEXPIRE")), R).leg
    s = step(leg, ReverseRequested(T0 + 20), R)
    assert s.ignored is not None and s.leg == leg


def test_a_reverse_before_the_send_means_the_pay_call_never_leaves() -> None:
    s = step(Leg("T1-0001", "wechat_pay", 500), ReverseRequested(T0), R)
    assert s.leg.status is LegStatus.REVERSING
    assert s.actions == (CallReverse("T1-0001", T0 + 15, 1),)
    assert step(s.leg, Sent(T0 + 1), R).actions == ()


# ------------------------------------------------------------------- recovery


def test_a_pending_row_is_queried_never_assumed_unsent() -> None:
    s = step(Leg("T1-0001", "wechat_pay", 500), Recovered(T0), R)
    assert s.leg.status is LegStatus.UNKNOWN and s.leg.sent_at == T0
    assert s.actions == (CallQuery("T1-0001", T0),)
    s = step(s.leg, QueryAnswered(T0 + 0.5, _query(TradeState.NOT_FOUND)), R)
    assert s.actions == (CallQuery("T1-0001", T0 + 5.5),)
    # Never found: reversed at the deadline counted from the recovery.
    s = step(s.leg, Tick(T0 + 45), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 45, 1),)


def test_a_sent_row_before_its_deadline_is_queried_now() -> None:
    s = step(_sent(), Recovered(T0 + 20), R)
    assert s.leg.status is LegStatus.UNKNOWN and s.actions == (CallQuery("T1-0001", T0 + 20),)
    s = step(_user_paying(), Recovered(T0 + 20), R)
    assert s.leg.status is LegStatus.USER_PAYING and s.actions == (CallQuery("T1-0001", T0 + 20),)


def test_a_sent_row_past_its_deadline_is_reversed() -> None:
    s = step(_sent(), Recovered(T0 + 3600), R)
    assert s.actions == (CallReverse("T1-0001", T0 + 3600, 1),)


def test_a_settled_leg_has_nothing_to_recover() -> None:
    leg = step(_sent(), PayAnswered(T0 + 1, wechat_pay_answer("SUCCESS")), R).leg
    assert step(leg, Recovered(T0 + 50), R).ignored is not None


# ---------------------------------------------------------------- odds and ends


def test_answers_that_nobody_awaits_change_nothing() -> None:
    leg = _sent()
    assert step(leg, NoAnswer(T0 + 1, "query"), R).ignored is not None
    assert step(leg, ReverseAnswered(T0 + 1, ReverseAnswer(ReverseOutcome.DONE)), R).ignored
    assert step(leg, Sent(T0 + 1), R).ignored is not None
    pending = Leg("T1-0001", "wechat_pay", 500)
    assert step(pending, Tick(T0 + 1000), R).ignored is not None
    assert step(pending, PayAnswered(T0, wechat_pay_answer("SUCCESS")), R).ignored is not None


def test_every_change_bumps_the_version_and_round_trips() -> None:
    leg = _user_paying()
    assert leg.version == 2
    assert Leg.from_dict(leg.to_dict()) == leg


def test_a_decline_answer_must_carry_a_decline_code() -> None:
    with pytest.raises(NetworkError) as err:
        PayAnswer(Outcome.DECLINED, "00", wechat_pay_answer("SUCCESS").message)
    assert err.value.code == "bad_answer"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"deadline": 0.0}, "times"),
        ({"reverse_spacing": ()}, "times"),
        ({"reverse_after": -1.0}, "times"),
        ({"reverse_max_tries": 0}, "reverse_max_tries"),
        ({"final_failures": frozenset({TradeState.NOT_FOUND})}, "final_failures"),
        ({"final_failures": frozenset({TradeState.PAID})}, "final_failures"),
    ],
)
def test_rules_that_cannot_work_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(NetworkError) as err:
        LegRules(**changes)  # type: ignore[arg-type]
    assert (err.value.code, err.value.field) == ("bad_leg_rules", field)
