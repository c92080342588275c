"""The merchant's list of payments: newest first, a page at a time (keyset cursor)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select

from scanpay.host.db.models import (
    Payment,
)
from scanpay.host.domain import periods
from scanpay.host.errors import HostError
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.host.services.payment_views import to_body
from scanpay.i18n import Text
from scanpay.protocol.models import (
    PaymentStatus,
    TransactionsPage,
)

__all__ = ["list_transactions"]


def _encode_cursor(row: Payment) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None or not isinstance(pk, int):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise HostError(
            "30", Text("分页游标无效", "the cursor is not valid"), field="cursor"
        ) from None
    # A made-up time at the edge of the calendar would overflow on its way to UTC.
    return periods.check_time(when, UTC, "cursor"), pk


def list_transactions(
    ctx: HostContext,
    auth: TerminalIdentity,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: PaymentStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> TransactionsPage:
    """The merchant's payments, newest first; ``start`` inclusive, ``end`` exclusive."""
    zone = ctx.settings.zone
    query = select(Payment).where(
        Payment.merchant_id == auth.merchant_pk, Payment.request_hash.is_not(None)
    )
    # Refused with 400/30 outside the calendar's sane span (an edge date overflows in UTC).
    if start is not None:
        query = query.where(Payment.created_at >= periods.check_time(start, zone, "from"))
    if end is not None:
        query = query.where(Payment.created_at < periods.check_time(end, zone, "to"))
    if status is not None:
        query = query.where(Payment.status == status.value)
    if cursor:
        when, pk = _decode_cursor(cursor)
        query = query.where(
            or_(Payment.created_at < when, and_(Payment.created_at == when, Payment.id < pk))
        )
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1)
    with ctx.db.read() as session:
        rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return TransactionsPage(
        items=[to_body(r) for r in rows],
        next_cursor=_encode_cursor(rows[-1]) if more and rows else None,
    )
