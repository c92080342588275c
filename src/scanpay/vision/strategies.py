"""The fallback pipeline: what scanpay tries when zxing-cpp alone reads nothing.

Every strategy is general image processing (or another decoder) followed by a
decode; none knows anything about particular images. :data:`CANDIDATES` holds
every strategy scanpay can run. :data:`STILL_ORDER` and :data:`LIVE_ORDER`
are the ones that paid for themselves when measured (``scanpay bench
strategies``, see docs/vision.md), in the order of measured gain per
millisecond; the others stay available for measuring again on new data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import zxingcpp

from scanpay.vision._decoders import (
    Homography,
    OpenCVQR,
    WeChat,
    Zxing,
    scale_homography,
)
from scanpay.vision._images import Image, as_u8, to_gray
from scanpay.vision._rectify import (
    estimate_version,
    modules_for_version,
    resample_curved,
    warp_square,
)
from scanpay.vision.symbols import Quad, Symbol

__all__ = [
    "CANDIDATES",
    "LIVE_ORDER",
    "STILL_ORDER",
    "STILL_ORDER_WITH_MODELS",
    "Strategy",
    "StrategyFn",
    "Toolkit",
    "Workspace",
    "strategy",
]


@dataclass(slots=True)
class Toolkit:
    """The decoders one scanner owns (OpenCV's detectors are built on first use)."""

    zxing: Zxing
    wechat: WeChat = field(default_factory=WeChat)
    wechat_models: WeChat | None = None
    opencv: OpenCVQR = field(default_factory=OpenCVQR)
    aruco: OpenCVQR = field(default_factory=lambda: OpenCVQR(aruco=True))


class Workspace:
    """One image being scanned, with the derived images strategies share (so two
    strategies that both need, say, the grey image compute it once)."""

    __slots__ = ("_cache", "_gray", "hints", "image", "tools")

    def __init__(self, image: Image, tools: Toolkit) -> None:
        self.image = image
        self.tools = tools
        self.hints: list[tuple[Quad, int | None]] = []
        """Codes located but not read by earlier passes (corners, QR version)."""
        self._gray: Image | None = None
        self._cache: dict[str, Image] = {}

    @property
    def gray(self) -> Image:
        """The grey image, converted on first use (the fast path does not need it)."""
        if self._gray is None:
            self._gray = to_gray(self.image)
        return self._gray

    def derived(self, key: str, make: Callable[[Image], Image]) -> Image:
        """``make(gray)``, computed once per frame."""
        image = self._cache.get(key)
        if image is None:
            image = make(self.gray)
            self._cache[key] = image
        return image

    def zxing(
        self,
        image: Image,
        name: str,
        homography: Homography | None = None,
        **options: object,
    ) -> list[Symbol]:
        """Decode ``image`` with zxing-cpp, collecting located-but-unread codes as hints."""
        found = self.tools.zxing.read(image, name, homography=homography, **options)  # type: ignore[arg-type]
        self.hints.extend(found.hints)
        return found.symbols


StrategyFn = Callable[[Workspace, str], list[Symbol]]


@dataclass(frozen=True, slots=True)
class Strategy:
    """One fallback: a name, what it is for, and the function that runs it."""

    name: str
    purpose: str
    run: StrategyFn

    def __call__(self, frame: Workspace) -> list[Symbol]:
        return self.run(frame, self.name)


CANDIDATES: dict[str, Strategy] = {}


def strategy(name: str, purpose: str) -> Callable[[StrategyFn], StrategyFn]:
    """Register a candidate strategy under ``name``."""

    def register(fn: StrategyFn) -> StrategyFn:
        CANDIDATES[name] = Strategy(name, purpose, fn)
        return fn

    return register


# --- image operations -----------------------------------------------------


def _lut(gamma: float) -> Image:
    return as_u8(np.clip(np.linspace(0.0, 1.0, 256) ** gamma * 255.0 + 0.5, 0, 255))


_BRIGHTEN = _lut(0.5)
_DARKEN = _lut(2.0)


def _gamma(gray: Image, table: Image) -> Image:
    return as_u8(cv2.LUT(gray, table))


def _clahe(gray: Image) -> Image:
    return as_u8(cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray))


def _stretch(gray: Image) -> Image:
    low, high = np.percentile(gray, (1.0, 99.0))
    if high - low < 1.0:
        return gray
    scaled = (gray.astype(np.float32) - float(low)) * (255.0 / float(high - low))
    return as_u8(np.clip(scaled, 0, 255))


def _flatten(gray: Image) -> Image:
    """Divide out the illumination (lighting gradients, soft glare)."""
    sigma = max(gray.shape) / 8.0
    background = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), sigma) + 1.0
    ratio = gray.astype(np.float32) / background
    low, high = float(ratio.min()), float(ratio.max())
    return as_u8((ratio - low) * (255.0 / max(high - low, 1e-6)))


def _deglare(gray: Image) -> Image:
    """Fill saturated highlights from their surroundings (``gray`` itself when there are none)."""
    mask = as_u8(np.where(gray >= 250, 255, 0))
    share = float(np.count_nonzero(mask)) / mask.size
    if share < 0.002 or share > 0.4:
        return gray
    mask = as_u8(cv2.dilate(mask, np.ones((3, 3), np.uint8)))
    return as_u8(cv2.inpaint(gray, mask, 3, cv2.INPAINT_TELEA))


def _blur(sigma: float) -> Callable[[Image], Image]:
    return lambda gray: as_u8(cv2.GaussianBlur(gray, (0, 0), sigma))


def _sharpen(sigma: float, amount: float) -> Callable[[Image], Image]:
    def run(gray: Image) -> Image:
        soft = cv2.GaussianBlur(gray, (0, 0), sigma)
        return as_u8(cv2.addWeighted(gray, 1.0 + amount, soft, -amount, 0))

    return run


def _resize(factor: float) -> Callable[[Image], Image]:
    interpolation = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return lambda gray: as_u8(
        cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interpolation)
    )


def _otsu(gray: Image) -> Image:
    soft = cv2.GaussianBlur(gray, (3, 3), 0)
    return as_u8(cv2.threshold(soft, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1])


def _adaptive(gray: Image) -> Image:
    block = max(15, (min(gray.shape) // 4) | 1)
    return as_u8(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5)
    )


def _morph(op: int) -> Callable[[Image], Image]:
    kernel = np.ones((3, 3), np.uint8)
    return lambda gray: as_u8(cv2.morphologyEx(gray, op, kernel))


_MAX_UPSCALED_SIDE = 2400


def _zx_derived(
    key: str,
    make: Callable[[Image], Image],
    factor: float = 1.0,
    **options: object,
) -> StrategyFn:
    homography = scale_homography(factor) if factor != 1.0 else None

    def run(frame: Workspace, name: str) -> list[Symbol]:
        # Upscaling is for small codes; a phone photo upscaled would cost
        # seconds and hundreds of megabytes for nothing.
        if factor > 1.0 and max(frame.gray.shape) * factor > _MAX_UPSCALED_SIDE:
            return []
        return frame.zxing(frame.derived(key, make), name, homography, **options)

    return run


# --- candidates -----------------------------------------------------------

strategy("global_histogram", "zxing-cpp's global-histogram binariser: even light, fine detail")(
    lambda frame, name: frame.zxing(frame.gray, name, binarizer=zxingcpp.Binarizer.GlobalHistogram)
)
strategy("fixed_threshold", "contrast stretch, then a fixed mid-grey threshold")(
    _zx_derived("stretch", _stretch, binarizer=zxingcpp.Binarizer.FixedThreshold)
)
strategy("brighten", "gamma 0.5: lifts dark frames")(
    _zx_derived("brighten", lambda g: _gamma(g, _BRIGHTEN))
)
strategy("darken", "gamma 2: pulls washed-out and glary frames down")(
    _zx_derived("darken", lambda g: _gamma(g, _DARKEN))
)
strategy("clahe", "local contrast equalisation: uneven light")(_zx_derived("clahe", _clahe))
strategy("flatten", "divide out the illumination: gradients and soft glare")(
    _zx_derived("flatten", _flatten)
)
strategy("denoise", "Gaussian blur sigma 1: sensor noise, print dots, moire")(
    _zx_derived("blur1", _blur(1.0))
)
strategy("smooth", "Gaussian blur sigma 2: heavy noise and halftone")(
    _zx_derived("blur2", _blur(2.0))
)
strategy("median", "3x3 median: salt-and-pepper noise, speckles")(
    _zx_derived("median", lambda g: as_u8(cv2.medianBlur(g, 3)))
)
strategy("sharpen", "unsharp mask: mild focus and motion blur")(
    _zx_derived("sharpen", _sharpen(1.0, 1.0))
)
strategy("sharpen_strong", "strong unsharp mask: heavier blur")(
    _zx_derived("sharpen2", _sharpen(2.0, 2.0))
)
strategy("upscale2", "2x bicubic: small or far codes")(_zx_derived("up2", _resize(2.0), factor=2.0))
strategy("upscale3", "3x bicubic: very small codes")(_zx_derived("up3", _resize(3.0), factor=3.0))
strategy("downscale2", "half size: large noisy codes, print texture")(
    _zx_derived("down2", _resize(0.5), factor=0.5)
)
strategy("downscale3", "third size: very large or textured codes")(
    _zx_derived("down3", _resize(1 / 3), factor=1 / 3)
)
strategy("otsu", "global Otsu threshold after a light blur")(_zx_derived("otsu", _otsu))
strategy("adaptive", "adaptive mean threshold with a large window")(
    _zx_derived("adaptive", _adaptive)
)
strategy("close", "3x3 closing: broken or dotted dark modules")(
    _zx_derived("close", _morph(cv2.MORPH_CLOSE))
)
strategy("open", "3x3 opening: bleeding ink, light gaps filled in")(
    _zx_derived("open", _morph(cv2.MORPH_OPEN))
)


@strategy("deglare", "inpaint saturated highlights (glare on glossy paper or screens)")
def _run_deglare(frame: Workspace, name: str) -> list[Symbol]:
    image = frame.derived("deglare", _deglare)
    if image is frame.gray:
        return []
    return frame.zxing(image, name)


@strategy("channels", "each colour channel: coloured codes and backgrounds")
def _run_channels(frame: Workspace, name: str) -> list[Symbol]:
    if frame.image.ndim != 3:
        return []
    for channel in range(3):
        plane = np.ascontiguousarray(frame.image[:, :, channel])
        # A channel that is the grey image in all but name adds nothing.
        if float(np.mean(np.abs(plane.astype(np.int16) - frame.gray))) < 8.0:
            continue
        found = frame.zxing(plane, name)
        if found:
            return found
    return []


@strategy("wechat", "OpenCV's WeChat detector (no models): own finder search and binariser")
def _run_wechat(frame: Workspace, name: str) -> list[Symbol]:
    return frame.tools.wechat.read(frame.gray, name)


@strategy("wechat_models", "OpenCV's WeChat detector with its CNN detector and super-resolution")
def _run_wechat_models(frame: Workspace, name: str) -> list[Symbol]:
    if frame.tools.wechat_models is None:
        return []
    return frame.tools.wechat_models.read(frame.gray, name)


@strategy("opencv", "OpenCV's classic QRCodeDetector")
def _run_opencv(frame: Workspace, name: str) -> list[Symbol]:
    return frame.tools.opencv.read(frame.gray, name)


@strategy("aruco", "OpenCV's ArUco-based QR detector")
def _run_aruco(frame: Workspace, name: str) -> list[Symbol]:
    return frame.tools.aruco.read(frame.gray, name)


def _located(frame: Workspace) -> Iterator[tuple[Quad, int | None]]:
    """Located-but-unread codes: zxing-cpp's hints, else OpenCV's detector."""
    seen = list(dict.fromkeys(frame.hints))
    if not seen:
        seen = [(quad, None) for quad in frame.tools.opencv.detect(frame.gray)]
    yield from seen[:4]


@strategy("rectify", "undo perspective on a located code, then decode the upright square")
def _run_rectify(frame: Workspace, name: str) -> list[Symbol]:
    for quad, version in _located(frame):
        modules = modules_for_version(version) if version else 33
        px = max(3, min(8, 400 // modules))
        square, back = warp_square(frame.gray, quad, modules, px, 4)
        found = frame.tools.zxing.read(square, name, homography=back).symbols
        if found:
            return found
    return []


@strategy("sticker", "resample a located code on a curved or wrinkled surface")
def _run_sticker(frame: Workspace, name: str) -> list[Symbol]:
    for quad, version in _located(frame):
        v = version or estimate_version(frame.gray, quad)
        if not v:
            continue
        modules = modules_for_version(v)
        flat = resample_curved(frame.gray, quad, modules)
        if flat is None:
            continue
        found = frame.tools.zxing.read(flat, name, is_pure=True).symbols
        if found:
            # The flat image has its own coordinates; the code is where it was located.
            return [_with_points(symbol, quad) for symbol in found]
    return []


def _with_points(symbol: Symbol, quad: Quad) -> Symbol:
    return replace(symbol, points=quad)


# Orders measured by ``scanpay bench strategies`` (table in docs/vision.md):
# the greedy choice by new reads per millisecond on the 722 images of
# shared/datasets/qr-real (and degraded copies of it) that the fast path
# misses. Measured but not kept, because everything they read is read more
# cheaply by the ones above: flatten, open, close, global_histogram,
# downscale3, deglare, channels, opencv, aruco. (Two full runs kept the same
# set; neighbours with nearly equal reads per ms swap places between runs.)
STILL_ORDER: tuple[str, ...] = (
    "otsu",
    "sharpen_strong",
    "upscale2",
    "denoise",
    "adaptive",
    "upscale3",
    "downscale2",
    "clahe",
    "darken",
    "smooth",
    "fixed_threshold",
    "median",
    "sharpen",
    "brighten",
    "wechat",
    "rectify",
    "sticker",
)
# With ``--models`` (OpenCV's WeChat CNN detector + super-resolution) the same
# measurement puts ``wechat_models`` after ``sharpen`` (32 new reads at 78 ms
# mean) and leaves the model-free detector 5 reads of its own, last.
STILL_ORDER_WITH_MODELS: tuple[str, ...] = (
    *STILL_ORDER[: STILL_ORDER.index("wechat")],
    "wechat_models",
    *(name for name in STILL_ORDER[STILL_ORDER.index("wechat") + 1 :]),
    "wechat",
)
# ``--live``: 640x480 frames made from the dataset's codes that the fast path
# misses, strategies costing over 6 ms on average left out.
LIVE_ORDER: tuple[str, ...] = ("otsu", "sharpen", "global_histogram", "clahe", "sharpen_strong")
