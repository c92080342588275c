"""The network leg of one payment: a state machine (pure: no I/O, no clock).

The host calls the network on the payment's behalf; :func:`step` takes the leg
and one event (the pay call going out, an answer, the absence of one, the time,
a reverse request, a restart) and returns the next leg plus the actions the
adapter must run: call pay, query at a time, reverse at a time, record the
outcome. The host journals the returned leg *before* it runs an action (only
PENDING -> SENT may lag: the pay call may leave before SENT is durable), so a
crash at any point leaves a row that :class:`Recovered` picks up::

    PENDING --Sent--> SENT -+-> APPROVED                     (pay or query: paid)
                            +-> DECLINED                     (an explicit final no)
                            +-> USER_PAYING / UNKNOWN --query every few s--+
                                 (deadline, or reverse asked) -> REVERSING -> REVERSED
    APPROVED --ReverseRequested--> REVERSING -> REVERSED     (the terminal reversed a sale)

Rules (WeChat Pay's published ones by default, research-networks.md):

- **No answer is not a no.** A timeout, a lost reply, SYSTEMERROR, an unknown
  code, a query that finds nothing: the leg queries, and past the deadline it
  reverses. DECLINED comes only from a pay answer that declines or a query
  that finds the trade closed or failed for good (:attr:`LegRules.final_failures`).
- **The deadline is a hard cut.** It is measured from the pay call
  (``sent_at + deadline``); an approval processed at or after it is not taken:
  the leg reverses, and the reverse returns the money. The host has told the
  terminal to give up by then, so no sale can end approved on one side only.
- **Never reverse too soon**: no reverse is scheduled before
  ``sent_at + reverse_after`` (WeChat: 15 s after the pay call).
- **Once REVERSING, nothing but the reverse's answer counts**: a late success
  is returned by the reverse, and the leg ends REVERSED. A reverse that is not
  done (no answer, ``recall=Y``, an error) is called again, at most
  ``reverse_max_tries`` times with growing spacing; then the leg waits in
  REVERSING for the sweeper, whose :class:`Recovered` makes one more try each time.
- **A PENDING row may have been sent**: the host records it, commits, then
  calls, so a crash can fall after the send. Recovery queries and reverses by the
  rules, counting time from the recovery (the latest moment the send can have
  happened), never assuming that nothing happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg_messages import (
    FINAL_STATUSES,
    IN_DOUBT_STATUSES,
    Action,
    Call,
    CallPay,
    CallQuery,
    CallReverse,
    Event,
    LegStatus,
    NoAnswer,
    PayAnswered,
    QueryAnswered,
    Record,
    Recovered,
    ReverseAnswered,
    ReverseRequested,
    Sent,
    Tick,
)
from scanpay.networks.port import Outcome, TradeState

__all__ = [
    "FINAL_STATUSES",
    "IN_DOUBT_STATUSES",
    "Action",
    "Call",
    "CallPay",
    "CallQuery",
    "CallReverse",
    "Event",
    "Leg",
    "LegRules",
    "LegStatus",
    "NoAnswer",
    "PayAnswered",
    "QueryAnswered",
    "Record",
    "Recovered",
    "ReverseAnswered",
    "ReverseRequested",
    "Sent",
    "Step",
    "Tick",
    "deadline_at",
    "due",
    "exhausted",
    "reverse_not_before",
    "step",
]


@dataclass(frozen=True, slots=True)
class LegRules:
    """One network's timing rules, in seconds from the pay call; defaults are WeChat Pay's."""

    deadline: float = 45.0
    """The merchant's deadline: WeChat's 2025 document (and its auto-revoke of unpaid
    code-pay orders) says 45 s; older documents said 30 s."""
    first_query_after: float = 5.0
    """SYSTEMERROR, BANKERROR or no answer to the pay call: wait, then query (WeChat: 5 s)."""
    poll_interval: float = 5.0
    """Between queries. WeChat says 5-10 s; 5 s (its sandbox's and the global guide's
    pace) sees the customer's confirmation at most 5 s late, which the cashier feels,
    for 8 queries in 45 s, well inside its rate limits."""
    reverse_after: float = 15.0
    """No reverse sooner than this after the pay call (WeChat's rule)."""
    reverse_spacing: tuple[float, ...] = (2.0, 5.0, 10.0, 30.0, 60.0)
    """Before each further reverse try (the last value repeats): quick at first, as
    ``recall=Y`` usually clears in seconds, then slower, not to hammer a network that
    is down."""
    reverse_max_tries: int = 6
    """Reverse tries the leg schedules by itself; then it waits for the sweeper."""
    final_failures: frozenset[TradeState] = frozenset({TradeState.CLOSED, TradeState.PAY_ERROR})
    """Query states that end the leg DECLINED. CLOSED: the network closed the order, which
    can no longer be paid. PAY_ERROR: WeChat's "payment failed" (the customer closed the
    password dialog, the bank refused): failed for good per research-payments.md §8a,
    and the code behind it is single-use while WeChat revokes an unpaid code-pay order
    itself 45 s after creation. NOT_PAID is *not* final: it is the state of an order that
    can still be paid (not one of WeChat's closed-loop ends SUCCESS, CLOSED, REVOKED), so
    a decline on it could leave a customer paying for a declined sale; the deadline's
    reverse closes it instead. A network whose failure state is not final leaves it out."""

    def __post_init__(self) -> None:
        times = (self.deadline, self.first_query_after, self.poll_interval, *self.reverse_spacing)
        if any(t <= 0 for t in times) or not self.reverse_spacing or self.reverse_after < 0:
            raise NetworkError("bad_leg_rules", field="times")
        if self.reverse_max_tries < 1:
            raise NetworkError("bad_leg_rules", field="reverse_max_tries")
        # States where money moved, or may still move: never a decline.
        open_states = {TradeState.PAID, TradeState.REFUNDED, TradeState.USER_PAYING}
        if self.final_failures & (open_states | {TradeState.UNKNOWN, TradeState.NOT_FOUND}):
            raise NetworkError("bad_leg_rules", field="final_failures")


# -------------------------------------------------------------------------- leg


@dataclass(frozen=True, slots=True)
class Leg:
    """One payment's leg at one network. Immutable: :func:`step` returns a new one."""

    trade_no: str
    network: str
    amount: int
    """What the pay call asked for: a paid trade of another amount is never approved."""
    status: LegStatus = LegStatus.PENDING
    sent_at: float | None = None
    """When the pay call left; for a leg that may have left unseen (PENDING found by
    recovery, or reversed before it was sent), the latest moment it can have left."""
    last_query_at: float | None = None
    """When the last query's answer (or its absence) came."""
    queries: int = 0
    """Queries scheduled so far."""
    reverse_tries: int = 0
    network_code: str | None = None
    """The network's last code (``USERPAYING``, ``SYSTEMERROR``, ``NOTENOUGH``...)."""
    awaiting: Call | None = None
    """The call whose answer drives what comes next (None: only time does)."""
    transaction_id: str | None = None
    result_code: str | None = None
    finished_at: float | None = None
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; :meth:`from_dict` restores it exactly."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Leg:
        return cls(**{**data, "status": LegStatus(data["status"])})


@dataclass(frozen=True, slots=True)
class Step:
    """What :func:`step` decided: the new leg, its actions, and why nothing happened
    when nothing did (``ignored``: a late answer, a tick with nothing due)."""

    leg: Leg
    actions: tuple[Action, ...] = ()
    ignored: str | None = None


def deadline_at(leg: Leg, rules: LegRules) -> float | None:
    """When the leg stops waiting for an approval (None until the pay call left)."""
    return None if leg.sent_at is None else leg.sent_at + rules.deadline


def reverse_not_before(leg: Leg, rules: LegRules) -> float | None:
    """The earliest moment a reverse may be made."""
    return None if leg.sent_at is None else leg.sent_at + rules.reverse_after


def due(leg: Leg, rules: LegRules) -> float | None:
    """When the leg next needs a :class:`Tick` (None: only an answer moves it)."""
    return deadline_at(leg, rules) if leg.status in IN_DOUBT_STATUSES else None


def exhausted(leg: Leg, rules: LegRules) -> bool:
    """REVERSING with every scheduled try spent: an operator's or the sweeper's turn."""
    return (
        leg.status is LegStatus.REVERSING
        and leg.awaiting is None
        and leg.reverse_tries >= rules.reverse_max_tries
    )


# ------------------------------------------------------------------------- step


def step(leg: Leg, event: Event, rules: LegRules | None = None) -> Step:
    """The next leg and the actions to run, for one event. Never raises for an
    answer that comes too late or unasked: it is ignored, and ``Step.ignored`` says why."""
    r = rules or LegRules()
    status = leg.status
    if isinstance(event, Recovered):
        return _recover(leg, event.now, r)
    if isinstance(event, ReverseRequested):
        return _reverse_requested(leg, event.now, r)
    if isinstance(event, Sent):
        if status is not LegStatus.PENDING:
            return _ignore(leg, f"{status.value}: already sent")
        return _change(
            leg, LegStatus.SENT, (CallPay(leg.trade_no),), sent_at=event.now, awaiting="pay"
        )
    if status is LegStatus.REVERSING:
        if isinstance(event, ReverseAnswered):
            return _reverse_answered(leg, event, r)
        if isinstance(event, NoAnswer) and event.call == leg.awaiting == "reverse":
            return _reverse_again(leg, event.now, r)
        # The reverse was journaled: a late success is returned by it, never taken.
        return _ignore(leg, f"reversing: {event.name} ignored")
    if status not in IN_DOUBT_STATUSES:
        return _ignore(leg, f"{status.value}: {event.name} ignored")
    if isinstance(event, PayAnswered):
        return _pay_answered(leg, event, r)
    if isinstance(event, QueryAnswered):
        return _query_answered(leg, event, r)
    if isinstance(event, NoAnswer):
        if event.call != leg.awaiting:
            return _ignore(leg, f"no answer to {event.call}, which is not awaited")
        if event.call == "pay":
            return _keep_asking(leg, LegStatus.UNKNOWN, event.now, r.first_query_after, r)
        return _keep_asking(leg, leg.status, event.now, r.poll_interval, r, last_query_at=event.now)
    if isinstance(event, Tick) and _past_deadline(leg, event.now, r):
        return _start_reverse(leg, event.now, r)
    return _ignore(leg, f"{status.value}: {event.name}: nothing due")


def _change(leg: Leg, status: LegStatus, actions: tuple[Action, ...], **changes: Any) -> Step:
    return Step(replace(leg, status=status, version=leg.version + 1, **changes), actions)


def _ignore(leg: Leg, why: str) -> Step:
    return Step(leg, (), why)


def _past_deadline(leg: Leg, now: float, r: LegRules) -> bool:
    deadline = deadline_at(leg, r)
    return deadline is not None and now >= deadline


def _finish(
    leg: Leg, status: LegStatus, now: float, code: str, message: Text | None, **changes: Any
) -> Step:
    done = replace(leg, **changes)
    record = Record(leg.trade_no, status, code, done.network_code, done.transaction_id, message)
    return _change(done, status, (record,), result_code=code, finished_at=now, awaiting=None)


def _start_reverse(leg: Leg, now: float, r: LegRules, **changes: Any) -> Step:
    not_before = reverse_not_before(leg, r)
    assert not_before is not None  # a leg is reversed only once sent_at is known
    attempt = leg.reverse_tries + 1
    call = CallReverse(leg.trade_no, max(now, not_before), attempt)
    return _change(
        leg, LegStatus.REVERSING, (call,), awaiting="reverse", reverse_tries=attempt, **changes
    )


def _keep_asking(
    leg: Leg, status: LegStatus, now: float, delay: float, r: LegRules, **changes: Any
) -> Step:
    """Query again after ``delay``, or reverse when the deadline has come."""
    if _past_deadline(leg, now, r):
        return _start_reverse(leg, now, r, **changes)
    deadline = deadline_at(leg, r)
    assert deadline is not None
    at = now + delay
    if at >= deadline:
        # No query fits before the deadline (its answer could not be taken): the
        # deadline's tick reverses.
        return _change(leg, status, (), awaiting=None, **changes)
    query = CallQuery(leg.trade_no, at)
    return _change(leg, status, (query,), awaiting="query", queries=leg.queries + 1, **changes)


def _pay_answered(leg: Leg, event: PayAnswered, r: LegRules) -> Step:
    answer, now = event.answer, event.now
    facts: dict[str, Any] = {
        "network_code": answer.network_code or leg.network_code,
        "transaction_id": answer.transaction_id or leg.transaction_id,
    }
    # Definite answers count whenever they come while in doubt: they are the network's
    # word on this trade number. The others only drive the schedule when awaited.
    if answer.outcome is Outcome.DECLINED:
        return _finish(leg, LegStatus.DECLINED, now, answer.result_code, answer.message, **facts)
    if answer.outcome is Outcome.APPROVED:
        if _past_deadline(leg, now, r):
            return _start_reverse(leg, now, r, **facts)
        return _finish(leg, LegStatus.APPROVED, now, "00", answer.message, **facts)
    if leg.awaiting != "pay":
        return _ignore(leg, f"pay answer {answer.outcome.value} not awaited")
    if answer.outcome is Outcome.USER_PAYING:
        return _keep_asking(leg, LegStatus.USER_PAYING, now, r.poll_interval, r, **facts)
    return _keep_asking(leg, LegStatus.UNKNOWN, now, r.first_query_after, r, **facts)


def _query_answered(leg: Leg, event: QueryAnswered, r: LegRules) -> Step:
    answer, now = event.answer, event.now
    state = answer.state
    facts: dict[str, Any] = {
        "network_code": answer.network_code or leg.network_code,
        "transaction_id": answer.transaction_id or leg.transaction_id,
        "last_query_at": now,
    }
    if state in (TradeState.PAID, TradeState.REFUNDED):
        # REFUNDED: it was paid, and someone refunded it since (the merchant, at the
        # network's own portal): the payment happened; refunds are reconciled apart.
        if answer.amount is None or answer.amount == leg.amount:
            if _past_deadline(leg, now, r):
                return _start_reverse(leg, now, r, **facts)
            return _finish(leg, LegStatus.APPROVED, now, "00", answer.message, **facts)
        # Paid, but not what we asked: never approve it; the deadline's reverse returns it.
        state = TradeState.UNKNOWN
    elif state is TradeState.REVERSED:
        # Reversed before us (a reverse whose answer was lost, or the network's own
        # revoke of an unpaid order): no money stayed, and none can move any more.
        return _finish(leg, LegStatus.REVERSED, now, "12", answer.message, **facts)
    elif state in r.final_failures:
        # 05 when the payment failed (the customer cancelled, the bank refused), 12 when
        # the network closed the order: a terminal reads 12 after USER_PAYING as the
        # customer running out of time, which a failed payment is not.
        code = "05" if state is TradeState.PAY_ERROR else "12"
        return _finish(leg, LegStatus.DECLINED, now, code, answer.message, **facts)
    if leg.awaiting != "query":
        return _ignore(leg, f"query answer {state.value} not awaited")
    if state is TradeState.USER_PAYING:
        status = LegStatus.USER_PAYING
    else:
        status = LegStatus.UNKNOWN if leg.status is LegStatus.SENT else leg.status
    return _keep_asking(leg, status, now, r.poll_interval, r, **facts)


def _reverse_answered(leg: Leg, event: ReverseAnswered, r: LegRules) -> Step:
    answer = event.answer
    code = answer.network_code or leg.network_code
    if answer.done:
        return _finish(leg, LegStatus.REVERSED, event.now, "12", answer.message, network_code=code)
    if leg.awaiting != "reverse":
        return _ignore(leg, "reverse answer not awaited")
    return _reverse_again(leg, event.now, r, network_code=code)


def _reverse_again(leg: Leg, now: float, r: LegRules, **changes: Any) -> Step:
    """Another reverse try after the spacing, or none once the tries are spent."""
    if leg.reverse_tries >= r.reverse_max_tries:
        return _change(leg, LegStatus.REVERSING, (), awaiting=None, **changes)
    spacing = r.reverse_spacing[min(leg.reverse_tries, len(r.reverse_spacing)) - 1]
    not_before = reverse_not_before(leg, r)
    assert not_before is not None
    attempt = leg.reverse_tries + 1
    call = CallReverse(leg.trade_no, max(now + spacing, not_before), attempt)
    return _change(
        leg, LegStatus.REVERSING, (call,), awaiting="reverse", reverse_tries=attempt, **changes
    )


def _reverse_requested(leg: Leg, now: float, r: LegRules) -> Step:
    status = leg.status
    if status is LegStatus.PENDING:
        # It may have left unseen: reverse it, counting from now (the latest moment it
        # can have left). A Sent that comes later is ignored, so it never leaves after.
        return _start_reverse(replace(leg, sent_at=now), now, r)
    if status in IN_DOUBT_STATUSES or status is LegStatus.APPROVED:
        return _start_reverse(leg, now, r)
    if status is LegStatus.DECLINED:
        return _ignore(leg, "declined: no money moved, nothing to reverse")
    return _ignore(leg, f"{status.value}: already reversing")


def _recover(leg: Leg, now: float, r: LegRules) -> Step:
    status = leg.status
    if status is LegStatus.PENDING:
        # Recorded, then maybe sent before the crash: ask, never assume. Time counts
        # from now, the latest moment the pay call can have left.
        leg = replace(leg, sent_at=now)
        status = LegStatus.SENT
    if status in IN_DOUBT_STATUSES:
        if _past_deadline(leg, now, r):
            return _start_reverse(leg, now, r)
        # Whatever was in flight died with the process: ask now.
        query = CallQuery(leg.trade_no, now)
        doubt = LegStatus.UNKNOWN if status is LegStatus.SENT else status
        return _change(leg, doubt, (query,), awaiting="query", queries=leg.queries + 1)
    if status is LegStatus.REVERSING:
        # One more try, even when the scheduled ones are spent: the sweeper decides.
        not_before = reverse_not_before(leg, r)
        assert not_before is not None
        attempt = leg.reverse_tries + 1
        call = CallReverse(leg.trade_no, max(now, not_before), attempt)
        return _change(leg, status, (call,), awaiting="reverse", reverse_tries=attempt)
    return _ignore(leg, f"{status.value}: nothing to recover")
