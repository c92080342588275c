"""WeChat Pay's own way of writing time: API v2's ``yyyyMMddHHmmss``.

The clock and the Beijing-time forms every network shares (RFC 3339 with ``+08:00``
in API v3, ``yyyy-MM-dd HH:mm:ss`` in the bills, a bill's Beijing day) are
:mod:`scanpay.sim.common.clock`'s, named here too for the WeChat adapter's tests.
"""

from __future__ import annotations

from datetime import datetime

from scanpay.sim.common.clock import (
    BEIJING,
    Clock,
    SystemClock,
    beijing_day,
    bill_time,
    day_bounds,
    from_db,
    rfc3339,
    to_db,
)

__all__ = [
    "BEIJING",
    "Clock",
    "SystemClock",
    "beijing_day",
    "bill_time",
    "compact",
    "day_bounds",
    "from_db",
    "rfc3339",
    "to_db",
]


def compact(when: datetime) -> str:
    """``20240601100000``: API v2's ``time_end``."""
    return when.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
