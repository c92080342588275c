"""Time for a simulator: a clock it can be given, and China's ways of writing time.

The Chinese networks write every time in Beijing time (UTC+8, no daylight saving):
RFC 3339 with ``+08:00``, ``yyyy-MM-dd HH:mm:ss`` in bills and notifications; a bill's
day is a Beijing day. The state keeps UTC, as ISO 8601 text so text order is time order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol

__all__ = [
    "BEIJING",
    "Clock",
    "SystemClock",
    "beijing_day",
    "bill_time",
    "day_bounds",
    "from_db",
    "rfc3339",
    "to_db",
]

BEIJING = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    """Where the simulator reads the time (tests give one they can move)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def rfc3339(when: datetime) -> str:
    """``2024-06-01T10:00:00+08:00``."""
    return when.astimezone(BEIJING).isoformat(timespec="seconds")


def bill_time(when: datetime) -> str:
    """``2024-06-01 10:00:00``: a bill's time of a payment."""
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_day(when: datetime) -> date:
    """The Beijing day ``when`` falls on: the day of the bill it belongs to."""
    return when.astimezone(BEIJING).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Beijing day starts and ends at (end excluded)."""
    start = datetime.combine(day, time(0, 0), BEIJING).astimezone(UTC)
    return start, start + timedelta(days=1)


def to_db(when: datetime) -> str:
    """How the state stores a moment: ISO 8601 in UTC, so text order is time order."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str) -> datetime:
    """A moment as :func:`to_db` stored it, back in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)
