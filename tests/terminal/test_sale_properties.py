"""Property tests: random event orders never break the sale machine's invariants."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

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
    Recovered,
    RefundApplied,
    Refused,
    RescanRequested,
    ReversalAcknowledged,
    Reverse,
    Sale,
    SaleError,
    SaleState,
    Send,
    Submitted,
    Tick,
    Timings,
    advance,
)

T = Timings(
    unknown_deadline=20.0,
    customer_deadline=15.0,
    poll_interval=2.0,
    query_backoff=Backoff(0.5, 2.0, 4.0),
    max_sends=3,
)
CODE = CodeSummary("wallet", "scanpay", "scanpay 881234********5678")
STATUSES = st.sampled_from(["SUCCESS", "USER_PAYING", "FAILED", "REVERSED", "WEIRD"])


class SaleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.sale = Sale.open("T1-P", 500, "CNY", operator_id="c01", now=self.now)
        self.history: list[SaleState] = [self.sale.state]
        self.success_seen = False
        self.left_doubt = False

    def _do(self, event: object) -> None:
        before = self.sale
        try:
            result = advance(self.sale, event, T)  # type: ignore[arg-type]
        except SaleError:
            return
        after = result.sale
        # Commands only ever go with a change; an ignored event changes nothing.
        if result.ignored is not None:
            assert after == before and result.commands == ()
            return
        assert after.version == before.version + 1
        if any(isinstance(c, Print) for c in result.commands):
            assert after.state == SaleState.APPROVED
        if any(isinstance(c, Send) for c in result.commands):
            assert after.state in (SaleState.SUBMITTED, SaleState.UNKNOWN)
            assert after.sends <= T.max_sends
        if any(isinstance(c, Reverse) for c in result.commands):
            assert after.state == SaleState.REVERSING
        if after.state == SaleState.APPROVED and before.state != SaleState.APPROVED:
            assert isinstance(event, PaymentReplied) and event.status == "SUCCESS"
        self.sale = after
        self.history.append(after.state)

    @rule(dt=st.floats(min_value=0.0, max_value=8.0))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        self._do(Tick(self.now))

    @rule()
    def scan(self) -> None:
        self._do(CodeScanned(self.now, CODE))

    @rule()
    def rescan(self) -> None:
        self._do(RescanRequested(self.now))

    @rule()
    def confirm_and_submit(self) -> None:
        self._do(Confirmed(self.now))
        self._do(Submitted(self.now))

    @rule()
    def cancel(self) -> None:
        self._do(CancelRequested(self.now))

    @rule(status=STATUSES, source=st.sampled_from(["send", "query"]))
    def reply(self, status: str, source: str) -> None:
        self._do(PaymentReplied(self.now, source, status, "00"))  # type: ignore[arg-type]

    @rule(source=st.sampled_from(["send", "query"]))
    def refused(self, source: str) -> None:
        self._do(Refused(self.now, source, "63"))  # type: ignore[arg-type]

    @rule(source=st.sampled_from(["send", "query"]))
    def silence(self, source: str) -> None:
        self._do(NoAnswer(self.now, source, "timeout"))  # type: ignore[arg-type]

    @rule(can_resend=st.booleans())
    def not_found(self, can_resend: bool) -> None:
        self._do(NotFound(self.now, can_resend))

    @rule(status=st.sampled_from(["REVERSED", "FAILED"]))
    def reversal_ack(self, status: str) -> None:
        self._do(ReversalAcknowledged(self.now, status, "00"))

    @rule(total=st.integers(min_value=1, max_value=500))
    def refund(self, total: int) -> None:
        self._do(RefundApplied(self.now, total))

    @rule()
    def restart(self) -> None:
        self._do(Recovered(self.now))

    @invariant()
    def never_back_into_doubt(self) -> None:
        if self.sale.state in FINAL_STATES | {SaleState.REVERSING}:
            self.left_doubt = True
        if self.left_doubt:
            assert self.sale.state not in IN_DOUBT_STATES

    @invariant()
    def final_states_only_follow_the_refund_chain(self) -> None:
        states = self.history
        for a, b in itertools.pairwise(states):
            if a in FINAL_STATES and a != b:
                assert (a, b) in {
                    (SaleState.APPROVED, SaleState.PARTIALLY_REFUNDED),
                    (SaleState.APPROVED, SaleState.REFUNDED),
                    (SaleState.PARTIALLY_REFUNDED, SaleState.REFUNDED),
                }
            if a == SaleState.REVERSING and a != b:
                assert b in (SaleState.REVERSED, SaleState.CANCELLED)

    @invariant()
    def doubt_always_ends_at_the_deadline(self) -> None:
        # Liveness: whatever happened, one tick at the deadline leaves doubt.
        sale = self.sale
        if sale.state in IN_DOUBT_STATES:
            assert sale.deadline_at is not None and sale.customer_deadline_at is not None
            latest = max(sale.deadline_at, sale.customer_deadline_at)
            if sale.wake_at is not None:
                assert sale.wake_at <= latest
            assert advance(sale, Tick(latest), T).sale.state == SaleState.REVERSING

    @invariant()
    def refunds_never_exceed_the_amount(self) -> None:
        assert 0 <= self.sale.refunded_amount <= self.sale.amount

    @invariant()
    def snapshot_round_trips(self) -> None:
        assert Sale.from_dict(self.sale.to_dict()) == self.sale


TestSaleMachine = SaleMachine.TestCase
TestSaleMachine.settings = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
