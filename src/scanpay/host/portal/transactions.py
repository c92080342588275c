"""The merchant's transactions: filtered keyset pages, the export's row stream, a detail.

Every query here is scoped to one merchant by its primary key, taken from the
logged-in user's session: another merchant's payment is simply not found.
Pages are keyset pages over ``ix_payments_merchant_created`` (merchant,
created_at, id) or ``ix_payments_merchant_amount`` (merchant, amount, id), so
a page costs the same however deep it is. The export walks the same filtered
set in the database's own streaming mode (``yield_per``: a server-side cursor
on PostgreSQL), so 100,000 rows never sit in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from scanpay.host.db.models import (
    AuditLog,
    Order,
    Payment,
    Refund,
    parse_public_id,
    terminal_public_id,
)
from scanpay.host.portal.filters import Cursor, TxnFilter, encode_cursor
from scanpay.host.services.context import HostContext

__all__ = [
    "HistoryEntry",
    "PaymentDetail",
    "RefundLine",
    "TxnPage",
    "TxnRow",
    "iter_export",
    "payment_detail",
    "transactions_page",
]

_COLUMNS = (
    Payment.id,
    Payment.public_id,
    Payment.out_trade_no,
    Payment.created_at,
    Payment.paid_at,
    Payment.terminal_id,
    Payment.status,
    Payment.code,
    Payment.amount,
    Payment.refunded_amount,
    Payment.currency,
    Payment.wallet,
    Payment.payer,
    Payment.description,
    Payment.training,
    Payment.risk_flags,
)


@dataclass(frozen=True, slots=True)
class TxnRow:
    """One payment of the list."""

    pk: int
    payment_id: str
    out_trade_no: str
    created_at: datetime
    paid_at: datetime | None
    terminal_id: str
    status: str
    code: str
    amount: int
    refunded: int
    currency: str
    wallet: str | None
    payer: str | None
    description: str | None
    training: bool
    risk_flags: str | None


def _row(values: Any) -> TxnRow:
    (pk, pid, no, created, paid, terminal, status, code, amount, refunded, currency, wallet,
     payer, description, training, flags) = values  # fmt: skip
    return TxnRow(
        pk, pid, no, created, paid, terminal_public_id(terminal), status, code, int(amount),
        int(refunded), currency, wallet, payer, description, bool(training), flags,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TxnPage:
    """A page of the list, and the cursors of its neighbours (None: there is none)."""

    rows: list[TxnRow]
    next_cursor: str | None
    prev_cursor: str | None


def _filtered(merchant_pk: int, f: TxnFilter, zone: ZoneInfo) -> Select[Any]:
    query = select(*_COLUMNS).where(
        Payment.merchant_id == merchant_pk, Payment.request_hash.is_not(None)
    )
    start, end = f.utc_bounds(zone)
    if start is not None:
        query = query.where(Payment.created_at >= start)
    if end is not None:
        query = query.where(Payment.created_at < end)
    if f.status:
        query = query.where(Payment.status == f.status)
    if f.terminal:
        query = query.where(Payment.terminal_id == (parse_public_id(f.terminal, "T") or -1))
    if f.wallet:
        query = query.where(Payment.wallet == f.wallet)
    if f.amount_min is not None:
        query = query.where(Payment.amount >= f.amount_min)
    if f.amount_max is not None:
        query = query.where(Payment.amount <= f.amount_max)
    if f.trade_no:
        query = query.where(Payment.out_trade_no == f.trade_no)
    return query


def _sort_column(sort: str) -> Any:
    return Payment.amount if sort == "amount" else Payment.created_at


def _after(sort: str, descending: bool, cursor: Cursor) -> ColumnElement[bool]:
    """Rows strictly past the cursor in scan order. The key's bound comes first, so
    both databases use it as the index range; the id breaks ties among equal keys."""
    column = _sort_column(sort)
    key: Any = cursor.key_time() if sort == "created_at" else cursor.key
    if descending:
        return and_(column <= key, or_(column < key, Payment.id < cursor.pk))
    return and_(column >= key, or_(column > key, Payment.id > cursor.pk))


def _cursor_of(row: TxnRow, f: TxnFilter, backward: bool) -> str:
    key: int | str = row.amount if f.sort == "amount" else row.created_at.isoformat()
    return encode_cursor(Cursor(f.sort, f.descending, key, row.pk, backward))


def transactions_page(
    ctx: HostContext, merchant_pk: int, f: TxnFilter, cursor: Cursor | None = None
) -> TxnPage:
    """One page of the merchant's filtered payments, in the filter's sort order."""
    if cursor is not None and (cursor.sort != f.sort or cursor.descending != f.descending):
        cursor = None  # a cursor of another sort order means nothing here: first page
    backward = cursor is not None and cursor.backward
    scan_descending = f.descending != backward
    column = _sort_column(f.sort)
    query = _filtered(merchant_pk, f, ctx.settings.zone)
    if cursor is not None:
        query = query.where(_after(f.sort, scan_descending, cursor))
    order = (column.desc(), Payment.id.desc()) if scan_descending else (column, Payment.id)
    query = query.order_by(*order).limit(f.page_size + 1)
    with ctx.db.read() as session:
        rows = [_row(r) for r in session.execute(query)]
    more = len(rows) > f.page_size
    rows = rows[: f.page_size]
    if backward:
        rows.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, cursor is not None
    return TxnPage(
        rows,
        _cursor_of(rows[-1], f, False) if rows and has_next else None,
        _cursor_of(rows[0], f, True) if rows and has_prev else None,
    )


def iter_export(ctx: HostContext, merchant_pk: int, f: TxnFilter) -> Iterator[TxnRow]:
    """Every payment of the filtered set, in its sort order, streamed from the database."""
    column = _sort_column(f.sort)
    order = (column.desc(), Payment.id.desc()) if f.descending else (column, Payment.id)
    query = _filtered(merchant_pk, f, ctx.settings.zone).order_by(*order)
    with ctx.db.read() as session:
        result = session.execute(query.execution_options(yield_per=2000))
        for values in result:
            yield _row(values)


@dataclass(frozen=True, slots=True)
class RefundLine:
    refund_id: str
    out_refund_no: str
    status: str
    code: str
    amount: int
    currency: str
    reason: str | None
    requested_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One audit record about the payment, its order or one of its refunds."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    before: str | None
    status: str | None
    code: str | None
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def states(self) -> str:
        """The text keys' prefix of ``before`` and ``status``: an order's states or a
        payment's (a refund's record carries the payment's)."""
        return "ostatus." if self.subject.startswith("order:") else "status."


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    """A payment with its refunds, its order (when it paid one) and its history."""

    row: TxnRow
    reason: str | None
    operator_id: str | None
    order_id: str | None
    order_status: str | None
    refunds: list[RefundLine]
    history: list[HistoryEntry]

    @property
    def refundable(self) -> int:
        if self.row.status not in ("SUCCESS", "PARTIALLY_REFUNDED") or self.row.training:
            return 0
        return self.row.amount - self.row.refunded


_FACTS = ("amount", "refunded_total", "reason", "note", "answer", "effect", "out_refund_no")


def payment_detail(ctx: HostContext, merchant_pk: int, payment_id: str) -> PaymentDetail | None:
    """One of the merchant's payments by its id (None for anything else)."""
    if not payment_id.isalnum() or len(payment_id) > 32:
        return None
    with ctx.db.read() as session:
        found = session.execute(
            select(*_COLUMNS, Payment.reason, Payment.operator_id).where(
                Payment.public_id == payment_id,
                Payment.merchant_id == merchant_pk,
                Payment.request_hash.is_not(None),
            )
        ).first()
        if found is None:
            return None
        row = _row(found[: len(_COLUMNS)])
        reason, operator_id = found[len(_COLUMNS)], found[len(_COLUMNS) + 1]
        refunds = [
            RefundLine(
                r.public_id,
                r.out_refund_no,
                r.status,
                r.code,
                r.amount,
                r.currency,
                r.reason,
                r.requested_by,
                r.created_at,
            )
            for r in session.scalars(
                select(Refund)
                .where(Refund.payment_id == row.pk, Refund.merchant_id == merchant_pk)
                .order_by(Refund.created_at, Refund.id)
            )
        ]
        order = session.execute(
            select(Order.public_id, Order.status).where(
                Order.merchant_id == merchant_pk, Order.out_trade_no == row.out_trade_no
            )
        ).first()
        subjects = [and_(AuditLog.subject_kind == "payment", AuditLog.subject_id == payment_id)]
        if refunds:
            subjects.append(
                and_(
                    AuditLog.subject_kind == "refund",
                    AuditLog.subject_id.in_([r.refund_id for r in refunds]),
                )
            )
        if order is not None:
            subjects.append(and_(AuditLog.subject_kind == "order", AuditLog.subject_id == order[0]))
        history = []
        for record in session.scalars(
            select(AuditLog).where(or_(*subjects)).order_by(AuditLog.seq)
        ):
            data = json.loads(record.data)
            # A refund's record says what it did to the payment: show the payment's states.
            refund = record.subject_kind == "refund"
            history.append(
                HistoryEntry(
                    record.seq,
                    record.at,
                    f"{record.actor_kind}:{record.actor_id}",
                    record.action,
                    f"{record.subject_kind}:{record.subject_id}",
                    data.get("payment_before") if refund else data.get("before"),
                    data.get("payment_after") if refund else data.get("status"),
                    data.get("code"),
                    {k: data[k] for k in _FACTS if data.get(k) not in (None, "")},
                )
            )
    return PaymentDetail(
        row,
        reason,
        operator_id,
        order[0] if order else None,
        order[1] if order else None,
        refunds,
        history,
    )
