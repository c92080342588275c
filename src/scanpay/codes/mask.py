"""Masking: what of a payment code may be shown on a screen or written to a log."""

from __future__ import annotations

__all__ = ["mask_text"]


def mask_text(text: str) -> str:
    """Keep at most the first 6 and last 4 characters, and never more than half.

    >>> mask_text("281234567890123456")
    '281234********3456'
    >>> mask_text("12345")
    '1***5'
    """
    n = len(text)
    head, tail = min(6, n // 3), min(4, n // 4)
    return text[:head] + "*" * (n - head - tail) + (text[n - tail :] if tail else "")
