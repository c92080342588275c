"""The merchant's other lists: orders, refunds, settlements, day-close batches, terminals;
and the operator's list of merchants.

Like :mod:`.transactions`, every query is scoped to the merchant's primary
key from the session: another merchant's order, refund, settlement or
terminal is not found (the page answers 404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from scanpay.host.db.models import (
    ActivationCode,
    BatchClose,
    Merchant,
    Order,
    Payment,
    Refund,
    Settlement,
    SettlementLine,
    Terminal,
    TerminalKey,
    TerminalSelfTest,
    parse_public_id,
    terminal_public_id,
)
from scanpay.host.domain.parties import format_fee_rate
from scanpay.host.portal.filters import Cursor, decode_cursor, encode_cursor
from scanpay.host.portal.licence import LicenceReport, check_licence
from scanpay.host.services.context import HostContext

__all__ = [
    "ORDER_STATUSES",
    "BatchView",
    "MerchantRow",
    "OrderRow",
    "RefundRow",
    "SettlementRow",
    "SettlementView",
    "TerminalView",
    "batches",
    "merchants_overview",
    "order_detail",
    "orders_page",
    "refund_detail",
    "refunds_page",
    "settlement_detail",
    "settlements",
    "terminal_ids",
    "terminal_views",
]

_PAGE = 50
ORDER_STATUSES = ("CREATED", "PAID", "EXPIRED", "CLOSED")


def _keyset(created: Any, pk: Any, cursor: Cursor | None) -> Any:
    if cursor is None:
        return True
    when = cursor.key_time()
    return and_(created <= when, or_(created < when, pk < cursor.pk))


def _next(rows: list[Any], created: str = "created_at") -> str | None:
    if len(rows) <= _PAGE:
        return None
    last = rows[_PAGE - 1]
    return encode_cursor(Cursor("created_at", True, getattr(last, created).isoformat(), last.id))


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: int
    order_id: str
    out_trade_no: str
    terminal_id: str
    status: str
    amount: int
    currency: str
    description: str | None
    payload: str
    payer: str | None
    payment_id: str | None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None


def _order(row: Order, payment_public: str | None) -> OrderRow:
    return OrderRow(
        row.id, row.public_id, row.out_trade_no, terminal_public_id(row.terminal_id), row.status,
        row.amount, row.currency, row.description, row.payload, row.payer, payment_public,
        row.created_at, row.expires_at, row.paid_at,
    )  # fmt: skip


def orders_page(
    ctx: HostContext, merchant_pk: int, *, status: str | None, cursor: str | None
) -> tuple[list[OrderRow], str | None]:
    """A page of the merchant's orders, newest first, and the next page's cursor."""
    after = decode_cursor(cursor or "")
    query = (
        select(Order, Payment.public_id)
        .outerjoin(Payment, Payment.id == Order.payment_id)
        .where(Order.merchant_id == merchant_pk, _keyset(Order.created_at, Order.id, after))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(_PAGE + 1)
    )
    if status in ORDER_STATUSES:
        query = query.where(Order.status == status)
    with ctx.db.read() as session:
        rows = [_order(o, p) for o, p in session.execute(query)]
    return rows[:_PAGE], _next(rows)


def order_detail(ctx: HostContext, merchant_pk: int, order_id: str) -> OrderRow | None:
    if not order_id.isalnum() or len(order_id) > 24:
        return None
    with ctx.db.read() as session:
        found = session.execute(
            select(Order, Payment.public_id)
            .outerjoin(Payment, Payment.id == Order.payment_id)
            .where(Order.public_id == order_id, Order.merchant_id == merchant_pk)
        ).first()
    return _order(found[0], found[1]) if found else None


@dataclass(frozen=True, slots=True)
class RefundRow:
    id: int
    refund_id: str
    out_refund_no: str
    payment_id: str
    out_trade_no: str
    terminal_id: str | None
    status: str
    code: str
    decline_reason: str | None
    reason: str | None
    amount: int
    currency: str
    requested_by: str
    approved_by: str | None
    created_at: datetime


def _refund(row: Refund, payment_public: str, out_trade_no: str) -> RefundRow:
    return RefundRow(
        row.id, row.public_id, row.out_refund_no, payment_public, out_trade_no,
        terminal_public_id(row.terminal_id) if row.terminal_id else None, row.status, row.code,
        row.decline_reason, row.reason, row.amount, row.currency, row.requested_by,
        row.approved_by, row.created_at,
    )  # fmt: skip


def refunds_page(
    ctx: HostContext, merchant_pk: int, *, cursor: str | None
) -> tuple[list[RefundRow], str | None]:
    after = decode_cursor(cursor or "")
    query = (
        select(Refund, Payment.public_id, Payment.out_trade_no)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.merchant_id == merchant_pk, _keyset(Refund.created_at, Refund.id, after))
        .order_by(Refund.created_at.desc(), Refund.id.desc())
        .limit(_PAGE + 1)
    )
    with ctx.db.read() as session:
        rows = [_refund(r, p, n) for r, p, n in session.execute(query)]
    return rows[:_PAGE], _next(rows)


def refund_detail(ctx: HostContext, merchant_pk: int, refund_id: str) -> RefundRow | None:
    if not refund_id.isalnum() or len(refund_id) > 32:
        return None
    with ctx.db.read() as session:
        found = session.execute(
            select(Refund, Payment.public_id, Payment.out_trade_no)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.public_id == refund_id, Refund.merchant_id == merchant_pk)
        ).first()
    return _refund(*found) if found else None


@dataclass(frozen=True, slots=True)
class SettlementRow:
    business_date: date
    currency: str
    fee_rate: str
    payment_count: int
    payment_total: int
    refund_count: int
    refund_total: int
    reversal_count: int
    reversal_total: int
    gross: int
    fee: int
    net: int
    created_at: datetime


def _settlement(row: Settlement) -> SettlementRow:
    return SettlementRow(
        row.business_date, row.currency, format_fee_rate(row.fee_rate_ppm), row.payment_count,
        row.payment_total, row.refund_count, row.refund_total, row.reversal_count,
        row.reversal_total, row.gross, row.fee, row.net, row.created_at,
    )  # fmt: skip


def settlements(ctx: HostContext, merchant_pk: int, limit: int = 90) -> list[SettlementRow]:
    """The merchant's settled days, newest first."""
    with ctx.db.read() as session:
        return [
            _settlement(row)
            for row in session.scalars(
                select(Settlement)
                .where(Settlement.merchant_id == merchant_pk)
                .order_by(Settlement.business_date.desc())
                .limit(limit)
            )
        ]


@dataclass(frozen=True, slots=True)
class SettlementView:
    settlement: SettlementRow
    lines: list[tuple[str, datetime, str, str | None, int, int]]  # kind, at, no, refund, amt, fee


def settlement_detail(ctx: HostContext, merchant_pk: int, day: date) -> SettlementView | None:
    with ctx.db.read() as session:
        row = session.scalar(
            select(Settlement).where(
                Settlement.merchant_id == merchant_pk, Settlement.business_date == day
            )
        )
        if row is None:
            return None
        lines = [
            (line.kind, line.at, line.out_trade_no, line.out_refund_no, line.amount, line.fee)
            for line in session.scalars(
                select(SettlementLine)
                .where(SettlementLine.settlement_id == row.id)
                .order_by(SettlementLine.id)
                .limit(5000)
            )
        ]
        return SettlementView(_settlement(row), lines)


@dataclass(frozen=True, slots=True)
class BatchView:
    """A terminal's day close and the host's verdict (the reconciliation differences)."""

    terminal_id: str
    business_date: date
    currency: str
    matched: bool
    terminal: dict[str, int]
    host: dict[str, int]
    differences: list[dict[str, Any]]
    created_at: datetime


def batches(
    ctx: HostContext, merchant_pk: int, *, day: date | None = None, limit: int = 60
) -> list[BatchView]:
    """The merchant's day-close batches, newest first (of one business day when given)."""
    query = select(BatchClose).where(BatchClose.merchant_id == merchant_pk)
    if day is not None:
        query = query.where(BatchClose.business_date == day)
    query = query.order_by(BatchClose.business_date.desc(), BatchClose.id.desc()).limit(limit)
    with ctx.db.read() as session:
        return [
            BatchView(
                terminal_public_id(row.terminal_id),
                row.business_date,
                row.currency,
                row.matched,
                json.loads(row.terminal_totals),
                json.loads(row.host_totals),
                json.loads(row.differences),
                row.created_at,
            )
            for row in session.scalars(query)
        ]


def terminal_ids(ctx: HostContext, merchant_pk: int) -> list[str]:
    """The merchant's terminal ids (for the list's filter), in one query."""
    with ctx.db.read() as session:
        pks = session.scalars(
            select(Terminal.id).where(Terminal.merchant_id == merchant_pk).order_by(Terminal.id)
        ).all()
    return [terminal_public_id(pk) for pk in pks]


@dataclass(frozen=True, slots=True)
class TerminalView:
    """A terminal as its merchant sees it."""

    terminal_id: str
    status: str
    software_version: str | None
    created_at: datetime
    activated_at: datetime | None
    last_seen_at: datetime | None
    key_since: datetime | None
    usable_keys: int
    rotation_pending_until: datetime | None
    selftest_at: datetime | None
    selftest_status: str | None
    pending_reversals: int | None
    in_doubt: int | None
    selftest_checks: dict[str, str]
    pending_trade_numbers: list[str]


def terminal_views(
    ctx: HostContext, merchant_pk: int, terminal_id: str | None = None
) -> list[TerminalView]:
    """The merchant's terminals (or one of them), with keys and the latest self-test."""
    now = ctx.now()
    query = select(Terminal, TerminalSelfTest).outerjoin(
        TerminalSelfTest, TerminalSelfTest.terminal_id == Terminal.id
    )
    query = query.where(Terminal.merchant_id == merchant_pk).order_by(Terminal.id)
    if terminal_id is not None:
        query = query.where(Terminal.id == (parse_public_id(terminal_id, "T") or -1))
    out = []
    with ctx.db.read() as session:
        for terminal, test in session.execute(query):
            keys = session.execute(
                select(TerminalKey.created_at, TerminalKey.not_after).where(
                    TerminalKey.terminal_id == terminal.id
                )
            ).all()
            current = [created for created, until in keys if until is None]
            usable = sum(1 for _, until in keys if until is None or now < until)
            rotation = session.scalar(
                select(func.max(ActivationCode.expires_at)).where(
                    ActivationCode.terminal_id == terminal.id,
                    ActivationCode.purpose == "rotate",
                    ActivationCode.used_at.is_(None),
                    ActivationCode.expires_at > now,
                )
            )
            detail = json.loads(test.detail) if test is not None else {}
            out.append(
                TerminalView(
                    terminal.public_id,
                    terminal.status,
                    terminal.software_version,
                    terminal.created_at,
                    terminal.activated_at,
                    terminal.last_seen_at,
                    max(current) if current else None,
                    usable,
                    rotation,
                    test.at if test else None,
                    test.status if test else None,
                    test.pending_reversals if test else None,
                    test.in_doubt if test else None,
                    dict(detail.get("checks", {})),
                    list(detail.get("pending", [])),
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class MerchantRow:
    """A merchant as the operator reviews it."""

    merchant_id: str
    name: str
    city: str
    mcc: str
    license: str
    licence: LicenceReport
    status: str
    fee_rate: str
    currency: str
    terminals: int
    created_at: datetime


def merchants_overview(ctx: HostContext, status: str | None = None) -> list[MerchantRow]:
    """Every merchant (those in review first), with its licence check and terminal count."""
    counts = (
        select(Terminal.merchant_id, func.count().label("n"))
        .group_by(Terminal.merchant_id)
        .subquery()
    )
    query = (
        select(Merchant, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.merchant_id == Merchant.id)
        .order_by(Merchant.status != "in_review", Merchant.id.desc())
    )
    if status:
        query = query.where(Merchant.status == status)
    with ctx.db.read() as session:
        return [
            MerchantRow(
                m.public_id,
                m.name,
                m.city,
                m.mcc,
                m.license,
                check_licence(m.license),
                m.status,
                format_fee_rate(m.fee_rate_ppm),
                m.currency,
                int(n),
                m.created_at,
            )
            for m, n in session.execute(query.limit(1000))
        ]
