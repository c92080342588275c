"""Payments routed to a payment network: each one's leg journaled, then acted on.

The network leg (:mod:`scanpay.networks.leg`) is pure; this module is its driver.
Every step is journaled (``network_legs``) in a transaction *before* the host acts
on it, and the network is only ever called outside a transaction:

1. the payment request records the payment USER_PAYING and its leg as sent
   (:func:`open_leg`), and commits;
2. the pay call goes out (:func:`pay`), with the adapter's own timeout;
3. its answer, or its absence, is journaled with what it does to the payment: an
   approval captures, a decline fails it, doubt schedules a query.

What remains is run by :func:`~scanpay.host.services.leg_sweeper.run_due`, which
the host's sweeper calls every
second or so in every host process: the queries and reverses the leg scheduled,
the deadline's tick (then the reverse), and legs nobody drives any more (their
host died mid-call: the lease on the leg lapsed) through ``Recovered``: query,
then reverse by the network's rules, never assuming nothing happened. A leg is
claimed by a compare-and-set on its version and lease, so two host processes never
drive one leg at once.

A terminal's reverse (:func:`request_reverse`) is journaled in the transaction that
reverses the payment; the reverse call itself goes out when the network allows it
(WeChat Pay: 15 s after the pay call). The payment answers REVERSED at once: the
host owns the reverse from then on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from scanpay.host.db.models import NetworkLeg, Payment, merchant_public_id
from scanpay.host.domain.payment_state import Authorised, Declined, Expire, PaymentState
from scanpay.host.services import audit
from scanpay.host.services.context import HostContext
from scanpay.host.services.payment_steps import apply_event, audit_step
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import (
    IN_DOUBT_STATUSES,
    CallQuery,
    CallReverse,
    Event,
    Leg,
    LegStatus,
    NoAnswer,
    PayAnswered,
    Record,
    ReverseRequested,
    Sent,
    Step,
    due,
    exhausted,
    step,
)
from scanpay.networks.port import Outcome, PayAnswer, PayRequest

__all__ = [
    "LEASE",
    "LegInfo",
    "journal",
    "list_legs",
    "network_reason",
    "open_leg",
    "pay",
    "placed_at",
    "request_reverse",
    "seconds",
]

log = logging.getLogger("scanpay.host.network_legs")

#: How long a host process holds a leg while it makes a call: longer than any call
#: takes (the adapters' own timeouts are 10 s at most), so a live driver is never
#: doubled; a dead one's legs are recovered this long after it died.
LEASE = timedelta(seconds=20)
#: A reverse whose scheduled tries are spent is tried again this often, until it is done.
_EXHAUSTED_RETRY = timedelta(seconds=300)

T = TypeVar("T")


def seconds(when: datetime) -> float:
    """``when`` as the leg counts time: seconds since the epoch."""
    return when.timestamp()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def placed_at(leg: Leg) -> datetime | None:
    """When ``leg``'s trade was placed (its pay call journaled as sent), as the network
    port wants it with every later call about the trade."""
    return _at(leg.sent_at) if leg.sent_at is not None else None


def network_reason(network: str, network_code: str | None) -> str:
    """The stored reason of a payment a network declined: ``network:CODE``."""
    return f"{network}:{network_code or 'UNKNOWN'}"[:64]


def open_leg(ctx: HostContext, session: Session, row: Payment, now: datetime) -> int:
    """Journal ``row``'s leg as sent, in the transaction that records the payment
    USER_PAYING; the caller makes the pay call (:func:`pay`) once it has committed.
    The network trade number is the payment's own id: new for every payment request,
    the same for every retry of one. Returns the leg's key."""
    assert row.network is not None
    leg = Leg(trade_no=row.public_id, network=row.network, amount=row.amount)
    sent = step(leg, Sent(seconds(now)), ctx.rules_for(row.network)).leg
    record = NetworkLeg(
        payment_id=row.id,
        network=row.network,
        trade_no=leg.trade_no,
        status=sent.status,
        leg=json.dumps(sent.to_dict()),
        version=sent.version,
        # Found by the sweeper only if this process dies before the answer is journaled.
        next_at=now + LEASE,
        lease_until=now + LEASE,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    return record.id


def pay(
    ctx: HostContext, leg_pk: int, request: PayRequest, view: Callable[[Payment, datetime], T]
) -> T:
    """Make the pay call of a journaled leg and journal its answer; ``view`` of the
    payment as it then stands (what the terminal is answered)."""
    try:
        answer = ctx.network(request.channel.network).pay(request)
        event: Event = PayAnswered(seconds(ctx.now()), answer)
    except NetworkError as exc:
        # Refused before anything was sent (a channel the adapter cannot use): a
        # definite no, in the acquirer's words; nothing can have moved.
        log.error("network %s refused the channel: %s", request.channel.network, exc.code)
        refused = PayAnswer(Outcome.DECLINED, "58", exc.text, network_code=exc.code)
        event = PayAnswered(seconds(ctx.now()), refused)
    except Exception:  # an adapter's bug is no answer: query, then reverse
        log.exception("pay call for %s failed", request.trade_no)
        event = NoAnswer(seconds(ctx.now()), "pay")
    result = journal(ctx, leg_pk, [event], view=view)
    assert result is not None
    return result


def request_reverse(ctx: HostContext, session: Session, row: Payment, now: datetime) -> None:
    """Journal the terminal's reverse of routed payment ``row`` (the caller has reversed
    the payment itself, under its row lock); the sweeper makes the call when due."""
    record = session.scalar(
        select(NetworkLeg).where(NetworkLeg.payment_id == row.id).with_for_update()
    )
    if record is None:
        return
    leg = Leg.from_dict(json.loads(record.leg))
    moved = step(leg, ReverseRequested(seconds(now)), ctx.rules_for(leg.network))
    _store(ctx, session, record, leg, [moved], now, release=False)


def journal(
    ctx: HostContext,
    leg_pk: int,
    events: Sequence[Event],
    *,
    release: bool = True,
    view: Callable[[Payment, datetime], T] | None = None,
) -> T | None:
    """Apply ``events`` to the stored leg (not to a copy in memory: a terminal's reverse
    may have been journaled meanwhile), with their effect on the payment, in one
    transaction. ``release``: the caller's call is over, give up the lease."""
    now = ctx.now()
    with ctx.db.write() as session:
        # The payment's lock first, then the leg's: the order a terminal's reverse takes
        # them in (reverse_payment, then request_reverse), so the two never deadlock.
        payment_pk = session.scalar(select(NetworkLeg.payment_id).where(NetworkLeg.id == leg_pk))
        assert payment_pk is not None  # legs are never deleted
        row = session.get(Payment, payment_pk, with_for_update=True)
        assert row is not None
        record = session.get(NetworkLeg, leg_pk, with_for_update=True, populate_existing=True)
        assert record is not None
        leg = Leg.from_dict(json.loads(record.leg))
        steps: list[Step] = []
        for event in events:
            moved = step(leg, event, ctx.rules_for(leg.network))
            _settle(ctx, session, row, leg, moved, now)
            if moved.ignored:
                log.info("leg %s: %s", leg.trade_no, moved.ignored)
            steps.append(moved)
            leg = moved.leg
        _store(ctx, session, record, Leg.from_dict(json.loads(record.leg)), steps, now, release)
        return view(row, now) if view is not None else None


def _store(
    ctx: HostContext,
    session: Session,
    record: NetworkLeg,
    before: Leg,
    steps: Sequence[Step],
    now: datetime,
    release: bool,
) -> None:
    """Write the leg after ``steps``, with when it next needs attention."""
    leg = steps[-1].leg if steps else before
    rules = ctx.rules_for(before.network)
    calls = [a for s in steps for a in s.actions if isinstance(a, CallQuery | CallReverse)]
    if calls:
        record.next_at = _at(calls[-1].at)
    elif leg.status in (LegStatus.APPROVED, LegStatus.DECLINED, LegStatus.REVERSED):
        record.next_at = None
    elif exhausted(leg, rules):
        record.next_at = now + _EXHAUSTED_RETRY
    elif leg.status in IN_DOUBT_STATUSES and leg.awaiting is None:
        deadline = due(leg, rules)
        record.next_at = _at(deadline) if deadline is not None else now
    # Otherwise the call scheduled before still stands (an answer that was ignored).
    record.leg = json.dumps(leg.to_dict())
    record.status, record.version, record.updated_at = leg.status, leg.version, now
    if release:
        record.lease_until = None
    session.flush()


def _settle(
    ctx: HostContext, session: Session, row: Payment, before: Leg, moved: Step, now: datetime
) -> None:
    """What one step of the leg does to the payment (in the same transaction)."""
    if row.status != PaymentState.USER_PAYING:
        return  # the terminal reversed it, or it is settled: the leg only cleans up
    assert row.network is not None
    status = PaymentState.USER_PAYING.value
    for action in moved.actions:
        if not isinstance(action, Record):
            continue
        if action.outcome is LegStatus.APPROVED:
            apply_event(session, row, Authorised(), now)
            row.reason = None
        else:
            apply_event(session, row, Declined(action.result_code), now)
            row.reason = network_reason(row.network, action.network_code)
        action_name = f"payment.network_{action.outcome.value.lower()}"
        audit_step(
            ctx,
            session,
            row,
            audit.HOST,
            action_name,
            now,
            before=status,
            network_code=action.network_code,
            transaction_id=action.transaction_id,
        )
        return
    if moved.leg.status is LegStatus.REVERSING and before.status is not LegStatus.REVERSING:
        # The deadline passed with the customer's payment still in doubt: the sale failed,
        # and the reverse that follows returns anything the network took.
        apply_event(session, row, Expire(), now)
        row.reason = "network_timeout"
        audit_step(ctx, session, row, audit.HOST, "payment.network_timeout", now, before=status)


# ---------------------------------------------------------------------- the operator's view


@dataclass(frozen=True, slots=True)
class LegInfo:
    """One payment's leg as an operator reads it (``scanpay host channel legs``)."""

    trade_no: str
    network: str
    merchant_id: str
    out_trade_no: str
    payment_status: str
    status: str
    amount: int
    currency: str
    network_code: str | None
    reverse_tries: int
    next_at: datetime | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("next_at", "created_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        return data


def list_legs(ctx: HostContext, *, unsettled: bool = True, limit: int = 100) -> list[LegInfo]:
    """The newest legs (``unsettled``: only those not yet approved, declined or
    reversed: in doubt, or a reverse still to be done)."""
    query = select(NetworkLeg, Payment).join(Payment, Payment.id == NetworkLeg.payment_id)
    if unsettled:
        query = query.where(NetworkLeg.next_at.is_not(None))
    query = query.order_by(NetworkLeg.id.desc()).limit(limit)
    with ctx.db.read() as session:
        found = []
        for record, payment in session.execute(query):
            leg = Leg.from_dict(json.loads(record.leg))
            found.append(
                LegInfo(
                    trade_no=record.trade_no,
                    network=record.network,
                    merchant_id=merchant_public_id(payment.merchant_id),
                    out_trade_no=payment.out_trade_no,
                    payment_status=payment.status,
                    status=record.status,
                    amount=payment.amount,
                    currency=payment.currency,
                    network_code=leg.network_code,
                    reverse_tries=leg.reverse_tries,
                    next_at=record.next_at,
                    created_at=record.created_at,
                )
            )
        return found
