"""What a scan returns: :class:`Symbol` (one decoded code) and :class:`ScanResult`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "Point",
    "Quad",
    "ScanResult",
    "StructuredAppend",
    "Symbol",
    "join_structured_append",
    "mask_text",
]

Point: TypeAlias = tuple[float, float]
Quad: TypeAlias = tuple[Point, Point, Point, Point]
"""Corners of a symbol in image pixels: top-left, top-right, bottom-right,
bottom-left as seen in the symbol's own orientation (so a code rotated by 90
degrees has its top-left corner wherever its top-left finder pattern is)."""

# Consumer-presented codes are one-time bearer tokens: show at most the first
# 6 and last 4 characters (DESIGN: personal data is masked wherever shown).
_SECRET_KINDS = frozenset({"wallet", "emv_cpm"})


@dataclass(frozen=True, slots=True)
class StructuredAppend:
    """Structured-append header of a QR symbol that is one part of a longer message."""

    index: int
    """0-based position of this part."""
    total: int
    """Number of parts in the message."""
    parity: int
    """XOR of every byte of the whole message; equal in all parts."""


@dataclass(frozen=True, slots=True)
class Symbol:
    """One decoded code."""

    text: str
    """Decoded text (bytes mapped to characters as the code's ECI/charset says)."""
    raw: bytes
    """Decoded payload bytes."""
    format: str
    """``QR Code``, ``QR Code Model 1`` or ``Code 128``."""
    points: Quad
    """Corners in the scanned image's pixel coordinates."""
    strategy: str
    """Name of the strategy in :mod:`scanpay.vision.strategies` that read it."""
    version: int | None = None
    """QR version 1-40 (None for linear codes, or when the decoder does not say)."""
    ec_level: str | None = None
    """QR error-correction level L, M, Q or H."""
    symbology_id: str | None = None
    """ISO/IEC 15424 symbology identifier, e.g. ``]Q1`` (QR), ``]C0`` (Code 128)."""
    unused_ec: float | None = None
    """Share of the error-correction capacity left unused, 0..1 (1 = no errors fixed)."""
    payment_kind: str | None = None
    """``emv_mpm``, ``emv_cpm`` or ``wallet`` when ``scanpay.codes`` validated it."""
    payment_problem: str | None = None
    """``scanpay.codes`` error code when the text looks like a payment code but is
    not a valid one (e.g. ``unknown_wallet_code``); the symbol is still returned."""
    sequence: StructuredAppend | None = None
    """Structured-append header, when this symbol is one part of a message."""

    @property
    def is_payment_code(self) -> bool:
        """True when ``scanpay.codes`` parsed the text as a payment code."""
        return self.payment_kind is not None

    @property
    def center(self) -> Point:
        """Mean of the four corners."""
        return (
            sum(p[0] for p in self.points) / 4.0,
            sum(p[1] for p in self.points) / 4.0,
        )

    @property
    def size(self) -> float:
        """Mean side length in pixels."""
        total = 0.0
        for i in range(4):
            (x0, y0), (x1, y1) = self.points[i], self.points[(i + 1) % 4]
            total += ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        return total / 4.0

    @property
    def is_secret(self) -> bool:
        """True for consumer-presented codes (one-time tokens) and anything that
        tried to be one: those are shown masked. Merchant codes are public."""
        if self.payment_kind in _SECRET_KINDS:
            return True
        return self.payment_problem is not None and not self.text.startswith("0002")

    def display_text(self) -> str:
        """The text as it may be shown or logged: one-time payment codes masked."""
        return mask_text(self.text) if self.is_secret else self.text

    def to_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        """JSON-ready data; one-time payment codes are masked unless ``reveal``."""
        data: dict[str, Any] = {
            "text": self.text if reveal else self.display_text(),
            "format": self.format,
            "points": [[round(x, 1), round(y, 1)] for x, y in self.points],
            "strategy": self.strategy,
            "version": self.version,
            "ec_level": self.ec_level,
            "symbology_id": self.symbology_id,
            "unused_ec": self.unused_ec,
            "payment_kind": self.payment_kind,
            "payment_problem": self.payment_problem,
        }
        if not reveal and self.is_secret:
            data["masked"] = True
        if self.sequence is not None:
            data["sequence"] = {
                "index": self.sequence.index,
                "total": self.sequence.total,
                "parity": self.sequence.parity,
            }
        return data


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything :func:`scanpay.vision.scan` found in one image."""

    symbols: tuple[Symbol, ...]
    ms: float
    """Wall time spent decoding, in milliseconds."""
    width: int
    height: int
    tried: tuple[str, ...] = ()
    """Strategies run, in order, up to and including the one that read."""
    rejected: int = 0
    """Readings dropped because they failed the payment-code integrity check (a
    wrong EMV CRC). The scan stops early once two strategies read the same
    failing text: then the printed code itself is bad."""
    out_of_budget: bool = False
    """True when strategies were left untried because the time budget ran out."""
    hints: tuple[Quad, ...] = field(default=(), compare=False)
    """Where the decoders saw a code they could not read (for guidance)."""

    @property
    def ok(self) -> bool:
        """At least one symbol was read."""
        return bool(self.symbols)

    @property
    def texts(self) -> list[str]:
        """The decoded texts, in the order the symbols were found."""
        return [symbol.text for symbol in self.symbols]

    def to_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        """JSON-ready data (one-time payment codes masked unless ``reveal``)."""
        return {
            "symbols": [symbol.to_dict(reveal=reveal) for symbol in self.symbols],
            "ms": round(self.ms, 3),
            "width": self.width,
            "height": self.height,
            "tried": list(self.tried),
            "rejected": self.rejected,
            "out_of_budget": self.out_of_budget,
        }


def mask_text(text: str) -> str:
    """``text`` with everything but the first 6 and last 4 characters replaced by ``*``."""
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def join_structured_append(parts: Iterable[Symbol]) -> str | None:
    """The message carried by a complete set of structured-append symbols, else None.

    Parts may come from several images in any order; duplicates are ignored.
    The join is only returned when every index 0..total-1 is present and all
    parts agree on the total and the parity byte.
    """
    by_index: dict[int, Symbol] = {}
    header: tuple[int, int] | None = None
    for part in parts:
        seq = part.sequence
        if seq is None:
            continue
        if header is None:
            header = (seq.total, seq.parity)
        elif header != (seq.total, seq.parity):
            return None
        by_index.setdefault(seq.index, part)
    if header is None or sorted(by_index) != list(range(header[0])):
        return None
    ordered: Sequence[Symbol] = [by_index[i] for i in range(header[0])]
    return "".join(part.text for part in ordered)
