"""The Today page's figures, shaped from grouped rows: pure.

The service asks the database for counts and sums grouped by status, wallet
and terminal, and for quarter-hour buckets (``epoch_seconds // 900``) of
captured payments; this module turns them into the summary (payments, refunds,
success rate, by wallet and by terminal) and into local days and hours of the
host's timezone. Quarter hours, because every timezone's offset is a whole
number of them, so bucketing in UTC and then assigning to local days is exact.

>>> rows = [GroupRow("SUCCESS", "scanpay", "T000001", 3, 3000),
...         GroupRow("FAILED", "scanpay", "T000001", 1, 500)]
>>> s = summarize(rows, Tally(1, 200))
>>> s.payments, s.attempts, percent(s.payments.count, s.attempts)
(Tally(count=3, amount=3000), 4, '75.0 %')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

__all__ = [
    "CAPTURED",
    "DECIDED",
    "QUARTER",
    "Breakdown",
    "GroupRow",
    "Summary",
    "Tally",
    "daily_series",
    "hourly_series",
    "percent",
    "summarize",
]

#: States that hold captured money (refunded ones were captured first).
CAPTURED = frozenset({"SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"})
#: States with a final answer: what the success rate divides by.
DECIDED = CAPTURED | {"FAILED", "REVERSED"}
#: Bucket width in seconds.
QUARTER = 900


@dataclass(frozen=True, slots=True)
class Tally:
    """A count and a sum of minor units."""

    count: int = 0
    amount: int = 0

    def plus(self, count: int, amount: int) -> Tally:
        return Tally(self.count + count, self.amount + amount)


@dataclass(frozen=True, slots=True)
class GroupRow:
    """Payments of one status, wallet and terminal: how many, and their amounts."""

    status: str
    wallet: str | None
    terminal_id: str
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Captured payments of one wallet or terminal, and the decided attempts there."""

    key: str
    payments: Tally
    attempts: int

    @property
    def success_rate(self) -> str:
        return percent(self.payments.count, self.attempts)


@dataclass(frozen=True, slots=True)
class Summary:
    """A day at a glance."""

    payments: Tally
    refunds: Tally
    attempts: int
    failed: int
    pending: int
    by_wallet: tuple[Breakdown, ...] = field(default_factory=tuple)
    by_terminal: tuple[Breakdown, ...] = field(default_factory=tuple)

    @property
    def success_rate(self) -> str:
        return percent(self.payments.count, self.attempts)

    @property
    def net(self) -> int:
        return self.payments.amount - self.refunds.amount


def percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with one decimal (``-`` when whole is 0)."""
    if whole <= 0:
        return "-"
    tenths = (part * 1000 * 2 + whole) // (whole * 2)  # rounded half up
    return f"{tenths // 10}.{tenths % 10} %"


def _breakdown(groups: dict[str, list[GroupRow]]) -> tuple[Breakdown, ...]:
    out = []
    for key, rows in groups.items():
        paid = Tally()
        attempts = 0
        for row in rows:
            if row.status in CAPTURED:
                paid = paid.plus(row.count, row.amount)
            if row.status in DECIDED:
                attempts += row.count
        out.append(Breakdown(key, paid, attempts))
    out.sort(key=lambda b: (-b.payments.amount, -b.attempts, b.key))
    return tuple(out)


def summarize(rows: Iterable[GroupRow], refunds: Tally) -> Summary:
    """The summary of a day's grouped payments and its refunds."""
    items = list(rows)
    paid = Tally()
    attempts = failed = pending = 0
    wallets: dict[str, list[GroupRow]] = {}
    terminals: dict[str, list[GroupRow]] = {}
    for row in items:
        if row.status in CAPTURED:
            paid = paid.plus(row.count, row.amount)
        if row.status in DECIDED:
            attempts += row.count
        if row.status == "FAILED":
            failed += row.count
        if row.status == "USER_PAYING":
            pending += row.count
        wallets.setdefault(row.wallet or "-", []).append(row)
        terminals.setdefault(row.terminal_id, []).append(row)
    return Summary(
        paid, refunds, attempts, failed, pending, _breakdown(wallets), _breakdown(terminals)
    )


def _local(bucket: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(bucket * QUARTER, UTC).astimezone(zone)


def daily_series(
    buckets: Iterable[tuple[int, int, int]], zone: ZoneInfo, days: Sequence[date]
) -> list[tuple[date, Tally]]:
    """(bucket, count, amount) rows summed into the local ``days`` (in their order)."""
    totals = {day: Tally() for day in days}
    for bucket, count, amount in buckets:
        day = _local(bucket, zone).date()
        if day in totals:
            totals[day] = totals[day].plus(count, amount)
    return [(day, totals[day]) for day in days]


def hourly_series(
    buckets: Iterable[tuple[int, int, int]], zone: ZoneInfo, day: date
) -> list[tuple[int, Tally]]:
    """(bucket, count, amount) rows of ``day`` summed into its 24 local hours."""
    hours = [Tally() for _ in range(24)]
    for bucket, count, amount in buckets:
        when = _local(bucket, zone)
        if when.date() == day:
            hours[when.hour] = hours[when.hour].plus(count, amount)
    return list(enumerate(hours))
