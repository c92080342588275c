"""``scanpay bench decode``: scanpay against zxing-cpp, ZBar and OpenCV on one dataset.

Protocol (all in one run, so the machine's load hits every decoder alike):

* every image is loaded once (alpha composited on white) and handed to each
  decoder as the same array; decoding alone is timed;
* per image, each decoder runs ``repeat`` times back to back (in an order
  shuffled per image); an image's time is the best of its repeats (as timeit
  takes it: machine noise only ever adds time); the first run decides
  correctness; OpenCV is limited to one thread, so every decoder runs on one
  core; the table's median and p90 are over images;
* a decoder reads an entry when one of its texts equals the expected text
  exactly; a structured-append entry is read when the first text of each
  part, joined in the manifest's sequence order, equals the message (the same
  rule for every decoder);
* baselines as a user would call them: zxing-cpp ``read_barcodes`` with its
  defaults, QR formats and ``TextMode.Plain`` (what scanpay asks of it: the
  default HRI mode rewrites GS1 payloads); ZBar through pyzbar, QR only, on
  the grey image; OpenCV's ``QRCodeDetector.detectAndDecode``.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp

from scanpay.vision._images import Image, to_gray
from scanpay.vision.bench.dataset import Dataset, Entry
from scanpay.vision.scan import Scanner

__all__ = ["BASELINES", "DecodeReport", "Row", "baseline_decoders", "run_decode_bench"]

Decoder = Callable[[Image], list[str]]

BASELINES = ("zxing", "zbar", "opencv")
SCANPAY = "scanpay"
UNION = "union"


_QR_FAMILY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _zxing(image: Image) -> list[str]:
    found = zxingcpp.read_barcodes(image, formats=_QR_FAMILY, text_mode=zxingcpp.TextMode.Plain)
    return [barcode.text for barcode in found]


def _make_zbar() -> Decoder | None:
    try:
        from pyzbar import pyzbar  # type: ignore[import-untyped]
    except ImportError:  # a dev dependency; the column shows n/a without it
        return None
    from ctypes import c_char_p, c_void_p, cast, string_at

    z = pyzbar

    def zbar(image: Image) -> list[str]:
        # pyzbar.decode() itself raises on symbols whose orientation ZBar
        # reports as unknown (a pyzbar 0.1.9 bug) and so loses ZBar's reads;
        # this is the same sequence of libzbar calls without that step.
        gray = np.ascontiguousarray(to_gray(image))
        height, width = gray.shape
        pixels = gray.tobytes()
        texts: list[str] = []
        with z._image_scanner() as scanner:
            for symbol in z.ZBarSymbol:
                enable = 1 if symbol == z.ZBarSymbol.QRCODE else 0
                z.zbar_image_scanner_set_config(scanner, symbol, z.ZBarConfig.CFG_ENABLE, enable)
            with z._image() as img:
                z.zbar_image_set_format(img, z._FOURCC["L800"])
                z.zbar_image_set_size(img, width, height)
                z.zbar_image_set_data(img, cast(c_char_p(pixels), c_void_p), len(pixels), None)
                if z.zbar_scan_image(scanner, img) < 0:
                    return []
                for found in z._symbols_for_image(img):
                    data = string_at(
                        z.zbar_symbol_get_data(found), z.zbar_symbol_get_data_length(found)
                    )
                    texts.append(data.decode("utf-8", errors="replace"))
        return texts

    return zbar


def _make_opencv() -> Decoder:
    detector = cv2.QRCodeDetector()

    def opencv(image: Image) -> list[str]:
        try:
            text, _, _ = detector.detectAndDecode(image)
        except (UnicodeDecodeError, cv2.error):
            return []
        return [text] if text else []

    return opencv


def _make_wechat(models: Path | None) -> Decoder:
    from scanpay.vision._decoders import WeChat

    wechat = WeChat(models)
    return lambda image: [symbol.text for symbol in wechat.read(image, "wechat")]


def baseline_decoders(
    *, wechat_models: Path | None = None, extra: bool = False
) -> dict[str, Decoder | None]:
    """The comparison decoders by name (None when not installed)."""
    decoders: dict[str, Decoder | None] = {
        "zxing": _zxing,
        "zbar": _make_zbar(),
        "opencv": _make_opencv(),
    }
    if extra:
        decoders["wechat"] = _make_wechat(None)
        if wechat_models is not None:
            decoders["wechat_models"] = _make_wechat(wechat_models)
    return decoders


@dataclass(frozen=True, slots=True)
class Outcome:
    read: bool
    ms: float


@dataclass(slots=True)
class Row:
    """One category (or ``overall``/``ascii``) of the report."""

    name: str
    entries: int
    read: dict[str, int] = field(default_factory=dict)
    median_ms: dict[str, float] = field(default_factory=dict)
    p90_ms: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class DecodeReport:
    """Counts, times and the fast-path time ratio of one benchmark run."""

    dataset: str
    decoders: list[str]
    rows: list[Row]
    repeat: int
    zxing_read_count: int
    """Entries zxing-cpp reads (the images "zxing-cpp reads at once")."""
    scanpay_median_ms_on_zxing_read: float
    zxing_median_ms_on_zxing_read: float
    per_entry: list[dict[str, Any]]
    versions: dict[str, str]

    @property
    def time_ratio(self) -> float:
        """scanpay's median time over zxing-cpp's, on images zxing-cpp reads."""
        if self.zxing_median_ms_on_zxing_read <= 0:
            return float("nan")
        return self.scanpay_median_ms_on_zxing_read / self.zxing_median_ms_on_zxing_read

    def row(self, name: str) -> Row:
        """The row called ``name``."""
        return next(row for row in self.rows if row.name == name)

    def criteria(self) -> dict[str, bool]:
        """The issue's acceptance checks, evaluated on this run."""
        categories = [r for r in self.rows if r.name not in {"overall", "ascii"}]
        overall = self.row("overall")
        return {
            "at_least_union_in_every_category": all(
                r.read[SCANPAY] >= r.read[UNION] for r in categories
            ),
            "more_than_zxing_overall": overall.read[SCANPAY] > overall.read["zxing"],
            "time_within_1.3x_of_zxing": self.time_ratio <= 1.3,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready data."""
        return {
            "dataset": self.dataset,
            "decoders": self.decoders,
            "repeat": self.repeat,
            "rows": [
                {
                    "name": r.name,
                    "entries": r.entries,
                    "read": r.read,
                    "median_ms": {k: round(v, 3) for k, v in r.median_ms.items()},
                    "p90_ms": {k: round(v, 3) for k, v in r.p90_ms.items()},
                }
                for r in self.rows
            ],
            "fast_path": {
                "images": self.zxing_read_count,
                "scanpay_median_ms": round(self.scanpay_median_ms_on_zxing_read, 4),
                "zxing_median_ms": round(self.zxing_median_ms_on_zxing_read, 4),
                "ratio": round(self.time_ratio, 3),
            },
            "criteria": self.criteria(),
            "versions": self.versions,
            "entries": self.per_entry,
        }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {"opencv": cv2.__version__}
    for package in ("zxing-cpp", "pyzbar", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "absent"
    return out


def _run_entry(decoder: Decoder, images: list[Image], entry: Entry) -> tuple[bool, float]:
    started = time.perf_counter()
    outputs = [decoder(image) for image in images]
    elapsed = (time.perf_counter() - started) * 1000.0
    if len(images) == 1:
        return entry.matches(outputs[0]), elapsed
    joined = "".join(texts[0] if texts else "" for texts in outputs)
    return entry.matches([joined]), elapsed


def _p90(values: list[float]) -> float:
    return float(np.percentile(values, 90)) if values else float("nan")


def run_decode_bench(
    dataset: Dataset,
    *,
    scanner: Scanner | None = None,
    repeat: int = 5,
    extra: bool = False,
    wechat_models: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DecodeReport:
    """Decode every entry of ``dataset`` with scanpay and the baselines; see the module doc."""
    scanner = scanner or Scanner()
    # One thread for every decoder: zxing-cpp and ZBar are single-threaded,
    # and OpenCV's pool would otherwise spin on the second core.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _run(dataset, scanner, repeat, extra, wechat_models, progress)
    finally:
        cv2.setNumThreads(threads)


def _run(
    dataset: Dataset,
    scanner: Scanner,
    repeat: int,
    extra: bool,
    wechat_models: Path | None,
    progress: Callable[[int, int], None] | None,
) -> DecodeReport:

    def scanpay(image: Image) -> list[str]:
        return scanner.scan(image).texts

    decoders: dict[str, Decoder | None] = {SCANPAY: scanpay}
    decoders.update(baseline_decoders(wechat_models=wechat_models, extra=extra))
    active = {name: fn for name, fn in decoders.items() if fn is not None}
    loaded = [(entry, entry.images()) for entry in dataset.entries]
    if loaded:  # warm-up: first calls build detectors and fault pages in
        for fn in active.values():
            fn(loaded[0][1][0])

    outcomes: dict[str, list[Outcome]] = {name: [] for name in active}
    shuffler = random.Random(0)
    for index, (entry, images) in enumerate(loaded):
        times: dict[str, list[float]] = {name: [] for name in active}
        first: dict[str, bool] = {}
        # Each decoder runs its repeats back to back, so the image is warm in
        # cache for all but the first run; the order of the decoders is
        # shuffled per image (seeded), so nobody always runs right after
        # OpenCV has flushed the caches.
        order = list(active.items())
        shuffler.shuffle(order)
        for name, fn in order:
            for attempt in range(max(1, repeat)):
                ok, ms = _run_entry(fn, images, entry)
                if attempt == 0:
                    first[name] = ok
                times[name].append(ms)
        for name in active:
            # Best of the repeats, as timeit does: machine noise only adds time.
            outcomes[name].append(Outcome(first[name], min(times[name])))
        if progress is not None:
            progress(index + 1, len(loaded))

    names = list(active)
    union_of = [name for name in BASELINES if name in active]

    def make_row(label: str, indices: list[int]) -> Row:
        row = Row(label, len(indices))
        for name in names:
            row.read[name] = sum(outcomes[name][i].read for i in indices)
            ms = [outcomes[name][i].ms for i in indices]
            row.median_ms[name] = statistics.median(ms) if ms else float("nan")
            row.p90_ms[name] = _p90(ms)
        row.read[UNION] = sum(any(outcomes[name][i].read for name in union_of) for i in indices)
        return row

    entries = [entry for entry, _ in loaded]
    rows = [
        make_row(category, [i for i, e in enumerate(entries) if e.category == category])
        for category in dataset.categories
    ]
    rows.append(make_row("overall", list(range(len(entries)))))
    rows.append(make_row("ascii", [i for i, e in enumerate(entries) if e.is_ascii]))

    zx_read = [i for i in range(len(entries)) if outcomes["zxing"][i].read]
    per_entry = [
        {
            "name": entry.name,
            "category": entry.category,
            **{
                name: {"read": outcomes[name][i].read, "ms": round(outcomes[name][i].ms, 3)}
                for name in names
            },
        }
        for i, entry in enumerate(entries)
    ]
    return DecodeReport(
        dataset=dataset.name,
        decoders=names,
        rows=rows,
        repeat=repeat,
        zxing_read_count=len(zx_read),
        scanpay_median_ms_on_zxing_read=statistics.median(
            [outcomes[SCANPAY][i].ms for i in zx_read]
        )
        if zx_read
        else float("nan"),
        zxing_median_ms_on_zxing_read=statistics.median([outcomes["zxing"][i].ms for i in zx_read])
        if zx_read
        else float("nan"),
        per_entry=per_entry,
        versions=_versions(),
    )
