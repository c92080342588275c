"""Property tests: random answers, silences, ticks, reverse requests and crashes never
break the network leg's rules (WeChat Pay's default timings)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from scanpay.networks import (
    FINAL_STATUSES,
    IN_DOUBT_STATUSES,
    CallPay,
    CallQuery,
    CallReverse,
    Event,
    Leg,
    LegRules,
    LegStatus,
    NoAnswer,
    Outcome,
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
    deadline_at,
    step,
    wechat_pay_answer,
)

R = LegRules()
AMOUNT = 500
PAY_CODES = st.sampled_from(
    ["SUCCESS", "USERPAYING", "SYSTEMERROR", "NOTENOUGH", "AUTHCODEEXPIRE", "ORDERPAID", "HUH"]
)
# The record sequences a leg may leave: one final outcome, or an approval reversed later.
ALLOWED_RECORDS = {
    (),
    (LegStatus.APPROVED,),
    (LegStatus.DECLINED,),
    (LegStatus.REVERSED,),
    (LegStatus.APPROVED, LegStatus.REVERSED),
}


def _is_explicit_decline(event: Event) -> bool:
    if isinstance(event, PayAnswered):
        return event.answer.outcome is Outcome.DECLINED
    return isinstance(event, QueryAnswered) and event.answer.state in R.final_failures


def _is_explicit_payment(event: Event) -> bool:
    if isinstance(event, PayAnswered):
        return event.answer.outcome is Outcome.APPROVED
    return isinstance(event, QueryAnswered) and event.answer.state in (
        TradeState.PAID,
        TradeState.REFUNDED,
    )


def _check_step(before: Leg, event: Event, s: Step, true_sent: float | None) -> None:
    """The rules every single step keeps."""
    after = s.leg
    if s.ignored is not None:
        assert after == before and s.actions == ()
        return
    assert after.version == before.version + 1
    for action in s.actions:
        if isinstance(action, CallReverse):
            assert after.status is LegStatus.REVERSING
            assert after.sent_at is not None and action.at >= after.sent_at + R.reverse_after
            if true_sent is not None:  # never sooner than 15 s after the real pay call
                assert action.at >= true_sent + R.reverse_after
            assert action.at >= event.now
            if not isinstance(event, Recovered):
                assert action.attempt <= R.reverse_max_tries
        if isinstance(action, CallQuery):
            deadline = deadline_at(after, R)
            assert after.status in IN_DOUBT_STATUSES and deadline is not None
            assert event.now <= action.at < deadline
        if isinstance(action, Record):
            assert action.outcome is after.status and after.status in FINAL_STATUSES
    records = [a for a in s.actions if isinstance(a, Record)]
    entered_final = after.status in FINAL_STATUSES and after.status is not before.status
    assert len(records) == (1 if entered_final else 0)
    if after.status is LegStatus.DECLINED and before.status is not LegStatus.DECLINED:
        # Never from a silence, a tick, a restart: only the network's explicit no.
        assert _is_explicit_decline(event)
    if after.status is LegStatus.APPROVED and before.status is not LegStatus.APPROVED:
        deadline = deadline_at(after, R)
        assert _is_explicit_payment(event) and deadline is not None and event.now < deadline
    if before.status is LegStatus.REVERSING:
        assert after.status in (LegStatus.REVERSING, LegStatus.REVERSED)


class LegMachine(RuleBasedStateMachine):
    """The host drives one leg; it journals each step before running its actions,
    except PENDING -> SENT (the pay call may leave before SENT is durable). A crash
    restores the journal and the leg is recovered."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.leg = Leg("T1-0001", "wechat_pay", AMOUNT)
        self.journal = self.leg
        self.durable: list[LegStatus] = [self.leg.status]
        self.records: list[Record] = []
        self.true_sent: float | None = None
        self.pays = 0

    def _do(self, event: Event) -> None:
        before = self.leg
        s = step(before, event, R)
        _check_step(before, event, s, self.true_sent)
        if s.ignored is not None:
            return
        if any(isinstance(a, CallPay) for a in s.actions):
            self.pays += 1
            self.true_sent = event.now
        assert self.pays <= 1  # one pay call per trade number, crashes or not
        self.leg = s.leg
        if not isinstance(event, Sent):
            self.journal = s.leg
            self.durable.append(s.leg.status)
            self.records.extend(a for a in s.actions if isinstance(a, Record))

    @rule(dt=st.floats(min_value=0.0, max_value=20.0))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self._do(Tick(self.now))

    @rule(dt=st.sampled_from([1.0, 5.0, 14.9, 30.0, 45.0, 600.0]))
    def time_passes_unseen(self, dt: float) -> None:
        # An answer may be processed before the tick that would have come first.
        self.now += dt

    @rule(late=st.sampled_from([-0.5, 0.0, 0.5, 30.0]), by_query=st.booleans())
    def success_around_the_deadline(self, late: float, by_query: bool) -> None:
        # The race the deadline decides: a success processed just before or after it.
        deadline = deadline_at(self.leg, R)
        if deadline is not None:
            self.now = max(self.now, deadline + late)
        if by_query:
            self._do(QueryAnswered(self.now, QueryAnswer(TradeState.PAID, amount=AMOUNT)))
        else:
            self._do(PayAnswered(self.now, wechat_pay_answer("SUCCESS", "4200001")))

    @rule()
    def send(self) -> None:
        self._do(Sent(self.now))

    @rule(code=PAY_CODES)
    def pay_answer(self, code: str) -> None:
        self._do(PayAnswered(self.now, wechat_pay_answer(code, "4200001")))

    @rule(state=st.sampled_from(TradeState), amount=st.sampled_from([None, AMOUNT, AMOUNT - 1]))
    def query_answer(self, state: TradeState, amount: int | None) -> None:
        self._do(QueryAnswered(self.now, QueryAnswer(state, state.value, amount=amount)))

    @rule(outcome=st.sampled_from(ReverseOutcome))
    def reverse_answer(self, outcome: ReverseOutcome) -> None:
        self._do(ReverseAnswered(self.now, ReverseAnswer(outcome)))

    @rule(call=st.sampled_from(["pay", "query", "reverse"]))
    def silence(self, call: str) -> None:
        self._do(NoAnswer(self.now, call))  # type: ignore[arg-type]

    @rule()
    def reverse_requested(self) -> None:
        self._do(ReverseRequested(self.now))

    @rule()
    def crash(self) -> None:
        self.leg = self.journal
        self._do(Recovered(self.now))

    @invariant()
    def states_only_move_forward(self) -> None:
        for i, (a, b) in enumerate(itertools.pairwise(self.durable)):
            if a in FINAL_STATUSES | {LegStatus.REVERSING}:
                assert b not in IN_DOUBT_STATUSES | {LegStatus.PENDING}
            if a is LegStatus.REVERSING:
                # Once reversing, never approved: not next, not ever after.
                assert LegStatus.APPROVED not in self.durable[i + 1 :]
            if a in (LegStatus.DECLINED, LegStatus.REVERSED):
                assert b is a

    @invariant()
    def every_record_happens_once(self) -> None:
        assert tuple(r.outcome for r in self.records) in ALLOWED_RECORDS

    @invariant()
    def journal_round_trips(self) -> None:
        assert Leg.from_dict(self.leg.to_dict()) == self.leg

    @invariant()
    def always_ends_once_the_deadline_and_the_reverse_tries_pass(self) -> None:
        # Liveness: from here, let time pass and the network answer: the leg settles,
        # within one deadline tick, the reverse tries and one sweeper pass.
        leg, t, true_sent = self.leg, self.now, self.true_sent
        for _ in range(4):
            if leg.status in FINAL_STATUSES:
                break
            event: Event
            if leg.status is LegStatus.PENDING:
                event = Sent(t)
                true_sent = t
            elif leg.status in IN_DOUBT_STATUSES:
                deadline = deadline_at(leg, R)
                assert deadline is not None
                t = max(t, deadline)
                event = Tick(t)
            elif leg.awaiting == "reverse":
                event = ReverseAnswered(t, ReverseAnswer(ReverseOutcome.DONE))
            else:  # every scheduled reverse try spent: the sweeper's pass
                event = Recovered(t)
            s = step(leg, event, R)
            _check_step(leg, event, s, true_sent)
            leg, t = s.leg, t + 1.0
        assert leg.status in FINAL_STATUSES

    @invariant()
    def reverse_tries_stay_bounded(self) -> None:
        # A network that keeps saying recall=Y gets at most reverse_max_tries calls
        # (a sweeper's Recovered adds one each): then the leg waits, calling nothing.
        leg, t = self.leg, self.now
        if leg.status is not LegStatus.REVERSING or leg.awaiting != "reverse":
            return
        calls = 0
        while leg.awaiting == "reverse":
            t += 100.0
            s = step(leg, ReverseAnswered(t, ReverseAnswer(ReverseOutcome.AGAIN)), R)
            calls += len(s.actions)
            leg = s.leg
            assert calls <= R.reverse_max_tries
        assert leg.status is LegStatus.REVERSING and leg.reverse_tries >= R.reverse_max_tries


TestLegMachine = LegMachine.TestCase
TestLegMachine.settings = settings(
    max_examples=300,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
