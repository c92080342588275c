"""``scanpay bench guidance``: how often the guidance names the right cause.

Frames are made from real images: every single-image entry of the dataset
that scanpay reads gives its code and the code's corners; each is printed on
a label, placed in a 640x480 scene and degraded once per cause
(:func:`scanpay.vision.synth.labelled_frames`). A frame counts as right when
the first guidance code is its label (``OK``: no guidance at all); "named"
counts the label anywhere in the guidance.

The thresholds in :mod:`scanpay.vision.quality` were set on segno renderings,
never on these frames, so this is a held-out check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scanpay.vision._images import Image, to_gray
from scanpay.vision.bench.dataset import Dataset
from scanpay.vision.quality import assess
from scanpay.vision.scan import Scanner
from scanpay.vision.symbols import Quad
from scanpay.vision.synth import CAUSES, labelled_frames

__all__ = ["CauseRow", "GuidanceReport", "codes_from_dataset", "run_guidance_bench"]


def codes_from_dataset(
    dataset: Dataset, scanner: Scanner | None = None, limit: int | None = None
) -> list[tuple[Image, Quad]]:
    """Real code images with their corners: the dataset entries scanpay reads."""
    scanner = scanner or Scanner()
    out: list[tuple[Image, Quad]] = []
    for entry in dataset.entries:
        if len(entry.files) != 1:
            continue
        image = entry.images()[0]
        result = scanner.scan(image)
        hits = [s for s in result.symbols if entry.matches([s.text])]
        if hits:
            out.append((to_gray(image), hits[0].points))
        if limit is not None and len(out) >= limit:
            break
    return out


@dataclass(slots=True)
class CauseRow:
    """Results for one cause."""

    cause: str
    frames: int = 0
    primary: int = 0
    named: int = 0
    confusion: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "frames": self.frames,
            "primary_correct": self.primary,
            "named": self.named,
            "accuracy": round(self.primary / self.frames, 3) if self.frames else None,
            "confusion": dict(self.confusion.most_common()),
        }


@dataclass(slots=True)
class GuidanceReport:
    """Per-cause accuracy of :func:`scanpay.vision.quality.assess`."""

    codes: int
    rows: list[CauseRow]

    @property
    def total(self) -> CauseRow:
        """All causes together."""
        row = CauseRow("all")
        for r in self.rows:
            row.frames += r.frames
            row.primary += r.primary
            row.named += r.named
        return row

    def to_dict(self) -> dict[str, Any]:
        return {
            "codes": self.codes,
            "causes": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
        }


def run_guidance_bench(
    codes: list[tuple[Image, Quad]], *, scanner: Scanner | None = None, seed: int = 0
) -> GuidanceReport:
    """Make the labelled frames from ``codes`` and score the guidance on them."""
    scanner = scanner or Scanner()
    rows = {cause: CauseRow(cause) for cause in CAUSES}
    for item in labelled_frames(list(codes), seed=seed):
        result = scanner.scan(item.frame, live=True)
        quality = assess(item.frame, result)
        got = quality.primary.value if quality.primary else "OK"
        names = {g.value for g in quality.guidance} or {"OK"}
        row = rows[item.label]
        row.frames += 1
        row.primary += got == item.label
        row.named += item.label in names
        row.confusion[got] += 1
    return GuidanceReport(len(codes), list(rows.values()))
