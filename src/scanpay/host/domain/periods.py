"""The span of the calendar a search may name: one rule for every date and time filter. Pure.

A filter's date is refused unless it lies in :data:`EARLIEST` .. :data:`LATEST`
(the date as the client wrote it: in its own offset, or in the host's timezone
when it has none). Nothing the host holds is older than the Unix epoch, and a
year of room below Python's last date (9999-12-31) means that moving any such
time to UTC, or adding the day after it, can never overflow: ``0001-01-01`` and
``9999-12-31`` were 500s once (the bounds overflowed on their way to UTC). The
terminal API (``/v1/transactions``: ``from``, ``to``, ``cursor``) and the
merchant portal (the transaction list, its exports and its cursor) both ask here.

>>> check_day(date(2026, 5, 1), "from")
datetime.date(2026, 5, 1)
>>> check_day(date(1, 1, 1), "from")
Traceback (most recent call last):
...
scanpay.host.errors.HostError: 30: date out of range: 1970-01-01 to 9998-12-31 (field from)
>>> from zoneinfo import ZoneInfo
>>> check_time(datetime(2026, 5, 1, 8, 0), ZoneInfo("Asia/Shanghai"), "from")
datetime.datetime(2026, 5, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from scanpay.host.errors import HostError
from scanpay.i18n import Text

__all__ = ["EARLIEST", "LATEST", "check_day", "check_time", "in_range", "out_of_range"]

#: The first day a filter may name (the Unix epoch).
EARLIEST = date(1970, 1, 1)
#: The last day a filter may name: a year short of 9999-12-31, so that any timezone's
#: offset and the day after it still fit in a ``datetime``.
LATEST = date(9998, 12, 31)


def out_of_range(field: str) -> HostError:
    """The refusal of a date outside the span: ``30`` naming ``field``."""
    text = Text(
        f"日期超出范围：应在 {EARLIEST.isoformat()} 至 {LATEST.isoformat()} 之间",
        f"date out of range: {EARLIEST.isoformat()} to {LATEST.isoformat()}",
    )
    return HostError("30", text, field=field)


def in_range(day: date) -> bool:
    """Whether ``day`` lies within :data:`EARLIEST` .. :data:`LATEST`."""
    return EARLIEST <= day <= LATEST


def check_day(day: date, field: str) -> date:
    """``day``, or :func:`out_of_range` for ``field``."""
    if not in_range(day):
        raise out_of_range(field)
    return day


def check_time(when: datetime, zone: tzinfo, field: str) -> datetime:
    """``when`` in UTC (a time without an offset is in ``zone``), or :func:`out_of_range`."""
    check_day(when.date(), field)
    aware = when if when.utcoffset() is not None else when.replace(tzinfo=zone)
    return aware.astimezone(UTC)
