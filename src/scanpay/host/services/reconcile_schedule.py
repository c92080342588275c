"""The scheduled reconciliation (issue 17): the days of each network that are due now
(:mod:`scanpay.host.domain.reconcile_schedule`: from ``SCANPAY_RECONCILE_AT`` on the
next day in the network's zone, until every channel's run of the day is ``done``;
again at most every ``SCANPAY_RECONCILE_RETRY`` seconds; ``SCANPAY_RECONCILE_DAYS``
days back), reconciled by :func:`~scanpay.host.services.reconciliation.reconcile` as
the host (``host:scanpay``). ``serve`` calls :func:`reconcile_due` about once a minute
in each process; ``scanpay host sweep --reconcile`` once.

**One process at a time.** Several host processes (workers, machines on one
PostgreSQL) check at once. A run's row is unique on (day, network, channel key) and a
rerun is idempotent, so two processes working one day do no harm, but each would ask
the network for every statement. So a process works a network's due days only under
that network's claim (:func:`claim`), taken without waiting (the others skip the
network until their next check) and only when a day is due, and reads again which
days are due once it holds it: a day another process finished meanwhile is seen done
and not run again.

A day due again runs every channel of the network, not only those not ready yet:
:func:`~scanpay.host.services.reconciliation.reconcile` has no form for one channel.
The other channels' statements are fetched again: a rerun is idempotent.

The claim is no row (and no migration): no table of chores or leases exists (a
network leg's lease is a column of the leg), and a row leased for a time needs a
length to outlast the slowest run (each statement call may take 30 s) and goes stale
when its holder dies. It is a lock the process's own connection holds, which ends with
the process however it ends: on PostgreSQL a session advisory lock
(:data:`RECONCILE_LOCK`, the network's ``hashtext``: the two-key form, apart from the
migrations' and ``serve``'s keys), on a connection held for the claim; on SQLite an
``flock`` of ``<database>-reconcile-<network>`` beside the file (as ``serve``'s mark
and the writers' queue; every process on a SQLite file runs on its machine).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from sqlalchemy import select, text

from scanpay.host.db.models import (
    MerchantChannel,
    NetworkAccount,
    ReconciliationRun,
    merchant_public_id,
)
from scanpay.host.domain.reconcile_schedule import (
    ChannelSeen,
    RunSeen,
    Schedule,
    due_days,
    window,
)
from scanpay.host.services.break_policy import apply_policy
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconciliation import NETWORK_ZONES, network_zone, reconcile
from scanpay.host.services.reconciliation_records import RunInfo, RunStatus
from scanpay.host.settings import HostSettings
from scanpay.networks.port import ChannelMode

__all__ = ["RECONCILE_LOCK", "claim", "due", "reconcile_due", "schedule_of"]

log = logging.getLogger("scanpay.host.reconciliation")

#: The PostgreSQL advisory lock namespace of "working a network's due days": the first
#: key of the two-key form, the network's ``hashtext`` the second.
RECONCILE_LOCK = 0x5CA9_0003


def schedule_of(settings: HostSettings) -> Schedule | None:
    """The settings' schedule; None when ``SCANPAY_RECONCILE_AT`` is ``off``."""
    if settings.reconcile_at is None:
        return None
    return Schedule(
        at=settings.reconcile_at,
        days_back=settings.reconcile_days,
        retry=timedelta(seconds=settings.reconcile_retry),
    )


# ----------------------------------------------------------------------- the claim


@contextmanager
def claim(ctx: HostContext, network: str) -> Iterator[bool]:
    """Hold the claim on ``network``'s due days for the block: True when this process
    has it, False when another holds it (never waits). See the module docstring."""
    holder = _advisory_lock if ctx.db.dialect == "postgresql" else _file_lock
    with holder(ctx, network) as held:
        yield held


_LOCK = text("SELECT pg_try_advisory_lock(CAST(:space AS integer), hashtext(:network))")
_UNLOCK = text("SELECT pg_advisory_unlock(CAST(:space AS integer), hashtext(:network))")


@contextmanager
def _advisory_lock(ctx: HostContext, network: str) -> Iterator[bool]:
    keys = {"space": RECONCILE_LOCK, "network": network}
    with ctx.db.engine.connect() as conn:
        held = bool(conn.execute(_LOCK, keys).scalar())
        conn.commit()  # a session's lock: it outlives the transaction
        try:
            yield held
        finally:
            if held:
                try:
                    conn.execute(_UNLOCK, keys)
                    conn.commit()
                except Exception:
                    # It may hold the lock still: closed, never handed out again by the pool.
                    log.warning("reconciliation claim on %s not released: closed", network)
                    conn.invalidate()


@contextmanager
def _file_lock(ctx: HostContext, network: str) -> Iterator[bool]:
    # The engine refuses a SQLite database that is not a file, so there is one to lock beside.
    path = f"{ctx.db.engine.url.database}-reconcile-{network}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            # Each claim opens the file anew: a second claim in this process is refused too.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing it releases the lock


# ------------------------------------------------------------------- what is due


def due(ctx: HostContext, network: str, now: datetime | None = None) -> list[date]:
    """The days of ``network`` due at ``now`` (default: the context's clock), oldest
    first; none when the schedule is off."""
    schedule = schedule_of(ctx.settings)
    if schedule is None:
        return []
    zone = network_zone(network)
    now = ctx.now() if now is None else now
    days = window(now, zone, schedule)
    with ctx.db.read() as session:
        # The keys reconciliation stores its runs under (services.reconciliation):
        # a direct channel's merchant id, a service-provider account's ``account:LABEL``.
        direct = session.execute(
            select(MerchantChannel.merchant_id, MerchantChannel.created_at).where(
                MerchantChannel.network == network,
                MerchantChannel.mode == ChannelMode.DIRECT.value,
            )
        )
        channels = [ChannelSeen(merchant_public_id(pk), since) for pk, since in direct]
        accounts = session.execute(
            select(NetworkAccount.label, NetworkAccount.created_at).where(
                NetworkAccount.network == network
            )
        )
        channels += [ChannelSeen(f"account:{label}", since) for label, since in accounts]
        stored = session.execute(
            select(
                ReconciliationRun.day,
                ReconciliationRun.channel_key,
                ReconciliationRun.status,
                ReconciliationRun.ran_at,
            ).where(
                ReconciliationRun.network == network,
                ReconciliationRun.day >= days[0],
                ReconciliationRun.day <= days[-1],
            )
        )
        runs = [
            RunSeen(day, key, status == RunStatus.DONE.value, ran_at)
            for day, key, status, ran_at in stored
        ]
    return due_days(now, zone, schedule, channels, runs)


# ------------------------------------------------------------------------ the API


def reconcile_due(ctx: HostContext, *, stop: threading.Event | None = None) -> list[RunInfo]:
    """Reconcile every day due now, network by network, each under the network's
    :func:`claim` (a network another process is working is skipped); the runs made.
    Nothing when ``SCANPAY_RECONCILE_AT`` is ``off``. A day that fails is logged and
    left for a later call; once ``stop`` is set, no other day is begun."""
    if schedule_of(ctx.settings) is None:
        return []
    runs: list[RunInfo] = []
    for network in sorted(NETWORK_ZONES):
        if stop is not None and stop.is_set():
            break
        try:
            if not due(ctx, network):
                continue  # most looks: nothing to do, and no claim taken for it
            with claim(ctx, network) as held:
                if not held:
                    log.info("scheduled reconciliation of %s: another process has it", network)
                    continue
                # Read under the claim: a day another process just finished is done.
                for day in due(ctx, network):
                    if stop is not None and stop.is_set():
                        break
                    runs += _day(ctx, network, day)
        except Exception:  # the next call tries again; other networks go on
            log.exception("scheduled reconciliation of %s failed", network)
    return runs


def _day(ctx: HostContext, network: str, day: date) -> list[RunInfo]:
    try:
        made = reconcile(ctx, day, network)
    except Exception:  # a day that fails does not keep the later days from running
        log.exception("scheduled reconciliation of %s %s failed", network, day)
        return []
    waiting = sum(1 for run in made if run.status is RunStatus.STATEMENT_NOT_READY)
    log.info(
        "scheduled reconciliation of %s %s: %d runs, %d statements not ready",
        network,
        day,
        len(made),
        waiting,
    )
    if any(run.open_breaks for run in made):
        # What the host can settle by itself, it settles now; the rest waits for an operator.
        try:
            settled = [r for r in apply_policy(ctx, day=day, network=network) if r.resolution]
        except Exception:
            log.exception("the break policy on %s %s stopped", network, day)
        else:
            log.info("break policy on %s %s: %d resolved", network, day, len(settled))
    return made
