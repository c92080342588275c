"""Daily reconciliation (issue 17, "Reconciliation, every day"): each network
statement of a day against the host's own trades, the breaks stored for an operator
to resolve.

**What is reconciled.** One statement per channel that has one of its own:

- a merchant's **direct** channel (its own merchant account at the network): its
  statement holds that account's trades only; the run's channel key is the merchant's
  id (``M000001``), and every break is the merchant's;
- one of the acquirer's **service-provider accounts** (``network_accounts``), once
  for all its sub-merchants: the account's statement asked without a sub-merchant
  (WeChat Pay's trade bill without ``sub_mchid`` covers every sub-merchant). The port
  has no channel for a whole account (a service-provider :class:`Channel` names one
  sub-merchant), and a request without a sub-merchant is the direct form's: so the
  account's ids and secrets go in a ``direct`` channel. The run's key is
  ``account:LABEL``. The host's trades in it are those of the merchants whose
  channel is under the account now; a line is given to a merchant through its trade
  number (the payment's id, unique in the host), not through the line's sub-merchant
  id (the port's lines do not carry it): a line whose trade number the host does not
  know is a break of the account, with no merchant.

A channel disabled since still is reconciled: payments it took are on its statements.
A merchant whose channel moved (to another mode or account) on the day has its
trades on the old channel's statement: they show there as ``network_only`` and here
as ``host_only``.

**The day** is the network's: :data:`NETWORK_ZONES` (WeChat Pay's bill is by China
time, Asia/Shanghai). The host's trades of the day are the payments it captured
between that day's midnights; the host's trades a line names are read whatever
their day. A trade captured just after midnight and created before it may be on the
previous day's statement: for those only, that statement is fetched too, and the
pure matcher excuses what it finds there (:mod:`scanpay.host.domain.reconciliation`).

**Each run:** the statement is fetched outside any transaction (the adapter's own
timeout), the host's trades read, :func:`~scanpay.host.domain.reconciliation.match`
pairs them, and the run and its breaks are written in one transaction with an audit
record (``reconciliation.run``). A statement the network does not give (not
published yet, no answer, a channel the adapter cannot use) is a run with status
``statement_not_ready`` and the reason in ``network_code``; the breaks of the last
run that had a statement stay as they were.

**Run again** (same day, network and channel key): the run's row is reused; its
unresolved breaks are replaced by what this run found (one found again keeps its row
and id), its resolved ones are kept, and a break found again that was resolved is not
added twice. Breaks are told apart by kind, trade number, refund number and order.

**Resolving** (``resolve_break``): an operator's decision in words, with who and
when, audited (``reconciliation.resolve``), once only (``break_resolved``). The runs
and breaks as operators read and resolve them:
:mod:`~scanpay.host.services.reconciliation_records`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    MerchantChannel,
    NetworkAccount,
    NetworkRefund,
    Payment,
    ReconciliationBreak,
    ReconciliationRun,
    Refund,
    merchant_public_id,
)
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.periods import check_day
from scanpay.host.domain.reconciliation import Break, HostRefund, HostTrade, Result, match
from scanpay.host.services import audit, channels, network_fees
from scanpay.host.services.channel_secrets import open_secrets
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconciliation_records import (
    ReconciliationError,
    RunInfo,
    RunStatus,
    run_info,
)
from scanpay.host.services.secrets import NETWORK_ACCOUNT_SECRETS
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Channel, ChannelMode, Statement, StatementLine

__all__ = [
    "CAPTURED_STATES",
    "NETWORK_ZONES",
    "day_bounds",
    "network_zone",
    "reconcile",
]

log = logging.getLogger("scanpay.host.reconciliation")

#: Each network's time zone: the day its statements are by. A network is reconciled
#: once it is named here.
NETWORK_ZONES: Mapping[str, ZoneInfo] = MappingProxyType(
    # The bills' days are Beijing days.
    {
        "wechat_pay": ZoneInfo("Asia/Shanghai"),
        "alipay": ZoneInfo("Asia/Shanghai"),
        "unionpay": ZoneInfo("Asia/Shanghai"),
    }
)
#: A payment in one of these holds the money at the host (refunds are lines of their own).
CAPTURED_STATES = frozenset(
    {PaymentState.SUCCESS, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED}
)
#: The longest resolution an operator may write.
#: Trade numbers per ``IN (...)``: well below SQLite's limit on bound parameters.
_CHUNK = 500

# -------------------------------------------------------------------------- the day


def network_zone(network: str) -> ZoneInfo:
    """The time zone of ``network``'s statements (``network_unknown`` for another)."""
    zone = NETWORK_ZONES.get(network)
    if zone is None:
        raise ReconciliationError("network_unknown")
    return zone


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants ``day`` starts and ends at in ``zone`` (the end excluded)."""
    start = datetime.combine(day, time(0, 0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), zone)
    return start, end


# ---------------------------------------------------------------------- the channels


@dataclass(frozen=True, slots=True)
class _Target:
    """One statement to fetch: a direct channel or a service-provider account."""

    network: str
    key: str
    channel: Channel | None
    """None when the channel cannot be used (``problem`` says why)."""
    merchant_pk: int | None = None
    """The direct channel's merchant."""
    account_pk: int | None = None
    problem: str | None = None


def _direct(ctx: HostContext, session: Session, row: MerchantChannel) -> _Target:
    key = merchant_public_id(row.merchant_id)
    try:
        channel = channels.channel_for(
            ctx, row.merchant_id, row.network, session=session, disabled=True
        )
    except NetworkError as exc:
        return _Target(row.network, key, None, merchant_pk=row.merchant_id, problem=exc.code)
    return _Target(row.network, key, channel, merchant_pk=row.merchant_id)


def _account(ctx: HostContext, row: NetworkAccount) -> _Target:
    key = f"account:{row.label}"
    try:
        # The whole account's statement is asked without a sub-merchant: the direct form.
        channel = Channel(
            network=row.network,
            mode=ChannelMode.DIRECT,
            app_id=row.app_id,
            mch_id=row.mch_id,
            secrets=open_secrets(ctx, row.secrets_sealed, NETWORK_ACCOUNT_SECRETS),
        )
    except NetworkError as exc:
        return _Target(row.network, key, None, account_pk=row.id, problem=exc.code)
    return _Target(row.network, key, channel, account_pk=row.id)


def _targets(ctx: HostContext, networks: Sequence[str]) -> list[_Target]:
    with ctx.db.read() as session:
        direct = session.scalars(
            select(MerchantChannel)
            .where(
                MerchantChannel.network.in_(networks),
                MerchantChannel.mode == ChannelMode.DIRECT.value,
            )
            .order_by(MerchantChannel.network, MerchantChannel.merchant_id)
        )
        found = [_direct(ctx, session, row) for row in direct]
        accounts = session.scalars(
            select(NetworkAccount)
            .where(NetworkAccount.network.in_(networks))
            .order_by(NetworkAccount.network, NetworkAccount.label)
        )
        found += [_account(ctx, row) for row in accounts]
    return found


# ------------------------------------------------------------------- fetch and match


def _fetch(ctx: HostContext, target: _Target, day: date) -> Statement:
    """The statement of ``day``; one not ready for any trouble (never raises)."""
    if target.channel is None:
        return Statement(day, False, (), target.problem)
    try:
        return ctx.network(target.network).statement(target.channel, day)
    except NetworkError as exc:
        log.error("statement %s %s %s: %s", target.network, target.key, day, exc.code)
        return Statement(day, False, (), exc.code)
    except Exception:  # an adapter's bug is no statement, not the end of the others
        log.exception("statement %s %s %s failed", target.network, target.key, day)
        return Statement(day, False, (), "adapter_error")


def _mine(target: _Target) -> ColumnElement[bool]:
    """The payments of the target's merchants (an account's: those under it now)."""
    if target.merchant_pk is not None:
        return Payment.merchant_id == target.merchant_pk
    members = select(MerchantChannel.merchant_id).where(
        MerchantChannel.account_id == target.account_pk,
        MerchantChannel.network == target.network,
        MerchantChannel.mode == ChannelMode.SERVICE_PROVIDER.value,
    )
    return Payment.merchant_id.in_(members)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _host_payments(
    session: Session,
    target: _Target,
    lines: Iterable[StatementLine],
    start: datetime,
    end: datetime,
) -> list[Payment]:
    """The payments captured between ``start`` and ``end``, and those the lines name."""
    base = select(Payment).where(
        Payment.network == target.network, Payment.tombstone.is_(False), _mine(target)
    )
    found = {
        row.id: row
        for row in session.scalars(base.where(Payment.paid_at >= start, Payment.paid_at < end))
    }
    named = sorted({line.trade_no for line in lines})
    for chunk in _chunks(named):
        found.update(
            (row.id, row) for row in session.scalars(base.where(Payment.public_id.in_(chunk)))
        )
    return sorted(found.values(), key=lambda row: row.id)


def _host_refunds(
    session: Session, rows: Sequence[Payment], start: datetime, end: datetime
) -> dict[int, list[HostRefund]]:
    """The refunds the host made through the network of each of ``rows`` (payment key
    -> refunds), by the network refund's number (the host refund's id); one is on the
    day when the network's final word on it came that day."""
    found: dict[int, list[HostRefund]] = {}
    keys = [row.id for row in rows]
    for i in range(0, len(keys), _CHUNK):
        query = (
            select(Refund, NetworkRefund.updated_at)
            .join(NetworkRefund, NetworkRefund.refund_id == Refund.id)
            .where(Refund.payment_id.in_(keys[i : i + _CHUNK]), Refund.status == "SUCCESS")
        )
        for refund, settled in session.execute(query):
            made = HostRefund(
                refund.public_id, refund.amount, refund.currency, start <= settled < end
            )
            found.setdefault(refund.payment_id, []).append(made)
    return found


def _host_trade(
    row: Payment, start: datetime, end: datetime, refunds: Sequence[HostRefund]
) -> HostTrade:
    captured = row.status in CAPTURED_STATES
    on_day = captured and row.paid_at is not None and start <= row.paid_at < end
    return HostTrade(
        row.public_id,
        row.amount,
        row.currency,
        row.status,
        captured=captured,
        on_day=on_day,
        payment_id=row.id,
        refunds=tuple(sorted(refunds, key=lambda r: r.refund_no)),
    )


@dataclass(frozen=True, slots=True)
class _Found:
    statement: Statement
    result: Result | None = None
    owners: Mapping[int, int] = field(default_factory=dict)
    """Payment key -> its merchant's key, for the breaks."""


def _find(ctx: HostContext, target: _Target, day: date, zone: ZoneInfo) -> _Found:
    """Fetch (outside any transaction), read the host's side, match."""
    statement = _fetch(ctx, target, day)
    if not statement.ready:
        return _Found(statement)
    start, end = day_bounds(day, zone)
    with ctx.db.read() as session:
        rows = _host_payments(session, target, statement.lines, start, end)
        refunds = _host_refunds(session, rows, start, end)
    host = [_host_trade(row, start, end, refunds.get(row.id, ())) for row in rows]
    named = {line.trade_no for line in statement.lines}
    created = {row.public_id: row.created_at for row in rows}
    late = [t for t in host if t.on_day and t.trade_no not in named and created[t.trade_no] < start]
    earlier: Sequence[StatementLine] = ()
    if late:
        # Sales across midnight: the network may have booked them the day before.
        previous = _fetch(ctx, target, day - timedelta(days=1))
        earlier = previous.lines if previous.ready else ()
    result = match(host, statement.lines, earlier=earlier)
    return _Found(statement, result, {row.id: row.merchant_id for row in rows})


# ------------------------------------------------------------------------- storing


def _break_keys(items: Iterable[tuple[str, str, str | None]]) -> list[tuple[str, str, str, int]]:
    """(kind, trade number, refund number, n): the n-th break of its kind on a refund."""
    seen: Counter[tuple[str, str, str]] = Counter()
    keys = []
    for kind, trade_no, refund_no in items:
        base = (kind, trade_no, refund_no or "")
        keys.append((*base, seen[base]))
        seen[base] += 1
    return keys


def _cut(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def _fill(row: ReconciliationBreak, found: Break, merchant_pk: int | None, now: datetime) -> None:
    """``row`` says ``found`` (columns are cut to size: a line's values are the network's)."""
    row.kind = found.kind.value
    row.trade_no = found.trade_no[:64]
    row.refund_no = _cut(found.refund_no, 64)
    row.transaction_id = _cut(found.transaction_id, 64)
    row.payment_id = found.payment_id
    row.merchant_id = merchant_pk
    row.host_amount = found.host_amount
    row.network_amount = found.network_amount
    row.currency = _cut(found.currency, 3)
    row.detail = found.detail.stored()[:256] if found.detail is not None else ""
    row.found_at = now


def _store_breaks(
    session: Session, run: ReconciliationRun, target: _Target, found: _Found, now: datetime
) -> tuple[int, int]:
    """Replace the run's unresolved breaks with ``found``'s; (added, removed)."""
    assert found.result is not None
    existing = list(
        session.scalars(
            select(ReconciliationBreak)
            .where(ReconciliationBreak.run_id == run.id)
            .order_by(ReconciliationBreak.id)
            .with_for_update()
        )
    )
    stored = dict(
        zip(_break_keys((r.kind, r.trade_no, r.refund_no) for r in existing), existing, strict=True)
    )
    breaks = found.result.breaks
    fresh = dict(
        zip(
            _break_keys((b.kind.value, b.trade_no[:64], _cut(b.refund_no, 64)) for b in breaks),
            breaks,
            strict=True,
        )
    )
    added = removed = 0
    for key, item in fresh.items():
        merchant_pk = (
            found.owners.get(item.payment_id) if item.payment_id is not None else None
        ) or target.merchant_pk
        row = stored.get(key)
        if row is None:
            row = ReconciliationBreak(run_id=run.id)
            _fill(row, item, merchant_pk, now)
            session.add(row)
            added += 1
        elif row.resolved_at is None:  # found again: the same row, brought up to date
            found_at = row.found_at
            _fill(row, item, merchant_pk, now)
            row.found_at = found_at
    for key, row in stored.items():
        if key not in fresh and row.resolved_at is None:
            session.delete(row)
            removed += 1
    session.flush()
    return added, removed


def _store(
    ctx: HostContext,
    target: _Target,
    day: date,
    found: _Found,
    actor: audit.Actor,
) -> RunInfo:
    """Write the run, its breaks and the audit record in one transaction."""
    now = ctx.now()
    statement, result = found.statement, found.result
    for attempt in range(2):
        try:
            with ctx.db.write() as session:
                run = session.scalar(
                    select(ReconciliationRun)
                    .where(
                        ReconciliationRun.day == day,
                        ReconciliationRun.network == target.network,
                        ReconciliationRun.channel_key == target.key,
                    )
                    .with_for_update()
                )
                if run is None:
                    run = ReconciliationRun(
                        day=day,
                        network=target.network,
                        channel_key=target.key,
                        merchant_id=target.merchant_pk,
                        matched=0,
                        lines=0,
                        created_at=now,
                    )
                    session.add(run)
                run.ran_at, run.network_code = now, _cut(statement.network_code, 64)
                added = removed = 0
                if result is None:
                    run.status = RunStatus.STATEMENT_NOT_READY.value
                    session.flush()
                else:
                    run.status = RunStatus.DONE.value
                    run.matched, run.lines = result.matched, len(statement.lines)
                    network_fees.book_fees(session, run, statement.lines, now)
                    session.flush()
                    added, removed = _store_breaks(session, run, target, found, now)
                info = run_info(session, run, with_breaks=True)
                kinds = Counter(b.kind.value for b in info.breaks if not b.resolved)
                audit.record(
                    session,
                    now,
                    actor,
                    "reconciliation.run",
                    ("reconciliation", f"{target.network}/{target.key}/{day.isoformat()}"),
                    merchant=info.merchant_id,
                    day=day.isoformat(),
                    network=target.network,
                    channel=target.key,
                    status=info.status.value,
                    network_code=info.network_code,
                    matched=info.matched,
                    lines=info.lines,
                    open_breaks=info.open_breaks,
                    resolved_breaks=info.resolved_breaks,
                    fees=dict(info.fees),
                    kinds=dict(sorted(kinds.items())),
                    added=added,
                    removed=removed,
                )
                return info
        except IntegrityError:
            # Another process made the day's run meanwhile (PostgreSQL): run on its row.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------ the API


def reconcile(
    ctx: HostContext,
    day: date,
    network: str | None = None,
    *,
    actor: audit.Actor = audit.HOST,
) -> list[RunInfo]:
    """Reconcile ``day`` (in each network's time zone) for every channel with a
    statement of its own, of ``network`` or of every network in :data:`NETWORK_ZONES`:
    a run per direct channel and per service-provider account, in that order.
    ``network_unknown`` for a network not reconciled, ``day_in_future`` for a day not
    begun yet in the network's zone. Never raises for a statement it could not get."""
    check_day(day, "day")
    networks = sorted(NETWORK_ZONES) if network is None else [network]
    zones = {name: network_zone(name) for name in networks}
    for zone in zones.values():
        if day > ctx.now().astimezone(zone).date():
            raise ReconciliationError("day_in_future")
    runs = []
    for target in _targets(ctx, networks):
        found = _find(ctx, target, day, zones[target.network])
        info = _store(ctx, target, day, found, actor)
        log.info(
            "reconciled %s %s %s: %s, %d matched, %d open breaks",
            target.network,
            target.key,
            day,
            info.status.value,
            info.matched,
            info.open_breaks,
        )
        runs.append(info)
    return runs
