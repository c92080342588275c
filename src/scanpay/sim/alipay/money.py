"""Alipay's amounts: yuan written as text (``"12.34"``), kept here as integer fen.

Alipay's ``Price`` is yuan with at most two decimals, 0.01 to 100000000.00. A client
may also send a JSON number (``12`` or ``12.5``): the gateway reads JSON numbers as
:class:`~decimal.Decimal`, so its text is read the same exact way, never as a float.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["MAX_FEN", "fee_of", "parse_yuan"]

MAX_FEN = 10_000_000_000  # 100000000.00 yuan
_PRICE = re.compile(r"(0|[1-9][0-9]{0,8})(?:\.([0-9]{1,2}))?")


def parse_yuan(value: object) -> int | None:
    """``"12.34"`` (or ``12.34`` read as Decimal, or ``12``) -> 1234 fen; None when it is
    not an Alipay price (malformed, more than two decimals, zero, negative, too big)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None
    match = _PRICE.fullmatch(text)
    if match is None:
        return None
    whole, decimals = match.group(1), match.group(2) or ""
    fen = int(whole) * 100 + int((decimals + "00")[:2])
    if not 0 < fen <= MAX_FEN:
        return None
    return fen


def fee_of(amount: int, rate_bp: int) -> int:
    """The service fee on ``amount`` fen at ``rate_bp`` basis points, rounded half up to
    the fen (0.6 % is 60)."""
    return (amount * rate_bp + 5_000) // 10_000
