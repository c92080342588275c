"""Thin adapters over the decoders scanpay stands on: zxing-cpp and OpenCV.

Each adapter returns :class:`~scanpay.vision.symbols.Symbol` objects whose
corners are mapped back into the coordinates of the image the caller scanned,
so a strategy may decode a resized, warped or filtered copy and still report
where the code is in the original.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from scanpay.vision._images import Image
from scanpay.vision.symbols import Point, Quad, Symbol

__all__ = [
    "CODE128",
    "FORMAT_CHOICES",
    "QR",
    "Homography",
    "OpenCVQR",
    "WeChat",
    "Zxing",
    "ZxingPass",
    "formats_for",
    "map_quad",
    "scale_homography",
]

Homography = npt.NDArray[np.float64]
"""3x3 matrix mapping a processed image's pixels back to the original image's."""

_BF = zxingcpp.BarcodeFormat
QR: tuple[zxingcpp.BarcodeFormat, ...] = (_BF.QRCode,)
"""The QR family (Model 1, Model 2, Micro QR, rMQR). Narrowing it to Model 1/2
would skip a few false Micro QR candidates, but zxing-cpp 3.1 then fails every
``is_pure`` read (the flat images :mod:`~scanpay.vision._rectify` draws)."""
CODE128: tuple[zxingcpp.BarcodeFormat, ...] = (_BF.Code128,)
"""Wallet payment codes are shown as Code 128 next to the QR code."""
FORMAT_CHOICES: dict[str, tuple[zxingcpp.BarcodeFormat, ...]] = {"qr": QR, "code128": CODE128}


def formats_for(names: Sequence[str]) -> tuple[zxingcpp.BarcodeFormat, ...]:
    """zxing-cpp formats for user-facing names (``qr``, ``code128``)."""
    out: list[zxingcpp.BarcodeFormat] = []
    for name in names:
        try:
            out.extend(FORMAT_CHOICES[name.lower()])
        except KeyError:
            choices = sorted(FORMAT_CHOICES)
            raise ValueError(f"unknown format {name!r}; choose from {choices}") from None
    return tuple(dict.fromkeys(out))


def scale_homography(factor_x: float, factor_y: float | None = None) -> Homography:
    """The homography undoing a resize by ``factor`` (processed = original * factor)."""
    fy = factor_x if factor_y is None else factor_y
    return np.array([[1.0 / factor_x, 0, 0], [0, 1.0 / fy, 0], [0, 0, 1]], dtype=np.float64)


def map_quad(points: Sequence[Point], homography: Homography | None) -> Quad:
    """Apply ``homography`` to four points (identity when None)."""
    if homography is None:
        p = [(float(x), float(y)) for x, y in points]
        return (p[0], p[1], p[2], p[3])
    src = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    dst = cv2.perspectiveTransform(src, homography).reshape(-1, 2)
    q = [(float(x), float(y)) for x, y in dst]
    return (q[0], q[1], q[2], q[3])


def _position_quad(position: zxingcpp.Position) -> list[Point]:
    return [
        (float(position.top_left.x), float(position.top_left.y)),
        (float(position.top_right.x), float(position.top_right.y)),
        (float(position.bottom_right.x), float(position.bottom_right.y)),
        (float(position.bottom_left.x), float(position.bottom_left.y)),
    ]


def _format_name(barcode: zxingcpp.Barcode) -> str:
    if barcode.symbology_identifier == "]Q0":
        return "QR Code Model 1"
    return str(barcode.format)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _float_or_none(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class ZxingPass:
    """What one zxing-cpp call found: symbols it read, and where it saw codes it could not."""

    symbols: list[Symbol]
    hints: list[tuple[Quad, int | None]]
    """Quads of located but undecodable QR codes, with the version when zxing-cpp read it."""


class Zxing:
    """zxing-cpp with scanpay's options.

    ``TextMode.Plain`` rather than the default HRI: HRI rewrites GS1 payloads
    to ``(01)...`` and escapes control characters, but a payment code must
    reach ``scanpay.codes`` byte for byte.
    """

    def __init__(self, formats: tuple[zxingcpp.BarcodeFormat, ...]) -> None:
        self.formats = formats
        # Built once: constructing the format set costs as much as decoding a
        # small image does.
        self._sets: dict[tuple[zxingcpp.BarcodeFormat, ...], zxingcpp.BarcodeFormats] = {}

    def _set(self, formats: tuple[zxingcpp.BarcodeFormat, ...]) -> zxingcpp.BarcodeFormats:
        found = self._sets.get(formats)
        if found is None:
            found = self._sets[formats] = zxingcpp.BarcodeFormats(list(formats))
        return found

    def read(
        self,
        image: Image,
        strategy: str,
        *,
        homography: Homography | None = None,
        binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
        try_rotate: bool = True,
        try_invert: bool = True,
        try_downscale: bool = True,
        is_pure: bool = False,
        formats: tuple[zxingcpp.BarcodeFormat, ...] | None = None,
    ) -> ZxingPass:
        """Decode ``image``; corners are mapped through ``homography`` into the original."""
        barcodes = zxingcpp.read_barcodes(
            image,
            formats=self._set(formats or self.formats),
            try_rotate=try_rotate,
            try_invert=try_invert,
            try_downscale=try_downscale,
            text_mode=zxingcpp.TextMode.Plain,
            binarizer=binarizer,
            is_pure=is_pure,
            return_errors=True,
        )
        symbols: list[Symbol] = []
        hints: list[tuple[Quad, int | None]] = []
        for barcode in barcodes:
            quad = map_quad(_position_quad(barcode.position), homography)
            extra = barcode.extra if isinstance(barcode.extra, dict) else {}
            version = _int_or_none(extra.get("Version"))
            if not barcode.valid:
                # zxing-cpp also reports Micro QR candidates inside a big QR
                # (version "M3"); those are not hints about a QR code.
                if str(barcode.format).startswith("QR"):
                    hints.append((quad, version))
                continue
            symbols.append(
                Symbol(
                    text=barcode.text,
                    raw=bytes(barcode.bytes),
                    format=_format_name(barcode),
                    points=quad,
                    strategy=strategy,
                    version=version,
                    ec_level=barcode.ec_level or None,
                    symbology_id=barcode.symbology_identifier or None,
                    unused_ec=_float_or_none(extra.get("UEC")),
                )
            )
        return ZxingPass(symbols, hints)


def _opencv_symbols(
    texts: Sequence[str | bytes],
    quads: Sequence[object] | None,
    strategy: str,
    homography: Homography | None,
) -> list[Symbol]:
    out: list[Symbol] = []
    if quads is None:
        return out
    for payload, corners in zip(texts, quads, strict=False):
        if not payload:
            continue
        if isinstance(payload, bytes):
            raw = payload
            text = payload.decode("utf-8", errors="replace")
        else:
            raw = payload.encode("utf-8")
            text = payload
        points = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
        if points.shape[0] != 4:
            continue
        out.append(
            Symbol(
                text=text,
                raw=raw,
                format="QR Code",
                points=map_quad([(float(x), float(y)) for x, y in points], homography),
                strategy=strategy,
                symbology_id="]Q1",
            )
        )
    return out


class WeChat:
    """OpenCV's WeChat QR detector, built on first use.

    Without model files it finds codes with its own finder-pattern search;
    with the CNN models (``detect``/``sr`` ONNX or Caffe files in ``models``)
    it adds a learnt detector and super-resolution.
    """

    def __init__(self, models: Path | None = None) -> None:
        self.models = models
        self._detector: cv2.wechat_qrcode.WeChatQRCode | None = None
        self._lock = threading.Lock()

    def _get(self) -> cv2.wechat_qrcode.WeChatQRCode:
        if self._detector is None:
            self._detector = _make_wechat(self.models)
        return self._detector

    def read(
        self, image: Image, strategy: str, homography: Homography | None = None
    ) -> list[Symbol]:
        """Decode every QR code OpenCV's WeChat detector finds in ``image``."""
        with self._lock:  # the detector keeps per-call state; one call at a time
            try:
                texts, quads = self._get().detectAndDecode(image)
            except UnicodeDecodeError:
                # The Python binding decodes the payload as UTF-8 and raises
                # on anything else (e.g. Shift-JIS): treat as not read.
                return []
            except cv2.error:
                return []
        return _opencv_symbols(list(texts), list(quads), strategy, homography)


def _make_wechat(models: Path | None) -> cv2.wechat_qrcode.WeChatQRCode:
    if models is None:
        return cv2.wechat_qrcode.WeChatQRCode()
    onnx = (models / "detect.onnx", models / "sr.onnx")
    if all(p.is_file() for p in onnx):
        # OpenCV 5 dropped the Caffe importer: it takes the ONNX conversion.
        return cv2.wechat_qrcode.WeChatQRCode(str(onnx[0]), str(onnx[1]))
    raise FileNotFoundError(f"{models} has no detect.onnx and sr.onnx")


class OpenCVQR:
    """OpenCV's classic ``QRCodeDetector`` (or the ArUco-based one)."""

    def __init__(self, aruco: bool = False) -> None:
        self.aruco = aruco
        self._detector: cv2.QRCodeDetector | cv2.QRCodeDetectorAruco | None = None
        self._lock = threading.Lock()

    def read(
        self, image: Image, strategy: str, homography: Homography | None = None
    ) -> list[Symbol]:
        """Decode the QR codes OpenCV finds (payload bytes kept exactly)."""
        with self._lock:
            if self._detector is None:
                self._detector = cv2.QRCodeDetectorAruco() if self.aruco else cv2.QRCodeDetector()
            try:
                payload, points, _ = self._detector.detectAndDecodeBytes(image)
            except cv2.error:  # asserts inside its clustering on odd inputs
                return []
        if not payload or points is None:
            return []
        return _opencv_symbols([bytes(payload)], [points], strategy, homography)

    def detect(self, image: Image) -> list[Quad]:
        """Corners of the QR codes OpenCV locates, without decoding."""
        with self._lock:
            if self._detector is None:
                self._detector = cv2.QRCodeDetectorAruco() if self.aruco else cv2.QRCodeDetector()
            try:
                found, points = self._detector.detectMulti(image)
            except cv2.error:
                return []
        if not found or points is None:
            return []
        quads: list[Quad] = []
        for corners in np.asarray(points, dtype=np.float64).reshape(-1, 4, 2):
            quads.append(map_quad([(float(x), float(y)) for x, y in corners], None))
        return quads
