"""Reconciliation's records as operators read and resolve them: the runs, their breaks,
an operator's decision on a break (:func:`resolve_break`, audited, once only).

What a run is and how it is made: :mod:`~scanpay.host.services.reconciliation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    Payment,
    ReconciliationBreak,
    ReconciliationRun,
    merchant_public_id,
    parse_public_id,
)
from scanpay.host.domain.reconciliation import BreakKind
from scanpay.host.domain.reconciliation_detail import detail_text
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.context import HostContext
from scanpay.host.services.network_fees import fees_of
from scanpay.i18n import Text

__all__ = [
    "MAX_RESOLUTION",
    "BreakInfo",
    "ReconciliationError",
    "RunInfo",
    "RunStatus",
    "list_breaks",
    "list_runs",
    "resolve_break",
    "run_info",
]

#: The longest resolution an operator may write.
MAX_RESOLUTION = 1000


class RunStatus(StrEnum):
    """How a run ended."""

    DONE = "done"
    STATEMENT_NOT_READY = "statement_not_ready"


_ERRORS: dict[str, tuple[str, Text, str]] = {
    "break_resolved": (
        "12",
        Text("该差异已处理，不能再次处理", "this break is resolved already: it cannot be again"),
        "break",
    ),
    "no_such_break": ("25", Text("找不到该对账差异", "no such reconciliation break"), "break"),
    "bad_resolution": (
        "30",
        Text(
            f"请写明处理结果（1 至 {MAX_RESOLUTION} 个字符）",
            f"say how the break was resolved (1 to {MAX_RESOLUTION} characters)",
        ),
        "resolution",
    ),
    "network_unknown": (
        "30",
        Text("该支付网络不做对账", "that payment network is not reconciled"),
        "network",
    ),
    "day_in_future": (
        "30",
        Text(
            "对账日期不能晚于该网络所在时区的今天",
            "the day is after today in the network's time zone",
        ),
        "day",
    ),
}


class ReconciliationError(HostError):
    """A reconciliation request refused; ``reason`` is its stable name
    (``break_resolved``, ``no_such_break``, ``bad_resolution``, ``network_unknown``,
    ``day_in_future``), ``code`` its result code (12, 25, 30)."""

    def __init__(self, reason: str) -> None:
        code, text, field_ = _ERRORS[reason]
        super().__init__(code, text, field=field_)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BreakInfo:
    """A break as the operator reads it."""

    id: int
    run_id: int
    day: date
    network: str
    channel_key: str
    kind: BreakKind
    trade_no: str
    refund_no: str | None
    transaction_id: str | None
    payment_id: str | None
    """The host's payment (``P…``), when it has one."""
    merchant_id: str | None
    host_amount: int | None
    network_amount: int | None
    currency: str | None
    detail: str
    """The detail as stored (a :class:`~scanpay.host.domain.reconciliation_detail.Detail`'s
    code and values, ``""`` for none); :attr:`detail_text` says it in words."""
    found_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def detail_text(self) -> Text | None:
        """The detail in both languages; None for none."""
        return detail_text(self.detail)

    def to_dict(self) -> dict[str, Any]:
        words = self.detail_text
        return {
            "id": self.id,
            "run_id": self.run_id,
            "day": self.day.isoformat(),
            "network": self.network,
            "channel_key": self.channel_key,
            "kind": self.kind.value,
            "trade_no": self.trade_no,
            "refund_no": self.refund_no,
            "transaction_id": self.transaction_id,
            "payment_id": self.payment_id,
            "merchant_id": self.merchant_id,
            "host_amount": self.host_amount,
            "network_amount": self.network_amount,
            "currency": self.currency,
            "detail": self.detail,
            "detail_text": words.as_dict() if words is not None else None,
            "found_at": self.found_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "resolved_by": self.resolved_by,
            "resolution": self.resolution,
        }


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as it stands: its counts, and its breaks when they were asked for
    (:func:`reconcile` always gives them)."""

    id: int
    day: date
    network: str
    channel_key: str
    merchant_id: str | None
    status: RunStatus
    network_code: str | None
    matched: int
    lines: int
    open_breaks: int
    resolved_breaks: int
    created_at: datetime
    ran_at: datetime
    breaks: tuple[BreakInfo, ...] = field(default=())
    fees: Mapping[str, int] = field(default_factory=dict)
    """The network's fees in the statement, booked to the ledger, per currency."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "day": self.day.isoformat(),
            "network": self.network,
            "channel_key": self.channel_key,
            "merchant_id": self.merchant_id,
            "status": self.status.value,
            "network_code": self.network_code,
            "matched": self.matched,
            "lines": self.lines,
            "open_breaks": self.open_breaks,
            "resolved_breaks": self.resolved_breaks,
            "fees": dict(self.fees),
            "created_at": self.created_at.isoformat(),
            "ran_at": self.ran_at.isoformat(),
            "breaks": [b.to_dict() for b in self.breaks],
        }


# ------------------------------------------------------------------------ reading


def _break_query() -> Select[ReconciliationBreak, ReconciliationRun, str]:
    return (
        select(ReconciliationBreak, ReconciliationRun, Payment.public_id)
        .join(ReconciliationRun, ReconciliationRun.id == ReconciliationBreak.run_id)
        .outerjoin(Payment, Payment.id == ReconciliationBreak.payment_id)
    )


def _break_info(row: ReconciliationBreak, run: ReconciliationRun, payment: str | None) -> BreakInfo:
    return BreakInfo(
        id=row.id,
        run_id=run.id,
        day=run.day,
        network=run.network,
        channel_key=run.channel_key,
        kind=BreakKind(row.kind),
        trade_no=row.trade_no,
        refund_no=row.refund_no,
        transaction_id=row.transaction_id,
        payment_id=payment,
        merchant_id=merchant_public_id(row.merchant_id) if row.merchant_id else None,
        host_amount=row.host_amount,
        network_amount=row.network_amount,
        currency=row.currency,
        detail=row.detail,
        found_at=row.found_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


def _counts(session: Session, run_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Run key -> (open, resolved) breaks."""
    counts: dict[int, tuple[int, int]] = {}
    if not run_ids:
        return counts
    resolved = ReconciliationBreak.resolved_at.is_not(None)
    query = (
        select(ReconciliationBreak.run_id, resolved, func.count())
        .where(ReconciliationBreak.run_id.in_(run_ids))
        .group_by(ReconciliationBreak.run_id, resolved)
    )
    for run_id, is_resolved, n in session.execute(query):
        open_, done = counts.get(run_id, (0, 0))
        counts[run_id] = (open_, done + n) if is_resolved else (open_ + n, done)
    return counts


def run_info(
    session: Session,
    run: ReconciliationRun,
    *,
    with_breaks: bool,
    counts: Mapping[int, tuple[int, int]] | None = None,
) -> RunInfo:
    breaks: tuple[BreakInfo, ...] = ()
    if with_breaks:
        query = _break_query().where(ReconciliationBreak.run_id == run.id)
        rows = session.execute(query.order_by(ReconciliationBreak.id)).all()
        breaks = tuple(_break_info(b, r, p) for b, r, p in rows)
        open_ = sum(1 for b in breaks if not b.resolved)
        done = len(breaks) - open_
    else:
        open_, done = (counts or _counts(session, [run.id])).get(run.id, (0, 0))
    return RunInfo(
        id=run.id,
        day=run.day,
        network=run.network,
        channel_key=run.channel_key,
        merchant_id=merchant_public_id(run.merchant_id) if run.merchant_id else None,
        status=RunStatus(run.status),
        network_code=run.network_code,
        matched=run.matched,
        lines=run.lines,
        open_breaks=open_,
        resolved_breaks=done,
        created_at=run.created_at,
        ran_at=run.ran_at,
        breaks=breaks,
        fees=fees_of(run),
    )


def resolve_break(
    ctx: HostContext, break_id: int, resolution: str, actor: audit.Actor
) -> BreakInfo:
    """Record ``actor``'s decision on a break (``resolution``, in their words), audited.
    ``no_such_break``; ``break_resolved`` when it was resolved already;
    ``bad_resolution`` for empty or longer than :data:`MAX_RESOLUTION` characters."""
    text = resolution.strip()
    if not text or len(text) > MAX_RESOLUTION:
        raise ReconciliationError("bad_resolution")
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.get(ReconciliationBreak, break_id, with_for_update=True)
        if row is None:
            raise ReconciliationError("no_such_break")
        if row.resolved_at is not None:
            raise ReconciliationError("break_resolved")
        row.resolved_at, row.resolved_by, row.resolution = now, str(actor)[:64], text
        session.flush()
        found = session.execute(_break_query().where(ReconciliationBreak.id == row.id)).one()
        info = _break_info(*found)
        audit.record(
            session,
            now,
            actor,
            "reconciliation.resolve",
            ("recon_break", str(row.id)),
            merchant=info.merchant_id,
            day=info.day.isoformat(),
            network=info.network,
            channel=info.channel_key,
            kind=info.kind.value,
            trade_no=info.trade_no,
            refund_no=info.refund_no,
            payment_id=info.payment_id,
            host_amount=info.host_amount,
            network_amount=info.network_amount,
            currency=info.currency,
            resolution=text,
        )
        return info


def _merchant_pk(merchant: str) -> int:
    pk = parse_public_id(merchant, "M")
    return -1 if pk is None else pk  # no merchant has it: nothing found


def list_runs(
    ctx: HostContext,
    *,
    day: date | None = None,
    network: str | None = None,
    channel_key: str | None = None,
    status: RunStatus | str | None = None,
    with_breaks: bool = False,
    limit: int = 100,
) -> list[RunInfo]:
    """The runs, newest day first (then by network and channel key)."""
    query = select(ReconciliationRun)
    if day is not None:
        query = query.where(ReconciliationRun.day == day)
    if network is not None:
        query = query.where(ReconciliationRun.network == network)
    if channel_key is not None:
        query = query.where(ReconciliationRun.channel_key == channel_key)
    if status is not None:
        query = query.where(ReconciliationRun.status == RunStatus(status).value)
    query = query.order_by(
        ReconciliationRun.day.desc(), ReconciliationRun.network, ReconciliationRun.channel_key
    ).limit(limit)
    with ctx.db.read() as session:
        runs = list(session.scalars(query))
        counts = _counts(session, [r.id for r in runs])
        return [run_info(session, r, with_breaks=with_breaks, counts=counts) for r in runs]


def list_breaks(
    ctx: HostContext,
    *,
    run_id: int | None = None,
    day: date | None = None,
    network: str | None = None,
    merchant: str | None = None,
    kind: BreakKind | str | None = None,
    resolved: bool | None = None,
    limit: int = 100,
) -> list[BreakInfo]:
    """The breaks, newest day first (then as found): of one run, day, network,
    merchant (``M…``) or kind; ``resolved`` True or False for those only."""
    query = _break_query()
    if run_id is not None:
        query = query.where(ReconciliationBreak.run_id == run_id)
    if day is not None:
        query = query.where(ReconciliationRun.day == day)
    if network is not None:
        query = query.where(ReconciliationRun.network == network)
    if merchant is not None:
        query = query.where(ReconciliationBreak.merchant_id == _merchant_pk(merchant))
    if kind is not None:
        query = query.where(ReconciliationBreak.kind == BreakKind(kind).value)
    if resolved is not None:
        done = ReconciliationBreak.resolved_at
        query = query.where(done.is_not(None) if resolved else done.is_(None))
    query = query.order_by(ReconciliationRun.day.desc(), ReconciliationBreak.id).limit(limit)
    with ctx.db.read() as session:
        return [_break_info(b, r, p) for b, r, p in session.execute(query)]
