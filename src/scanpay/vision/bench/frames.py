"""``scanpay bench frames``: live analysis throughput at 640x480 on one core.

The frames are synthetic (:mod:`scanpay.vision.synth`): payment codes (EMV
merchant QR, wallet digits) and URLs placed in a scene, in every condition the
guidance knows (readable, dark, bright, glare, blurred, shaken, far, close,
tilted, covered, damaged, no code). Each frame gets exactly what a live stream
gives it (:func:`scanpay.vision.stream.analyze`): a decode attempt with the
live budget plus the quality report.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from scanpay.vision._images import Image
from scanpay.vision.scan import Scanner
from scanpay.vision.stream import analyze
from scanpay.vision.synth import labelled_frames, render_qr

__all__ = ["FramesReport", "bench_frames_set", "pin_to_one_core", "run_frames_bench"]

_TEXTS = (
    "00020101021226300012D156000000000510A93FO3230Q"
    "5204581253031565802CN5906SHOP 06007BEIJING63044B81",
    "281234567890123456",
    "https://example.com/pay?order=20261126-0001",
    "134567890123456789",
)


def pin_to_one_core() -> str:
    """Run this process (and OpenCV) on a single CPU; returns how, for the report."""
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"sched_setaffinity to CPU {cpus[-1]}, cv2.setNumThreads(1)"
    return "cv2.setNumThreads(1) (no CPU affinity on this platform)"


def bench_frames_set(seed: int = 0) -> list[tuple[str, Image]]:
    """The 640x480 frames the benchmark cycles through, with their condition."""
    codes = [(render_qr(text, module_px=5, border=0), None) for text in _TEXTS]
    return [(f.label, f.frame) for f in labelled_frames(codes, seed=seed)]


@dataclass(frozen=True, slots=True)
class FramesReport:
    """Throughput of the live analysis."""

    frames: int
    seconds: float
    median_ms: float
    p90_ms: float
    max_ms: float
    by_condition_ms: dict[str, float]
    read_share: float
    pinning: str

    @property
    def fps(self) -> float:
        """Frames analysed per second."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 1),
            "median_ms": round(self.median_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "max_ms": round(self.max_ms, 2),
            "by_condition_median_ms": {k: round(v, 2) for k, v in self.by_condition_ms.items()},
            "read_share": round(self.read_share, 3),
            "pinning": self.pinning,
            "frame_size": [640, 480],
        }


def run_frames_bench(count: int = 600, *, pin: bool = True, seed: int = 0) -> FramesReport:
    """Analyse ``count`` frames back to back, as a live stream would."""
    pinning = pin_to_one_core() if pin else "not pinned"
    frames = bench_frames_set(seed)
    scanner = Scanner()
    previous: Image | None = None
    times: list[float] = []
    by_condition: dict[str, list[float]] = {}
    reads = 0
    for _, image in frames[:4]:  # warm-up
        analyze(scanner, image)
    started = time.perf_counter()
    for i in range(count):
        label, image = frames[i % len(frames)]
        analysis = analyze(scanner, image, previous)
        previous = image
        times.append(analysis.ms)
        by_condition.setdefault(label, []).append(analysis.ms)
        reads += bool(analysis.scan.symbols)
    seconds = time.perf_counter() - started
    return FramesReport(
        frames=count,
        seconds=seconds,
        median_ms=statistics.median(times),
        p90_ms=float(np.percentile(times, 90)),
        max_ms=max(times),
        by_condition_ms={k: statistics.median(v) for k, v in sorted(by_condition.items())},
        read_share=reads / count,
        pinning=pinning,
    )
