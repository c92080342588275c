"""The ID-length-value structure of EMV merchant-presented codes.

IDs and lengths are two decimal digits each and lengths count *characters*
(EMVCo MPM 4.4.1.1: ``0104最佳运输`` has length 04), not UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanpay.codes.errors import CodeError, Problem

__all__ = ["DataObject", "encode", "walk"]


@dataclass(frozen=True, slots=True)
class DataObject:
    """One ID-length-value data object; ``offset`` is where its ID starts in the payload."""

    id: str
    value: str
    offset: int = 0

    def encode(self) -> str:
        return f"{self.id}{len(self.value):02d}{self.value}"


def walk(text: str, *, base: int = 0, field: str = "") -> tuple[list[DataObject], list[Problem]]:
    """Split ``text`` into data objects.

    Returns what could be framed plus the problems met. The walk stops at the
    first object it cannot frame (a non-digit ID or length, or a value that
    runs past the end): everything after it would be guesswork.
    """
    objects: list[DataObject] = []
    problems: list[Problem] = []
    pos, end = 0, len(text)
    while pos < end:
        head = text[pos : pos + 4]
        ident = head[:2]
        where = f"{field}{ident}" if ident.isascii() and ident.isdigit() else field or None
        if len(head) < 4 or not (head.isascii() and head.isdigit()):
            problems.append(
                Problem("bad_tlv", "error", where, base + pos, f"cannot frame {head!r}")
            )
            break
        size = int(head[2:])
        value = text[pos + 4 : pos + 4 + size]
        if len(value) < size:
            problems.append(
                Problem(
                    "bad_tlv",
                    "error",
                    where,
                    base + pos,
                    f"length {size} runs past the end ({len(value)} characters left)",
                )
            )
            break
        objects.append(DataObject(head[:2], value, base + pos))
        pos += 4 + size
    return objects, problems


def encode(objects: Iterable[DataObject | tuple[str, str]]) -> str:
    """Join data objects back into text (lengths in characters).

    Raises :class:`CodeError` for an ID that is not two digits or a value
    that is empty or longer than 99 characters.
    """
    parts = []
    for obj in objects:
        ident, value = (obj.id, obj.value) if isinstance(obj, DataObject) else obj
        if not (len(ident) == 2 and ident.isascii() and ident.isdigit()):
            raise CodeError.single("bad_tlv", field=ident, detail="ID must be two digits")
        if not value:
            raise CodeError.single("empty_value", field=ident)
        if len(value) > 99:
            raise CodeError.single("too_long", field=ident, detail=f"{len(value)} > 99")
        parts.append(f"{ident}{len(value):02d}{value}")
    return "".join(parts)
