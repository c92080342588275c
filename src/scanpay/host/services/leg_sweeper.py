"""The leg sweeper: what a payment's network leg waits for, done when it is due.

Every host process calls :func:`run_due` about every second. It drives the legs
(:mod:`~scanpay.host.services.network_legs`) whose next step has come: the queries
and reverses the leg scheduled, the deadline's tick (then the reverse), and legs
nobody drives any more (their host died mid-call: the lease on the leg lapsed),
through ``Recovered``: query, then reverse by the network's rules, never assuming
nothing happened. A leg is claimed by a compare-and-set on its version and lease,
so two host processes never drive one leg at once, and claimed legs are driven side
by side, so one slow network call holds up no other.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import or_, select, update

from scanpay.host.db.models import NetworkLeg, Payment
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.network_legs import LEASE, journal, placed_at, seconds
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import (
    IN_DOUBT_STATUSES,
    Event,
    Leg,
    LegStatus,
    NoAnswer,
    QueryAnswered,
    Recovered,
    ReverseAnswered,
    Tick,
    exhausted,
)

__all__ = ["run_due"]

log = logging.getLogger("scanpay.host.leg_sweeper")

#: Legs one process drives at once.
_DRIVERS = 8


def run_due(ctx: HostContext, limit: int = 50) -> int:
    """Drive every leg whose next call or tick is due, or whose driver died (lease
    lapsed); returns how many were driven. Safe in every host process at once."""
    now = ctx.now()
    with ctx.db.read() as session:
        found = session.execute(
            select(NetworkLeg.id, NetworkLeg.version)
            .where(
                NetworkLeg.next_at <= now,
                or_(NetworkLeg.lease_until.is_(None), NetworkLeg.lease_until < now),
            )
            .order_by(NetworkLeg.next_at)
            .limit(limit)
        ).all()
    if not found:
        return 0
    # Legs are driven side by side: one slow network call must not hold up the others
    # (each waits at most its own timeout).
    with ThreadPoolExecutor(max_workers=min(_DRIVERS, len(found))) as pool:
        return sum(pool.map(lambda due: _claim_and_drive(ctx, *due, now), found))


def _claim_and_drive(ctx: HostContext, pk: int, version: int, now: datetime) -> int:
    """Drive leg ``pk`` if this process can claim it: 1 when it did, else 0."""
    if not _claim(ctx, pk, version, now):
        return 0
    try:
        # A call's answer may make the next one due at once (past the deadline a
        # query's answer starts the reverse): a few rounds, then the next pass.
        rounds = 0
        while _drive(ctx, pk) and rounds < 3:
            rounds += 1
            if not _claim(ctx, pk, _version(ctx, pk), ctx.now()):
                break
    except Exception:  # one leg's trouble never stops the others
        log.exception("driving network leg %s failed", pk)
        _release(ctx, pk)
    return 1


def _claim(ctx: HostContext, pk: int, version: int, now: datetime) -> bool:
    """Take the lease on leg ``pk`` unless another process took it or moved the leg."""
    with ctx.db.write() as session:
        taken = session.execute(
            update(NetworkLeg)
            .where(
                NetworkLeg.id == pk,
                NetworkLeg.version == version,
                or_(NetworkLeg.lease_until.is_(None), NetworkLeg.lease_until < now),
            )
            .values(lease_until=now + LEASE)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)


def _release(ctx: HostContext, pk: int) -> None:
    with ctx.db.write() as session:
        session.execute(update(NetworkLeg).where(NetworkLeg.id == pk).values(lease_until=None))


def _version(ctx: HostContext, pk: int) -> int:
    with ctx.db.read() as session:
        record = session.get(NetworkLeg, pk)
        assert record is not None
        return record.version


def _drive(ctx: HostContext, pk: int) -> bool:
    """One pass over a claimed leg: a state event when time or a dead driver calls for
    one, then the call that is due, its answer journaled (the lease released). True
    when a call was made and the leg is due again already."""
    now = ctx.now()
    with ctx.db.read() as session:
        record = session.get(NetworkLeg, pk)
        assert record is not None
        payment = session.get(Payment, record.payment_id)
        assert payment is not None
        leg = Leg.from_dict(json.loads(record.leg))
        # A disabled channel still finishes what it started: queries and reverses.
        channel = channel_for(
            ctx, payment.merchant_id, record.network, session=session, disabled=True
        )
    rules = ctx.rules_for(leg.network)
    event: Event | None = None
    if leg.status is LegStatus.PENDING or leg.awaiting == "pay" or exhausted(leg, rules):
        event = Recovered(seconds(now))  # its driver died mid-call, or the tries ran out
    elif leg.status in IN_DOUBT_STATUSES and leg.awaiting is None:
        event = Tick(seconds(now))
    if event is not None:
        journal(ctx, pk, [event], release=False)
        with ctx.db.read() as session:
            record = session.get(NetworkLeg, pk)
            assert record is not None
            leg = Leg.from_dict(json.loads(record.leg))
            next_at = record.next_at
        if next_at is None or next_at > ctx.now():
            _release(ctx, pk)
            return False
    if channel is None:
        log.error("leg %s: its merchant's %s channel is gone", leg.trade_no, leg.network)
        _release(ctx, pk)
        return False
    call = leg.awaiting
    if call not in ("query", "reverse"):
        _release(ctx, pk)
        return False
    network = ctx.network(leg.network)
    placed = placed_at(leg)
    answer: Event
    try:
        if call == "query":
            found = network.query(channel, leg.trade_no, placed)
            answer = QueryAnswered(seconds(ctx.now()), found)
        else:
            done = network.reverse(channel, leg.trade_no, placed)
            answer = ReverseAnswered(seconds(ctx.now()), done)
    except NetworkError as exc:
        log.error("leg %s: the channel cannot be used: %s", leg.trade_no, exc.code)
        answer = NoAnswer(seconds(ctx.now()), call)
    except Exception:
        log.exception("leg %s: %s call failed", leg.trade_no, call)
        answer = NoAnswer(seconds(ctx.now()), call)
    journal(ctx, pk, [answer])
    with ctx.db.read() as session:
        record = session.get(NetworkLeg, pk)
        assert record is not None
        return record.next_at is not None and record.next_at <= ctx.now()
