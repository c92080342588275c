"""UnionPay's amounts: ``txnAmt`` is fen as a decimal integer text ("1230"), which is
what the host counts; the statement file's are zero-padded to 12 digits."""

from __future__ import annotations

import re

__all__ = ["AmountError", "to_fen", "to_txn_amt"]

_FEN = re.compile(r"[0-9]{1,12}")
_MAX = 10**12 - 1  # txnAmt is at most 12 digits


class AmountError(ValueError):
    """A text that is not a ``txnAmt``, or fen that cannot be one."""


def to_txn_amt(fen: int) -> str:
    """``1230`` -> ``"1230"``; :class:`AmountError` for anything but 1..10^12-1 fen."""
    if isinstance(fen, bool) or not isinstance(fen, int) or not 0 < fen <= _MAX:
        raise AmountError(f"not fen UnionPay takes: {fen!r}")
    return str(fen)


def to_fen(text: str) -> int:
    """``"1230"`` or ``"000000001230"`` -> ``1230``; :class:`AmountError` otherwise."""
    value = text.strip() if isinstance(text, str) else ""
    if not _FEN.fullmatch(value):
        raise AmountError(f"not a txnAmt: {text!r}")
    return int(value)
