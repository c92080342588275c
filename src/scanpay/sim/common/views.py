"""How a simulator's admin shows a row of its state: chosen columns, times in RFC 3339."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanpay.sim.common.clock import rfc3339

__all__ = ["row_json"]


def row_json(row: object, names: str) -> dict[str, Any]:
    """``row``'s attributes named in ``names`` (space-separated), in that order; a time
    written as RFC 3339 (Beijing), an absent one as None."""
    shown: dict[str, Any] = {}
    for name in names.split():
        value = getattr(row, name)
        shown[name] = rfc3339(value) if isinstance(value, datetime) else value
    return shown
