"""BER-TLV (EMV Book 3 Annex B), the binary structure inside consumer-presented codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanpay.codes.errors import Problem

__all__ = ["Node", "decode", "encode", "encode_length", "encode_node"]

# Transparent templates carry payment-system data the POI forwards as an
# opaque blob (EMVCo CPM 5.1.1.8): never fail a code because of them.
_OPAQUE = frozenset({"63", "64"})


@dataclass(frozen=True, slots=True)
class Node:
    """One BER-TLV object. ``tag`` is upper-case hex ("9F26"); ``offset`` is its byte offset.

    ``children`` holds the parsed contents of a constructed object (``None``
    for a primitive one, or for a transparent template that did not parse).
    """

    tag: str
    value: bytes
    offset: int = 0
    children: tuple[Node, ...] | None = None

    @property
    def constructed(self) -> bool:
        return bool(int(self.tag[:2], 16) & 0x20)

    def find(self, tag: str) -> Node | None:
        """The first direct child with ``tag``."""
        for child in self.children or ():
            if child.tag == tag:
                return child
        return None


def decode(data: bytes, *, base: int = 0, field: str = "") -> tuple[list[Node], list[Problem]]:
    """Decode a sequence of BER-TLV objects, recursing into constructed ones."""
    nodes: list[Node] = []
    problems: list[Problem] = []
    pos, end = 0, len(data)
    while pos < end:
        start = pos
        # Padding bytes between objects are allowed by EMV Book 3 (B1).
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag_end = pos + 1
        if data[pos] & 0x1F == 0x1F:
            while tag_end < end and data[tag_end] & 0x80:
                tag_end += 1
            tag_end += 1
        if tag_end > end or tag_end - pos > 4:
            problems.append(Problem("bad_ber", "error", field or None, base + start, "bad tag"))
            break
        tag = data[pos:tag_end].hex().upper()
        pos = tag_end
        if pos >= end:
            problems.append(Problem("bad_ber", "error", tag, base + start, "no length"))
            break
        first = data[pos]
        pos += 1
        if first < 0x80:
            size = first
        elif 0x81 <= first <= 0x84:
            count = first - 0x80
            if pos + count > end:
                problems.append(Problem("bad_ber", "error", tag, base + start, "length cut off"))
                break
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        elif first > 0x84 and pos + first <= end:
            # Non-strict encoders write lengths 128-255 as one byte (0x93 for 147)
            # instead of 81 93; the value then fits exactly, so read it and warn.
            size = first
            problems.append(
                Problem("lenient_ber", "warning", tag, base + start, f"length byte {first:#04x}")
            )
        else:
            problems.append(Problem("bad_ber", "error", tag, base + start, "bad length"))
            break
        if pos + size > end:
            problems.append(
                Problem("bad_ber", "error", tag, base + start, "value runs past the end")
            )
            break
        value = data[pos : pos + size]
        children: tuple[Node, ...] | None = None
        if int(tag[:2], 16) & 0x20:
            inner, inner_problems = decode(value, base=base + pos, field=tag)
            if tag in _OPAQUE and any(p.severity == "error" for p in inner_problems):
                children = None
            else:
                children = tuple(inner)
                problems.extend(inner_problems)
        nodes.append(Node(tag, value, base + start, children))
        pos += size
    return nodes, problems


def encode_length(size: int) -> bytes:
    """Minimal BER length: one byte below 128, else 81/82/83/84 and the length."""
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    if len(raw) > 4:
        raise ValueError("BER value too long")
    return bytes([0x80 | len(raw)]) + raw


def encode_node(tag: str, value: bytes) -> bytes:
    """One object: tag bytes, minimal length, value."""
    return bytes.fromhex(tag) + encode_length(len(value)) + value


def encode(nodes: Iterable[tuple[str, bytes]]) -> bytes:
    """Concatenate objects given as ``(tag, value)`` pairs."""
    return b"".join(encode_node(tag, value) for tag, value in nodes)
