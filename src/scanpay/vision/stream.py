"""Frame streams: sources (camera, video file, folder) and continuous detection.

:class:`ContinuousScanner` watches a stream with no button to press. Each
frame gets a quick decode attempt (the live budget) and a quality check. A
code is reported once it is confirmed, by two agreeing frames within a short
window or by one frame whose content validates as a payment code; the same
code is not reported again until it has been out of view for the cool-down.
While nothing reads, the guidance (too dark, hold still, ...) is reported
whenever it changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import cv2

from scanpay.vision._images import Image, as_u8, load_image
from scanpay.vision.quality import FrameQuality, Guidance, assess
from scanpay.vision.scan import Scanner
from scanpay.vision.symbols import ScanResult, Symbol

__all__ = [
    "IMAGE_SUFFIXES",
    "Analysis",
    "CameraSource",
    "ContinuousScanner",
    "Detection",
    "FolderSource",
    "Frame",
    "GuidanceChange",
    "Source",
    "VideoSource",
    "analyze",
    "open_source",
]

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".pgm", ".ppm"}
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a stream."""

    image: Image
    index: int
    timestamp: float
    """Seconds since the stream started (camera: wall clock; files: frame time)."""


class Source(Protocol):
    """Anything that yields frames."""

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class _Capture:
    """Shared part of camera and video sources (both are OpenCV captures)."""

    def __init__(self, capture: cv2.VideoCapture, what: str, max_frames: int | None) -> None:
        if not capture.isOpened():
            raise OSError(f"cannot open {what}")
        self._capture = capture
        self.max_frames = max_frames

    def _timestamp(self, index: int, started: float) -> float:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Frame]:
        started = time.monotonic()
        index = 0
        while self.max_frames is None or index < self.max_frames:
            ok, image = self._capture.read()
            if not ok or image is None:
                return
            yield Frame(as_u8(image), index, self._timestamp(index, started))
            index += 1

    def close(self) -> None:
        """Release the device or file."""
        self._capture.release()


class CameraSource(_Capture):
    """An OpenCV camera device (``/dev/videoN`` on Linux), 640x480 by default."""

    def __init__(
        self, device: int, *, width: int = 640, height: int = 480, max_frames: int | None = None
    ) -> None:
        capture = cv2.VideoCapture(device)
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        super().__init__(capture, f"camera {device}", max_frames)

    def _timestamp(self, index: int, started: float) -> float:
        return time.monotonic() - started


class VideoSource(_Capture):
    """A video file; frame times come from the file's frame rate."""

    def __init__(self, path: Path, *, max_frames: int | None = None) -> None:
        super().__init__(cv2.VideoCapture(str(path)), f"video {path}", max_frames)
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        self.fps = fps if fps > 0 else 30.0

    def _timestamp(self, index: int, started: float) -> float:
        return index / self.fps


class FolderSource:
    """The images of a folder in name order, as frames ``1/fps`` seconds apart."""

    def __init__(self, folder: Path, *, fps: float = 10.0) -> None:
        if not folder.is_dir():
            raise OSError(f"{folder} is not a folder")
        self.paths = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        self.fps = fps

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            yield Frame(load_image(path), index, index / self.fps)

    def close(self) -> None:
        """Nothing to release."""


def open_source(
    *,
    camera: int | None = None,
    video: Path | None = None,
    folder: Path | None = None,
    max_frames: int | None = None,
) -> Source:
    """Exactly one of ``camera``, ``video`` or ``folder``, as a :class:`Source`."""
    given = [x is not None for x in (camera, video, folder)]
    if sum(given) != 1:
        raise ValueError("give exactly one of camera, video, folder")
    if camera is not None:
        return CameraSource(camera, max_frames=max_frames)
    if video is not None:
        return VideoSource(video, max_frames=max_frames)
    assert folder is not None
    return FolderSource(folder)


@dataclass(frozen=True, slots=True)
class Analysis:
    """The live analysis of one frame: a decode attempt and the quality report."""

    scan: ScanResult
    quality: FrameQuality
    ms: float


def analyze(
    scanner: Scanner, image: Image, previous: Image | None = None, *, budget_ms: float | None = None
) -> Analysis:
    """Decode (live budget) and assess one frame: what the stream does per frame."""
    started = time.perf_counter()
    result = scanner.scan(image, live=True, budget_ms=budget_ms)
    quality = assess(image, result, previous=previous)
    return Analysis(result, quality, (time.perf_counter() - started) * 1000.0)


@dataclass(frozen=True, slots=True)
class Detection:
    """A confirmed code."""

    kind: Literal["detected"]
    symbol: Symbol
    frame: int
    timestamp: float
    confirmed_by: Literal["validated", "agreement"]
    """``validated``: one frame whose text is a valid payment code;
    ``agreement``: the same text in two frames within the window."""


@dataclass(frozen=True, slots=True)
class GuidanceChange:
    """Nothing reads, and what to fix has changed."""

    kind: Literal["guidance"]
    guidance: tuple[Guidance, ...]
    quality: FrameQuality
    frame: int
    timestamp: float


@dataclass(slots=True)
class _Seen:
    first: float
    last: float
    count: int
    reported: bool = False


@dataclass(slots=True)
class ContinuousScanner:
    """Detects presented codes in a stream by itself; see the module docstring.

    ``window``: seconds within which two sightings agree; ``cooldown``: seconds
    a reported code must be out of view before it is reported again.
    """

    scanner: Scanner = field(default_factory=Scanner)
    window: float = 1.0
    cooldown: float = 3.0
    confirm_frames: int = 2
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _previous: Image | None = None
    _last_guidance: tuple[Guidance, ...] | None = None

    def process(
        self, image: Image, index: int, timestamp: float
    ) -> tuple[Analysis, list[Detection | GuidanceChange]]:
        """Analyse one frame; returns the analysis and any events it triggers."""
        analysis = analyze(self.scanner, image, self._previous)
        self._previous = image
        events: list[Detection | GuidanceChange] = []
        self._forget(timestamp)
        for symbol in analysis.scan.symbols:
            seen = self._seen.get(symbol.text)
            if seen is None or (timestamp - seen.last > self.window and not seen.reported):
                seen = self._seen[symbol.text] = _Seen(timestamp, timestamp, 0)
            seen.count += 1
            seen.last = timestamp
            if seen.reported:
                continue
            if symbol.is_payment_code:
                confirmed_by: Literal["validated", "agreement"] | None = "validated"
            elif seen.count >= self.confirm_frames:
                confirmed_by = "agreement"
            else:
                confirmed_by = None
            if confirmed_by is not None:
                seen.reported = True
                events.append(Detection("detected", symbol, index, timestamp, confirmed_by))
        if analysis.scan.symbols:
            self._last_guidance = None
        else:
            guidance = analysis.quality.guidance
            if guidance != self._last_guidance:
                self._last_guidance = guidance
                events.append(
                    GuidanceChange("guidance", guidance, analysis.quality, index, timestamp)
                )
        return analysis, events

    def _forget(self, now: float) -> None:
        # Reported codes are remembered until out of view for the cool-down;
        # unconfirmed sightings only for the agreement window.
        for text in [
            t
            for t, s in self._seen.items()
            if now - s.last > (self.cooldown if s.reported else self.window)
        ]:
            del self._seen[text]

    def run(self, source: Source) -> Iterator[Detection | GuidanceChange]:
        """Every event of a whole stream."""
        for frame in source:
            _, events = self.process(frame.image, frame.index, frame.timestamp)
            yield from events
