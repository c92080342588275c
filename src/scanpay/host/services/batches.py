"""Batch close: a terminal's day-close totals compared with the host's own records.

The host's side of a terminal's day (host timezone), the same way the
terminal counts it: payments of this terminal that captured money (SUCCESS,
PARTIALLY_REFUNDED, REFUNDED; an order's payment counts on the day the order
was created), and the refunds of this terminal's payments that succeeded that
day, wherever they were made: at the terminal, in the merchant's portal, by the
acquirer's operator (the terminal learns of the others through
:func:`terminal_refunds`, ``GET /v1/refunds``). Training transactions are left
out, and so is a payment that reached an order after it closed, with its
refund (the host refunded it at once; the terminal never saw it). Every batch
and its verdict is stored and audited (the merchant portal shows the
differences).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select

from scanpay.host.db.models import BatchClose, Order, Payment, Refund
from scanpay.host.domain.batch import BatchLine, BatchTotals, compare_batch
from scanpay.host.domain.settlement import day_bounds
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.host.services.refunds import to_body as refund_body
from scanpay.host.services.risk import CAPTURED
from scanpay.i18n import Text
from scanpay.protocol.models import (
    BatchCloseRequest,
    BatchCloseResponse,
    BatchDifference,
    RefundList,
)

__all__ = ["close_batch", "host_lines", "terminal_refunds"]


def _bounds(ctx: HostContext, day: date) -> tuple[datetime, datetime]:
    """The day's bounds, or 400/30 for a day at the edge of the calendar (0001-01-01,
    9999-12-31) whose bounds cannot be held as UTC times: it has no records anyway."""
    try:
        start, end = day_bounds(day, ctx.settings.zone)
        start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        text = Text("营业日超出范围", f"business day out of range: {day.isoformat()}")
        raise HostError("30", text, field="date") from None
    return start, end


def _the_terminals_own(terminal_pk: int) -> Any:
    """Payments of this terminal, less those that reached an order after it closed
    (join :class:`Order` on the payment's trade number first)."""
    return and_(
        Payment.terminal_id == terminal_pk,
        or_(Order.id.is_(None), Order.payment_id == Payment.id),
    )


def _counted_refunds(terminal_pk: int) -> Select[tuple[Refund, str]]:
    """The successful refunds a terminal's batch counts: those of its own payments,
    made wherever (a refund's own ``terminal_id`` is empty for a portal refund)."""
    return (
        select(Refund, Payment.out_trade_no)
        .join(Payment, Payment.id == Refund.payment_id)
        .outerjoin(
            Order,
            and_(
                Order.merchant_id == Payment.merchant_id,
                Order.out_trade_no == Payment.out_trade_no,
            ),
        )
        .where(_the_terminals_own(terminal_pk), Refund.status == "SUCCESS")
        .order_by(Refund.created_at, Refund.id)
    )


def terminal_refunds(
    ctx: HostContext,
    auth: TerminalIdentity,
    *,
    day: date | None = None,
    currency: str | None = None,
    out_trade_no: str | None = None,
    limit: int = 1000,
) -> RefundList:
    """The refunds that count in this terminal's batches: of one business day (host
    timezone; training left out, as in the batch) and/or of one payment (training
    included: the terminal's training sale must learn of them too)."""
    query = _counted_refunds(auth.terminal_pk).limit(limit)
    if day is not None:
        start, end = _bounds(ctx, day)
        query = query.where(
            Refund.created_at >= start, Refund.created_at < end, Refund.training.is_(False)
        )
    if currency is not None:
        query = query.where(Refund.currency == currency)
    if out_trade_no is not None:
        query = query.where(Payment.out_trade_no == out_trade_no)
    with ctx.db.read() as session:
        rows = session.execute(query).all()
    return RefundList(items=[refund_body(row, number) for row, number in rows])


def host_lines(ctx: HostContext, terminal_pk: int, day: date, currency: str) -> list[BatchLine]:
    """The host's payment and refund lines of one terminal's business day."""
    start, end = _bounds(ctx, day)
    with ctx.db.read() as session:
        payments = session.execute(
            select(Payment.out_trade_no, Payment.status, Payment.amount)
            .outerjoin(
                Order,
                and_(
                    Order.merchant_id == Payment.merchant_id,
                    Order.out_trade_no == Payment.out_trade_no,
                ),
            )
            .where(
                Payment.terminal_id == terminal_pk,
                Payment.training.is_(False),
                Payment.currency == currency,
                Payment.status.in_(CAPTURED),
                or_(
                    # An order's own payment, on the day the order was made. A payment
                    # that came after its order closed was the host's to give back:
                    # the terminal never had it, so it is not in the batch.
                    and_(
                        Order.payment_id == Payment.id,
                        Order.created_at >= start,
                        Order.created_at < end,
                    ),
                    and_(Order.id.is_(None), Payment.created_at >= start, Payment.created_at < end),
                ),
            )
        ).all()
        refunds = session.execute(
            _counted_refunds(terminal_pk).where(
                Refund.training.is_(False),
                Refund.currency == currency,
                Refund.created_at >= start,
                Refund.created_at < end,
            )
        ).all()
    lines = [BatchLine(no, "payment", status, int(amount)) for no, status, amount in payments]
    lines += [BatchLine(r.out_refund_no, "refund", "SUCCESS", int(r.amount)) for r, _ in refunds]
    return lines


def close_batch(
    ctx: HostContext, auth: TerminalIdentity, request: BatchCloseRequest
) -> BatchCloseResponse:
    """Compare a terminal's batch with the host's records; matched, or the differences."""
    lines = host_lines(ctx, auth.terminal_pk, request.date, request.currency)
    theirs = BatchTotals(request.count, request.total, request.refund_count, request.refund_total)
    items = (
        [BatchLine(i.out_trade_no, i.kind, i.status, i.amount) for i in request.items]
        if request.items is not None
        else None
    )
    result = compare_batch(theirs, items, lines)
    differences = [
        BatchDifference(
            out_trade_no=d.out_trade_no,
            kind=d.kind,  # type: ignore[arg-type]
            terminal=d.terminal,
            host=d.host,
            terminal_status=d.terminal_line.status if d.terminal_line else None,
            terminal_amount=d.terminal_line.amount if d.terminal_line else None,
            host_status=d.host_line.status if d.host_line else None,
            host_amount=d.host_line.amount if d.host_line else None,
        )
        for d in result.differences
    ]
    now = ctx.now()
    host = result.host
    with ctx.db.write() as session:
        session.add(
            BatchClose(
                merchant_id=auth.merchant_pk,
                terminal_id=auth.terminal_pk,
                business_date=request.date,
                currency=request.currency,
                matched=result.matched,
                terminal_totals=json.dumps(
                    {
                        "count": theirs.count,
                        "total": theirs.total,
                        "refund_count": theirs.refund_count,
                        "refund_total": theirs.refund_total,
                    }
                ),
                host_totals=json.dumps(
                    {
                        "count": host.count,
                        "total": host.total,
                        "refund_count": host.refund_count,
                        "refund_total": host.refund_total,
                    }
                ),
                differences=json.dumps([d.model_dump() for d in differences]),
                created_at=now,
            )
        )
        audit.record(
            session,
            now,
            audit.Actor.terminal(auth.terminal_id),
            "batch.close",
            ("terminal", auth.terminal_id),
            merchant=auth.merchant_id,
            business_date=request.date.isoformat(),
            matched=result.matched,
            terminal={
                "count": theirs.count,
                "total": theirs.total,
                "refund_count": theirs.refund_count,
                "refund_total": theirs.refund_total,
            },
            host={
                "count": host.count,
                "total": host.total,
                "refund_count": host.refund_count,
                "refund_total": host.refund_total,
            },
            differences=len(differences),
        )
    return BatchCloseResponse(
        matched=result.matched,
        count=host.count,
        total=host.total,
        refund_count=host.refund_count,
        refund_total=host.refund_total,
        differences=differences,
    )
