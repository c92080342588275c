"""Alipay's amounts: yuan as text with at most two decimals, to and from integer fen.

Alipay takes and gives amounts in yuan (``total_amount="12.30"``); the host counts
fen. Both ways are exact (integers and :class:`~decimal.Decimal`, never a float),
and a text that is not a whole number of fen is refused, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["AmountError", "to_fen", "to_yuan"]

_YUAN = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?")


class AmountError(ValueError):
    """A text that is not an amount in yuan (to the fen)."""


def to_yuan(fen: int) -> str:
    """``1230`` -> ``"12.30"``: what Alipay's amount fields take."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise AmountError(f"not fen: {fen!r}")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def to_fen(text: str) -> int:
    """``"12.3"`` -> ``1230``; :class:`AmountError` for anything but yuan to the fen."""
    value = text.strip() if isinstance(text, str) else ""
    if not _YUAN.fullmatch(value):
        raise AmountError(f"not an amount in yuan: {text!r}")
    return int(Decimal(value) * 100)
