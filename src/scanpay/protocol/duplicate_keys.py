"""Duplicate keys in a JSON body: refused, never "the last one wins".

RFC 8259 leaves a repeated member name to the parser, and parsers disagree: Python's
``json`` keeps the last, others the first. A signed body that reads one way to the
host and another to a proxy, a log or the terminal's own record is a body whose
meaning the signature does not pin down (``{"amount":1,"amount":100000}``). So the
host refuses any body that repeats a name in any object.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["first_duplicate_key"]


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


def first_duplicate_key(raw: bytes) -> str | None:
    """The first name repeated inside one JSON object of ``raw``; None when there is none
    or ``raw`` is not JSON at all (the body's own validation says what is wrong then)."""
    try:
        json.loads(raw, object_pairs_hook=_pairs)
    except _Duplicate as found:
        return found.key
    except (ValueError, RecursionError):
        return None
    return None
