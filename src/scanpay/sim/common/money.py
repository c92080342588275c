"""Amounts as the networks write them: integer fen shown as yuan with two decimals."""

from __future__ import annotations

__all__ = ["yuan"]


def yuan(fen: int) -> str:
    """``1234`` fen -> ``12.34``."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
