"""The Today page's numbers: the day so far, the last 30 days, today by hour.

Three grouped queries over the merchant's payments (``ix_payments_merchant_created``)
and one over its refunds; the shaping is pure (:mod:`.stats`). Training
transactions are left out: they moved no real money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select

from scanpay.host.db.models import Payment, Refund, terminal_public_id
from scanpay.host.portal.filters import day_range_utc
from scanpay.host.portal.stats import (
    CAPTURED,
    QUARTER,
    GroupRow,
    Summary,
    Tally,
    daily_series,
    hourly_series,
    summarize,
)
from scanpay.host.services.context import HostContext

__all__ = ["DAYS", "Overview", "overview"]

#: How many days the daily chart shows (today included).
DAYS = 30


@dataclass(frozen=True, slots=True)
class Overview:
    """Today's summary and the two charts' series."""

    day: date
    summary: Summary
    days: list[tuple[date, Tally]]
    hours: list[tuple[int, Tally]]
    generated_at: datetime


def _bucket(dialect: str) -> Any:
    """Quarter hours since the epoch, computed by the database (see :mod:`.stats`)."""
    if dialect == "postgresql":
        expression = f"CAST(FLOOR(EXTRACT(EPOCH FROM payments.created_at) / {QUARTER}) AS BIGINT)"
    else:
        expression = f"CAST(strftime('%s', payments.created_at) AS INTEGER) / {QUARTER}"
    return literal_column(expression).label("bucket")


def overview(ctx: HostContext, merchant_pk: int) -> Overview:
    """The merchant's day so far (host timezone) and its last :data:`DAYS` days."""
    zone = ctx.settings.zone
    now = ctx.now()
    today = now.astimezone(zone).date()
    start, end = day_range_utc(today, zone)
    first = today - timedelta(days=DAYS - 1)
    span_start = day_range_utc(first, zone)[0]
    mine = (
        Payment.merchant_id == merchant_pk,
        Payment.request_hash.is_not(None),
        Payment.training.is_(False),
    )
    bucket = _bucket(ctx.db.dialect)
    with ctx.db.read() as session:
        grouped = session.execute(
            select(
                Payment.status,
                Payment.wallet,
                Payment.terminal_id,
                func.count(),
                func.coalesce(func.sum(Payment.amount), 0),
            )
            .where(*mine, Payment.created_at >= start, Payment.created_at < end)
            .group_by(Payment.status, Payment.wallet, Payment.terminal_id)
        ).all()
        refund_count, refund_sum = session.execute(
            select(func.count(), func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.merchant_id == merchant_pk,
                Refund.status == "SUCCESS",
                Refund.training.is_(False),
                Refund.created_at >= start,
                Refund.created_at < end,
            )
        ).one()
        buckets = session.execute(
            select(bucket, func.count(), func.coalesce(func.sum(Payment.amount), 0))
            .where(
                *mine,
                Payment.status.in_(tuple(CAPTURED)),
                Payment.created_at >= span_start,
                Payment.created_at < end,
            )
            .group_by(bucket)
        ).all()
    rows = [
        GroupRow(status, wallet, terminal_public_id(terminal), int(count), int(amount))
        for status, wallet, terminal, count, amount in grouped
    ]
    series = [(int(b), int(c), int(a)) for b, c, a in buckets]
    return Overview(
        today,
        summarize(rows, Tally(int(refund_count), int(refund_sum))),
        daily_series(series, zone, [first + timedelta(days=i) for i in range(DAYS)]),
        hourly_series(series, zone, today),
        now,
    )
