"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

A merchant's business licence number: 18 characters from a 31-character
alphabet (digits and capitals without I, O, S, V, Z); the last one is a check
character over the first 17 with weights 3^i mod 31. Pure: no I/O.

>>> is_valid_uscc("91350100M000100Y43")
True
>>> is_valid_uscc("91350100M000100Y42")
False
"""

from __future__ import annotations

__all__ = ["USCC_ALPHABET", "USCC_WEIGHTS", "check_character", "is_valid_uscc", "normalize_uscc"]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}


def normalize_uscc(text: str) -> str:
    """Upper case, surrounding blanks removed (licences are often typed in lower case)."""
    return text.strip().upper()


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code.

    Raises :class:`ValueError` when ``first17`` is not 17 characters of the alphabet.
    """
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("a USCC body is 17 characters of the GB 32100 alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(text: str) -> bool:
    """True when ``text`` (already normalised) is 18 characters with the right check character."""
    if len(text) != 18 or any(ch not in _VALUE for ch in text):
        return False
    return check_character(text[:17]) == text[17]
