"""Reading payment codes from images and frames: :func:`scan` and :class:`Scanner`.

The fast path is one zxing-cpp call, exactly what zxing-cpp alone would do, so
an easy image costs what zxing-cpp costs. Only when that reads nothing valid
does the scanner walk the fallback strategies (:mod:`scanpay.vision.strategies`),
in measured order, until one reads or the time budget runs out. A reading that
claims to be a payment code but fails its checks (a CRC that does not match)
is dropped and the next strategy tried.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2

from scanpay.vision._decoders import CODE128, QR, WeChat, Zxing, formats_for
from scanpay.vision._images import ImageSource, as_u8, load_image
from scanpay.vision._validate import check_text
from scanpay.vision.strategies import (
    CANDIDATES,
    LIVE_ORDER,
    STILL_ORDER,
    STILL_ORDER_WITH_MODELS,
    Toolkit,
    Workspace,
)
from scanpay.vision.structured import infer_version, read_structured_append
from scanpay.vision.symbols import ScanResult, Symbol

__all__ = ["DEFAULT_FORMATS", "LIVE_BUDGET_MS", "STILL_BUDGET_MS", "Scanner", "scan"]

DEFAULT_FORMATS: tuple[str, ...] = ("qr", "code128")
STILL_BUDGET_MS = 1000.0
"""A still image (file, upload) may take up to about a second."""
LIVE_BUDGET_MS = 12.0
"""A live frame shares 33 ms (30 fps) with quality analysis and the camera."""


class Scanner:
    """A configured scanner; reuse one per camera or per thread of work.

    ``formats``: ``qr`` and/or ``code128``. ``models``: a folder with OpenCV's
    WeChat CNN models (``detect.onnx``, ``sr.onnx``); optional, and only used
    when given. ``still_order``/``live_order`` override the measured strategy
    orders (for measuring new ones). ``structured_append`` reads the
    structured-append header of every QR symbol into :attr:`Symbol.sequence`
    (off by default: it samples the grid again, which costs time on every
    read, and payment codes never use it).
    """

    def __init__(
        self,
        *,
        formats: Sequence[str] = DEFAULT_FORMATS,
        models: Path | None = None,
        still_order: Sequence[str] | None = None,
        live_order: Sequence[str] | None = None,
        structured_append: bool = False,
    ) -> None:
        wanted = formats_for(formats)
        if not wanted:
            raise ValueError("at least one format is needed")
        self.formats = tuple(formats)
        self._qr = tuple(f for f in wanted if f in QR)
        self._linear = tuple(f for f in wanted if f in CODE128)
        self.tools = Toolkit(
            zxing=Zxing(wanted),
            wechat_models=WeChat(models) if models is not None else None,
        )
        if still_order is None:
            still_order = STILL_ORDER_WITH_MODELS if models is not None else STILL_ORDER
        self.still_order = _known(still_order)
        self.live_order = _known(live_order if live_order is not None else LIVE_ORDER)
        self._live_next = 0
        self.structured_append = structured_append

    def scan(
        self,
        image: ImageSource,
        *,
        live: bool = False,
        budget_ms: float | None = None,
    ) -> ScanResult:
        """Every payment code (and any other QR/Code 128 text) in ``image``.

        ``live`` selects the small per-frame budget and the cheap strategies,
        rotating through them from frame to frame so a held-still code meets
        each of them within a few frames.
        """
        started = time.perf_counter()
        pixels = load_image(image)
        frame = Workspace(pixels, self.tools)
        budget = (
            budget_ms if budget_ms is not None else (LIVE_BUDGET_MS if live else STILL_BUDGET_MS)
        )
        tried: list[str] = []
        rejected = 0

        refused: set[str] = set()
        settled = False

        def accept(found: list[Symbol]) -> list[Symbol]:
            nonlocal rejected, settled
            kept: list[Symbol] = []
            for symbol in found:
                verdict = check_text(symbol.text)
                if not verdict.accepted:
                    rejected += 1
                    # Two strategies reading the same failing text agree on
                    # what is printed: the code itself is bad, not the reading,
                    # and more strategies would only read it again.
                    settled = settled or symbol.text in refused
                    refused.add(symbol.text)
                    continue
                if any(_same(symbol, other) for other in kept):
                    continue
                if verdict.kind is not None or verdict.reason is not None:
                    symbol = replace(
                        symbol, payment_kind=verdict.kind, payment_problem=verdict.reason
                    )
                kept.append(symbol)
            return kept

        def finish(symbols: list[Symbol], out_of_budget: bool = False) -> ScanResult:
            if self.structured_append:
                symbols = [read_structured_append(frame.gray, s) for s in symbols]
            return ScanResult(
                symbols=tuple(symbols),
                ms=(time.perf_counter() - started) * 1000.0,
                width=int(pixels.shape[1]),
                height=int(pixels.shape[0]),
                tried=tuple(tried),
                rejected=rejected,
                out_of_budget=out_of_budget,
                hints=tuple(quad for quad, _ in dict.fromkeys(frame.hints)) if frame.hints else (),
            )

        # Fast path. zxing-cpp's own try_invert decodes the inverted image too
        # even after a read; scanpay stops at the first read and inverts only
        # when nothing was found (same reads, about 15% less time). Code 128
        # only when no QR code is read: a wallet screen shows both with the
        # same digits, and linear scanning doubles the cost of every image.
        passes = (
            ("zxing", self._qr, False),
            ("zxing_inverted", self._qr, True),
            ("zxing_linear", self._linear, False),
        )
        for name, formats, inverted in passes:
            if not formats:
                continue
            tried.append(name)
            # The image as loaded: zxing-cpp converts colour to luminance itself,
            # as fast as OpenCV does, and a read image never needs the grey copy.
            pixels_in = as_u8(cv2.bitwise_not(frame.image)) if inverted else frame.image
            found = accept(
                frame.zxing(pixels_in, name, formats=formats, try_invert=formats is self._linear)
            )
            if found:
                return finish(found)

        order = self.live_order if live else self.still_order
        if live and order:
            # Rotate so consecutive frames start with different strategies.
            start = self._live_next % len(order)
            self._live_next += 1
            order = order[start:] + order[:start]
        for name in order:
            if (time.perf_counter() - started) * 1000.0 >= budget:
                return finish([], out_of_budget=True)
            tried.append(name)
            found = accept(CANDIDATES[name](frame))
            if found:
                # OpenCV's detectors do not report the QR version; recover it
                # (and the EC level) from the symbol's own grid.
                return finish([infer_version(frame.gray, s) for s in found])
            if settled:
                break
        return finish([])


def _known(names: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in names if name not in CANDIDATES]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}; choose from {sorted(CANDIDATES)}")
    return tuple(names)


def _same(a: Symbol, b: Symbol) -> bool:
    if a.text != b.text:
        return False
    (ax, ay), (bx, by) = a.center, b.center
    return abs(ax - bx) + abs(ay - by) < max(a.size, b.size) / 2.0


_default: Scanner | None = None


def scan(image: ImageSource, *, live: bool = False, budget_ms: float | None = None) -> ScanResult:
    """Scan ``image`` (path, encoded bytes or array) with a default :class:`Scanner`."""
    global _default
    if _default is None:
        _default = Scanner()
    return _default.scan(image, live=live, budget_ms=budget_ms)
