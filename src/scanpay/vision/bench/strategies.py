"""``scanpay bench strategies``: which fallbacks pay for themselves, and in what order.

The pool is every image the fast path (one zxing-cpp call) does not read:
the dataset's own misses, plus degraded copies of the dataset's readable
images (dark, washed out, glare, defocus, shake, noise, tiny, steep tilt,
uneven light, heavy JPEG), made deterministically from a seed. Each
candidate strategy runs alone on every pool image, after the fast path (so
it gets the fast path's hints, as in the real pipeline). The order is then
chosen greedily: repeatedly take the strategy with the most new reads per
millisecond of average cost, until none adds a read. Strategies never picked
are not worth their time on this data.

``scanpay bench strategies --live`` does the same on 640x480 synthetic frames
with the live budget's cost limit.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from scanpay.vision._images import Image, as_u8, to_gray
from scanpay.vision.bench.dataset import Dataset
from scanpay.vision.scan import Scanner
from scanpay.vision.strategies import CANDIDATES, Workspace
from scanpay.vision.synth import add_glare, add_noise, defocus, motion_blur

__all__ = ["PoolImage", "StrategyReport", "StrategyRow", "degraded_pool", "run_strategy_bench"]


@dataclass(frozen=True, slots=True)
class PoolImage:
    """An image the fast path misses, with the text it should give."""

    name: str
    image: Image
    expected: str


def _tilt(image: Image, degrees: float) -> Image:
    h, w = image.shape[:2]
    shrink = math.cos(math.radians(degrees))
    src = np.asarray([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    top = w * (1 - (0.5 + 0.5 * shrink)) / 2
    dst = np.asarray(
        [[top, h * (1 - shrink)], [w - top, h * (1 - shrink)], [w, h], [0, h]], dtype=np.float32
    )
    m = cv2.getPerspectiveTransform(src, dst)
    return as_u8(cv2.warpPerspective(image, m, (w, h), borderValue=255))


def _jpeg(image: Image, quality: int) -> Image:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return as_u8(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)) if ok else image


def _shadow(image: Image) -> Image:
    w = image.shape[1]
    ramp = np.linspace(0.15, 1.0, w, dtype=np.float32)[None, :]
    return as_u8(image.astype(np.float32) * ramp)


def _degradations(
    module_px: float, rng: np.random.Generator
) -> dict[str, Callable[[Image], Image]]:
    m = max(module_px, 1.0)
    return {
        "dark": lambda g: as_u8(
            np.clip(g.astype(np.float32) * 0.1 + rng.normal(0, 1.5, g.shape), 0, 255)
        ),
        "washed": lambda g: as_u8(np.clip(g.astype(np.float32) * 0.3 + 175, 0, 255)),
        "glare": lambda g: add_glare(
            g,
            (g.shape[1] * rng.uniform(0.3, 0.7), g.shape[0] * rng.uniform(0.3, 0.7)),
            min(g.shape) * 0.22,
        ),
        "defocus": lambda g: defocus(g, 0.55 * m),
        "shake": lambda g: motion_blur(g, int(1.6 * m) + 3, float(rng.uniform(0, 180))),
        "noise": lambda g: add_noise(g, 45.0, int(rng.integers(1 << 30))),
        "tiny": lambda g: (
            as_u8(cv2.resize(g, None, fx=1.1 / m, fy=1.1 / m, interpolation=cv2.INTER_AREA))
            if m > 1.2
            else g
        ),
        "tilt": lambda g: _tilt(g, 72.0),
        "shadow": _shadow,
        "jpeg": lambda g: _jpeg(g, 6),
    }


def degraded_pool(
    dataset: Dataset, scanner: Scanner, *, seed: int = 0
) -> tuple[list[PoolImage], dict[str, int]]:
    """The images the fast path misses, and how many each source contributed."""
    fast = Scanner(formats=scanner.formats, still_order=(), live_order=())
    pool: list[PoolImage] = []
    made: dict[str, int] = {}
    for index, entry in enumerate(dataset.entries):
        if len(entry.files) != 1 or entry.expected_text is None:
            continue
        image = entry.images()[0]
        first = fast.scan(image)
        if not entry.matches(first.texts):
            pool.append(PoolImage(entry.name, image, entry.expected_text))
            made["dataset"] = made.get("dataset", 0) + 1
            continue
        symbol = next(s for s in first.symbols if s.text == entry.expected_text)
        modules = 17 + 4 * symbol.version if symbol.version else 29
        rng = np.random.default_rng(seed + index)
        gray = to_gray(image)
        for name, degrade in _degradations(symbol.size / modules, rng).items():
            variant = degrade(gray)
            if variant is gray or entry.matches(fast.scan(variant).texts):
                continue
            pool.append(PoolImage(f"{entry.name}+{name}", variant, entry.expected_text))
            made[name] = made.get(name, 0) + 1
    return pool, made


@dataclass(slots=True)
class StrategyRow:
    """One candidate's measurements."""

    name: str
    purpose: str
    reads: int = 0
    mean_ms: float = 0.0
    rank: int | None = None
    gain: int = 0
    """New reads it added when it was picked."""
    read_set: set[int] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "purpose": self.purpose,
            "reads_alone": self.reads,
            "mean_ms": round(self.mean_ms, 2),
            "rank": self.rank,
            "gain_when_picked": self.gain,
            "gain_per_ms": round(self.gain / self.mean_ms, 2)
            if self.rank and self.mean_ms > 0
            else None,
        }


@dataclass(slots=True)
class StrategyReport:
    """The measured candidates and the order chosen from them."""

    pool: int
    sources: dict[str, int]
    rows: list[StrategyRow]
    order: list[str]
    covered: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "sources": self.sources,
            "order": self.order,
            "covered": self.covered,
            "candidates": [r.to_dict() for r in self.rows],
        }


def _greedy(rows: list[StrategyRow]) -> list[str]:
    covered: set[int] = set()
    order: list[str] = []
    remaining = list(rows)
    while remaining:
        best = max(
            remaining,
            key=lambda r: (len(r.read_set - covered) / max(r.mean_ms, 0.05), -r.mean_ms),
        )
        gain = len(best.read_set - covered)
        if gain == 0:
            break
        best.rank = len(order) + 1
        best.gain = gain
        order.append(best.name)
        covered |= best.read_set
        remaining.remove(best)
    return order


def live_pool(
    dataset: Dataset, scanner: Scanner, *, seed: int = 0, limit: int = 40
) -> tuple[list[PoolImage], dict[str, int]]:
    """640x480 frames made from the dataset's codes that the fast path misses."""
    from scanpay.vision.synth import labelled_frames

    fast = Scanner(formats=scanner.formats, still_order=(), live_order=())
    codes: list[tuple[Image, Any]] = []
    texts: list[str] = []
    for image, quad, text in _codes_with_text(dataset, fast, limit):
        codes.append((image, quad))
        texts.append(text)
    pool: list[PoolImage] = []
    made: dict[str, int] = {}
    for item in labelled_frames(codes, seed=seed):
        if item.label in {"OK", "NO_CODE"}:
            continue
        index = int(item.name.split("/")[0].removeprefix("code"))
        if texts[index] in fast.scan(item.frame).texts:
            continue
        pool.append(PoolImage(item.name, item.frame, texts[index]))
        made[item.label] = made.get(item.label, 0) + 1
    return pool, made


def _codes_with_text(
    dataset: Dataset, scanner: Scanner, limit: int
) -> Iterator[tuple[Image, Any, str]]:
    count = 0
    for entry in dataset.entries:
        if len(entry.files) != 1 or entry.expected_text is None:
            continue
        image = entry.images()[0]
        hits = [s for s in scanner.scan(image).symbols if s.text == entry.expected_text]
        if hits:
            yield to_gray(image), hits[0].points, entry.expected_text
            count += 1
            if count >= limit:
                return


def _attempts(pool: list[PoolImage], scanner: Scanner) -> Iterator[tuple[int, Workspace]]:
    for i, item in enumerate(pool):
        frame = Workspace(item.image, scanner.tools)
        # The fast path runs first in the pipeline; its hints are every
        # strategy's to use.
        frame.zxing(frame.image, "zxing", formats=scanner.tools.zxing.formats)
        yield i, frame


def run_strategy_bench(
    dataset: Dataset,
    *,
    scanner: Scanner | None = None,
    seed: int = 0,
    candidates: list[str] | None = None,
    live: bool = False,
    max_ms: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> StrategyReport:
    """Measure every candidate on the pool and choose the order (see module doc).

    ``live`` measures on 640x480 frames instead; ``max_ms`` leaves out
    strategies whose mean cost exceeds it (a live frame cannot afford them).
    """
    scanner = scanner or Scanner()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # every strategy measured on one core
    try:
        return _measure(dataset, scanner, seed, candidates, live, max_ms, progress)
    finally:
        cv2.setNumThreads(threads)


def _measure(
    dataset: Dataset,
    scanner: Scanner,
    seed: int,
    candidates: list[str] | None,
    live: bool,
    max_ms: float | None,
    progress: Callable[[str], None] | None,
) -> StrategyReport:
    if live:
        pool, sources = live_pool(dataset, scanner, seed=seed)
    else:
        pool, sources = degraded_pool(dataset, scanner, seed=seed)
    names = candidates or [
        n for n in CANDIDATES if n != "wechat_models" or scanner.tools.wechat_models
    ]
    rows: list[StrategyRow] = []
    for name in names:
        strategy = CANDIDATES[name]
        row = StrategyRow(name, strategy.purpose)
        times: list[float] = []
        for i, frame in _attempts(pool, scanner):
            started = time.perf_counter()
            found = strategy(frame)
            times.append((time.perf_counter() - started) * 1000.0)
            if any(symbol.text == pool[i].expected for symbol in found):
                row.read_set.add(i)
        row.reads = len(row.read_set)
        row.mean_ms = statistics.fmean(times) if times else 0.0
        rows.append(row)
        if progress is not None:
            progress(f"{name}: {row.reads}/{len(pool)} at {row.mean_ms:.2f} ms")
    affordable = [r for r in rows if max_ms is None or r.mean_ms <= max_ms]
    order = _greedy(affordable)
    covered = len(set().union(*(r.read_set for r in rows if r.rank)))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, -r.reads))
    return StrategyReport(len(pool), sources, rows, order, covered)
