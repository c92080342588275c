"""Structured append: one message split over up to 16 QR symbols.

zxing-cpp's Python binding decodes each part but does not say which part it
is, so the header (mode 0011, index, total, parity) is read here from the
symbol's own module grid: sample the grid at the corners zxing-cpp reported,
error-correct it (:mod:`scanpay.vision._qr`), and read the first 20 bits.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from scanpay.vision._images import Image
from scanpay.vision._qr import decode_matrix, size_for
from scanpay.vision._rectify import estimate_version, sample_modules
from scanpay.vision.symbols import StructuredAppend, Symbol

__all__ = ["infer_version", "read_structured_append"]

_SA_MODE = 0b0011


def infer_version(gray: Image, symbol: Symbol) -> Symbol:
    """``symbol`` with version, EC level and unused EC filled in from its own grid.

    OpenCV's detectors report neither; the version whose sampled grid
    error-corrects is the symbol's. Tried around the size its finder patterns
    suggest; returned unchanged when none fits.
    """
    if symbol.version is not None or not symbol.format.startswith("QR"):
        return symbol
    estimate = estimate_version(gray, symbol.points)
    candidates = (
        range(max(1, estimate - 2), min(40, estimate + 2) + 1) if estimate else range(1, 11)
    )
    for version in candidates:
        samples = sample_modules(gray, symbol.points, size_for(version))
        low, high = float(np.percentile(samples, 2)), float(np.percentile(samples, 98))
        decoded = decode_matrix(samples < (low + high) / 2.0, version)
        if decoded is not None:
            return replace(
                symbol, version=version, ec_level=decoded.level, unused_ec=decoded.unused_ec
            )
    return symbol


def read_structured_append(gray: Image, symbol: Symbol) -> Symbol:
    """``symbol`` with :attr:`Symbol.sequence` filled in when it is a structured-append part.

    Returns ``symbol`` unchanged when it is not a QR Model 2 symbol, carries
    no header, or its grid cannot be sampled cleanly enough to error-correct.
    """
    if symbol.sequence is not None or symbol.version is None:
        return symbol
    if not symbol.format.startswith("QR") or symbol.symbology_id == "]Q0":
        return symbol
    modules = size_for(symbol.version)
    samples = sample_modules(gray, symbol.points, modules)
    low, high = float(np.percentile(samples, 2)), float(np.percentile(samples, 98))
    decoded = decode_matrix(samples < (low + high) / 2.0, symbol.version)
    if decoded is None or len(decoded.data) < 3:
        return symbol
    first, second, third = decoded.data[0], decoded.data[1], decoded.data[2]
    if first >> 4 != _SA_MODE:
        return symbol
    header = StructuredAppend(
        index=first & 0x0F,
        total=(second >> 4) + 1,
        parity=((second & 0x0F) << 4) | (third >> 4),
    )
    return replace(symbol, sequence=header)
