"""What is wrong with a frame, in words a cashier can act on: :func:`assess`.

The report has the measurements (brightness, contrast, sharpness, glare, code
size and position, tilt) and, derived from them, guidance codes in priority
order, each with a message in zh-CN and en. The code is located by the best
evidence at hand: a decoded symbol, a code the decoders located but could not
read (``ScanResult.hints``), QR finder patterns, or else a patch of dense
edges; all measurements that are about the code are taken inside it.

The thresholds were set on synthetic codes (segno renderings degraded with
:mod:`scanpay.vision.synth`) and checked on frames made from the real images
of ``shared/datasets/qr-real`` (``scanpay bench guidance``; docs/vision.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanpay.i18n import Text
from scanpay.vision._images import Image, ImageSource, as_u8, load_image, to_gray
from scanpay.vision.symbols import Quad, ScanResult

__all__ = [
    "BLUR_MODULES",
    "BLUR_PIXELS",
    "BRIGHT_INK",
    "CLOSE_SHARE",
    "DARK_PAPER",
    "FAR_MODULE_PX",
    "FAR_SIDE_PX",
    "FLAT_SHARE",
    "GLARE_SHARE",
    "MESSAGES",
    "MOTION_ANISOTROPY",
    "SATURATED",
    "TILT_DEGREES",
    "FrameQuality",
    "Guidance",
    "assess",
]


class Guidance(StrEnum):
    """What the cashier (or customer) should change."""

    TOO_DARK = "TOO_DARK"
    TOO_BRIGHT = "TOO_BRIGHT"
    GLARE = "GLARE"
    BLURRY = "BLURRY"
    HOLD_STILL = "HOLD_STILL"
    TOO_FAR = "TOO_FAR"
    TOO_CLOSE = "TOO_CLOSE"
    TILTED = "TILTED"
    OBSTRUCTED = "OBSTRUCTED"
    DAMAGED = "DAMAGED"
    NO_CODE = "NO_CODE"

    @property
    def text(self) -> Text:
        """The message in zh-CN and en."""
        return MESSAGES[self]


MESSAGES: dict[Guidance, Text] = {
    Guidance.TOO_DARK: Text(
        "光线太暗，请开灯或调亮手机屏幕", "Too dark: add light or brighten the screen"
    ),
    Guidance.TOO_BRIGHT: Text("光线太强，请避开直射光", "Too bright: move out of direct light"),
    Guidance.GLARE: Text(
        "码上有反光，请稍微倾斜手机或码", "Glare on the code: tilt the phone or code a little"
    ),
    Guidance.BLURRY: Text(
        "图像模糊，请调整距离让镜头对焦", "Blurry: change the distance so the camera can focus"
    ),
    Guidance.HOLD_STILL: Text("请拿稳，不要晃动", "Hold still"),
    Guidance.TOO_FAR: Text("请把码靠近一些", "Bring the code closer"),
    Guidance.TOO_CLOSE: Text(
        "请离远一些，让整个码都在画面内", "Move back so the whole code is in view"
    ),
    Guidance.TILTED: Text("请把码正对镜头", "Hold the code flat, facing the camera"),
    Guidance.OBSTRUCTED: Text(
        "码被遮挡，请移开手指或遮挡物", "Something covers the code: move fingers away"
    ),
    Guidance.DAMAGED: Text(
        "码已损坏或污损，请换一个码或手动输入", "The code is damaged: use another one or type it in"
    ),
    Guidance.NO_CODE: Text("画面中没有码", "No code in view"),
}

# Thresholds (see the module docstring for how they were chosen).
DARK_PAPER = 75.0  # the light modules' grey level (95th percentile) below this: too dark
BRIGHT_INK = 120.0  # the dark modules' grey level (5th percentile) above this: washed out
SATURATED = 248  # a grey level at which a pixel is clipped
GLARE_SHARE = 0.04  # share of the code that is clipped white over several modules
BLUR_MODULES = 0.42  # edge spread (sigma) above this many modules: blurred
BLUR_PIXELS = 3.2  # ... or above this many pixels when the module size is unknown
MOTION_ANISOTROPY = 0.55  # gradient energy this lopsided: blur from movement
FAR_MODULE_PX = 1.7  # modules smaller than this many pixels: too far
FAR_SIDE_PX = 60.0  # ... or a code narrower than this (too small to judge anything else)
CLOSE_SHARE = 0.8  # code wider than this share of the frame's short side: too close
TILT_DEGREES = 50.0
FLAT_SHARE = 0.12  # a featureless patch this large over the code: something covers it


@dataclass(frozen=True, slots=True)
class FrameQuality:
    """Measurements of one frame and the guidance that follows from them."""

    width: int
    height: int
    brightness: float
    """Mean grey level of the code (or the frame when no code is found), 0..1."""
    contrast: float
    """Spread between dark and light modules (95th - 5th percentile), 0..1."""
    sharpness: float
    """Edge spread (Gaussian sigma) in pixels: about 0.6 when sharp, larger when blurred."""
    motion: float
    """Directional imbalance of the edges, 0 (none) .. 1 (all edges one way)."""
    glare: float
    """Share of the code clipped to white over more than a module."""
    code_found: bool
    located_by: str
    """``decoded``, ``decoder``, ``finders``, ``texture`` or ``none``."""
    quad: Quad | None
    code_px: float
    """Mean side of the code in pixels (0 when not found)."""
    code_share: float
    """The code's area as a share of the frame."""
    module_px: float | None
    """Estimated module size in pixels."""
    touches_edge: bool
    tilt: float
    """Estimated out-of-plane tilt, degrees."""
    finders: int
    """QR finder patterns seen inside the code."""
    flat_share: float
    """Largest featureless patch over the code, as a share of the code."""
    guidance: tuple[Guidance, ...] = field(default=())
    decoded: bool = False

    @property
    def ok(self) -> bool:
        """Nothing to fix."""
        return not self.guidance

    @property
    def primary(self) -> Guidance | None:
        """The most important guidance, if any."""
        return self.guidance[0] if self.guidance else None

    def messages(self, language: str = "en") -> list[str]:
        """The guidance as text in ``language``."""
        return [g.text.get(language) for g in self.guidance]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (numbers rounded)."""
        return {
            "brightness": round(self.brightness, 3),
            "contrast": round(self.contrast, 3),
            "sharpness": round(self.sharpness, 2),
            "motion": round(self.motion, 3),
            "glare": round(self.glare, 4),
            "code_found": self.code_found,
            "located_by": self.located_by,
            "code_px": round(self.code_px, 1),
            "code_share": round(self.code_share, 4),
            "module_px": None if self.module_px is None else round(self.module_px, 2),
            "touches_edge": self.touches_edge,
            "tilt": round(self.tilt, 1),
            "finders": self.finders,
            "flat_share": round(self.flat_share, 3),
            "decoded": self.decoded,
            "guidance": [{"code": g.value, "message": g.text.as_dict()} for g in self.guidance],
        }


# --- locating the code ------------------------------------------------------------

_Float = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class _Finder:
    center: tuple[float, float]
    side: float
    box: _Float  # 4x2 corners of its outer square


def _find_finders(gray: Image) -> list[_Finder]:
    """QR finder patterns: a dark square ring around a dark square (3 nested contours)."""
    block = 31 if min(gray.shape) >= 200 else 15
    binary = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 7
    )
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    tree = hierarchy[0]
    found: list[_Finder] = []
    for i, contour in enumerate(contours):
        child = int(tree[i][2])
        if child < 0:
            continue
        grandchild = int(tree[child][2])
        if grandchild < 0:
            continue
        outer = cv2.contourArea(contour)
        inner = cv2.contourArea(contours[grandchild])
        if outer < 30 or inner <= 0:
            continue
        ratio = outer / inner  # 49/9 for a perfect finder
        if not 2.5 < ratio < 14.0:
            continue
        rect = cv2.minAreaRect(contour)
        (w, h) = rect[1]
        if min(w, h) <= 0 or max(w, h) / min(w, h) > 2.5:
            continue
        if outer < 0.6 * w * h:  # not square-ish filled
            continue
        (cx, cy), _ = cv2.minEnclosingCircle(contours[grandchild])
        found.append(
            _Finder(
                (float(cx), float(cy)), math.sqrt(outer), np.asarray(cv2.boxPoints(rect), float)
            )
        )
    # Keep finders that have a similar-sized partner: lone nested squares are
    # usually data modules or print artwork.
    kept = []
    for f in found:
        partners = [
            g
            for g in found
            if g is not f
            and 0.5 < g.side / f.side < 2.0
            and 2.0 * f.side < math.dist(f.center, g.center) < 40.0 * f.side
        ]
        if partners:
            kept.append(f)
    return kept


def _texture_region(gray: Image) -> _Float | None:
    """The largest square-ish patch dense with edges (a code, however blurred)."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1)
    magnitude = cv2.magnitude(gx, gy)
    edges = (magnitude > 40.0).astype(np.float32)
    density = cv2.blur(edges, (9, 9))
    mask = as_u8(np.where(density > 0.18, 255, 0))
    mask = as_u8(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    best: _Float | None = None
    best_area = 0.0
    for label in range(1, count):
        area = float(stats[label, cv2.CC_STAT_AREA])
        if area < 60 or area <= best_area:
            continue
        points = np.column_stack(np.nonzero(labels == label)[::-1]).astype(np.float32)
        rect = cv2.minAreaRect(points)
        w, h = rect[1]
        if min(w, h) < 6 or max(w, h) / max(min(w, h), 1.0) > 3.0:
            continue
        if area < 0.45 * w * h:
            continue
        best_area = area
        # The density window widens the patch by about 4 px (8 at full size)
        # on each side; take that back so small codes measure their real size.
        (cx, cy), (w, h), angle = rect
        shrunk = ((cx, cy), (max(w - 8.0, 4.0), max(h - 8.0, 4.0)), angle)
        best = np.asarray(cv2.boxPoints(shrunk), dtype=np.float64) * 2.0
    return best


def _order(points: _Float) -> Quad:
    """Four points clockwise from the top-left."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]
    start = int(np.argmin(ordered.sum(axis=1)))
    ordered = np.roll(ordered, -start, axis=0)
    return (
        (float(ordered[0, 0]), float(ordered[0, 1])),
        (float(ordered[1, 0]), float(ordered[1, 1])),
        (float(ordered[2, 0]), float(ordered[2, 1])),
        (float(ordered[3, 0]), float(ordered[3, 1])),
    )


def _sides(quad: Quad) -> list[float]:
    return [math.dist(quad[i], quad[(i + 1) % 4]) for i in range(4)]


def _tilt(quad: Quad) -> float:
    """Out-of-plane tilt from how far the quad is from a square (weak perspective)."""
    top, right, bottom, left = _sides(quad)
    horizontal, vertical = (top + bottom) / 2.0, (left + right) / 2.0
    if min(horizontal, vertical) <= 0:
        return 0.0
    aspect = min(horizontal, vertical) / max(horizontal, vertical)
    taper = min(min(top, bottom) / max(top, bottom), min(left, right) / max(left, right))
    return math.degrees(math.acos(max(0.0, min(1.0, min(aspect, taper**0.5)))))


# --- measurements -----------------------------------------------------------------


def _edge_sigma(patch: Image) -> tuple[float, float]:
    """(edge spread sigma in pixels, directional imbalance) of a patch.

    A step of height C blurred by a Gaussian of sigma s has a steepest slope
    of C / (s * sqrt(2 pi)); the 3x3 Sobel operator reports 8x the slope.
    """
    if patch.size < 64:
        return 0.0, 0.0
    gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1)
    magnitude = cv2.magnitude(gx, gy)
    low, high = np.percentile(patch, (5.0, 95.0))
    step = float(high - low)
    peak = float(np.percentile(magnitude, 99.5))
    sigma = 8.0 * step / (math.sqrt(2.0 * math.pi) * peak) if peak > 1e-3 else 99.0
    jxx, jyy, jxy = float(np.mean(gx * gx)), float(np.mean(gy * gy)), float(np.mean(gx * gy))
    trace = jxx + jyy
    if trace <= 1e-6:
        return sigma, 0.0
    root = math.sqrt(max(0.0, (jxx - jyy) ** 2 / 4.0 + jxy * jxy))
    big, small = trace / 2.0 + root, trace / 2.0 - root
    return sigma, 1.0 - small / big if big > 0 else 0.0


def _motion(gray: Image, quad: Quad) -> float:
    """Directional imbalance of the edges of the code seen square-on.

    Measured on the code warped to a square, because a tilted code is
    squeezed along one axis and would otherwise look like movement.
    """
    side = 160
    dst = np.asarray([[0, 0], [side, 0], [side, side], [0, side]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32), dst)
    square = as_u8(cv2.warpPerspective(gray, warp, (side, side), flags=cv2.INTER_LINEAR))
    return _edge_sigma(square)[1]


def _quad_mask(shape: tuple[int, ...], quad: Quad) -> Image:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, np.asarray(quad, dtype=np.int32), 255)
    return mask


def _flat_share(patch: Image, mask: Image, module_px: float) -> float:
    """Largest featureless patch over the code that reaches the code's edge, as a
    share of the code: a finger or an object comes in from outside. (Stains
    and scratches inside the code are damage, not obstruction.)"""
    k = max(3, round(module_px * 1.2) | 1)
    mean = cv2.blur(patch.astype(np.float32), (k, k))
    sq = cv2.blur(patch.astype(np.float32) ** 2, (k, k))
    std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
    contrast = float(np.percentile(patch[mask > 0], 95) - np.percentile(patch[mask > 0], 5))
    flat = as_u8(np.where((std < max(4.0, 0.06 * contrast)) & (mask > 0), 255, 0))
    # A flat area smaller than a few modules is just a light or dark patch of data.
    flat = as_u8(cv2.erode(flat, np.ones((k, k), np.uint8)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(flat)
    if count < 2:
        return 0.0
    rim = cv2.subtract(mask, cv2.erode(mask, np.ones((3 * k, 3 * k), np.uint8)))
    touching = set(np.unique(labels[(rim > 0) & (labels > 0)]).tolist())
    areas = [float(stats[i, cv2.CC_STAT_AREA]) for i in touching]
    if not areas:
        return 0.0
    return max(areas) / max(float(np.count_nonzero(mask)), 1.0)


def _glare_share(patch: Image, mask: Image, module_px: float) -> float:
    """Clipped white over more than ~2 modules (so not just the white modules of a
    screenshot, which are clipped but surrounded by dark ones)."""
    clipped = as_u8(np.where((patch >= SATURATED) & (mask > 0), 255, 0))
    k = max(3, round(module_px * 2.5) | 1)
    core = cv2.erode(clipped, np.ones((k, k), np.uint8))
    return float(np.count_nonzero(core)) / max(float(np.count_nonzero(mask)), 1.0)


def assess(
    frame: ImageSource,
    scan: ScanResult | None = None,
    *,
    previous: Image | None = None,
) -> FrameQuality:
    """Measure ``frame`` and say what to fix.

    ``scan`` (the frame's :class:`ScanResult`, when it was scanned) tells where
    a read or located code is; ``previous`` (the previous frame of a stream)
    lets movement between frames count as "hold still".
    """
    gray = to_gray(load_image(frame))
    height, width = gray.shape
    decoded = bool(scan and scan.symbols)

    quad: Quad | None = None
    located_by = "none"
    module_px: float | None = None
    if scan is not None and scan.symbols:
        symbol = max(scan.symbols, key=lambda s: s.size)
        quad = symbol.points
        located_by = "decoded"
        if symbol.version:
            module_px = symbol.size / (17 + 4 * symbol.version)
    elif scan is not None and scan.hints:
        quad = max(scan.hints, key=lambda q: sum(_sides(q)))
        located_by = "decoder"

    finders = _find_finders(gray)
    group = _largest_group(finders) if finders else []
    partial = False
    if quad is None and len(group) >= 3:
        quad = _box_around([f.box for f in group])
        located_by = "finders"
    if quad is None:
        region = _texture_region(gray)
        if region is not None:
            quad = _order(region)
            located_by = "texture"
    if quad is None and len(group) == 2:
        # Two finders: a code with its third finder covered or cut off. Their
        # box is only part of the code, so its shape says nothing about tilt.
        quad = _box_around([f.box for f in group])
        located_by = "finders"
        partial = True

    if quad is not None:
        outline = np.asarray(quad, dtype=np.float32)
        inside = [
            f for f in finders if cv2.pointPolygonTest(outline, f.center, True) > -0.5 * f.side
        ]
        if module_px is None and inside:
            module_px = float(np.median([f.side for f in inside])) / 7.0
    else:
        inside = []

    mask = _quad_mask(gray.shape, quad) if quad is not None else np.full_like(gray, 255)
    values = gray[mask > 0] if np.count_nonzero(mask) > 16 else gray.ravel()
    low, high = (float(v) for v in np.percentile(values, (5.0, 95.0)))
    brightness = float(values.mean()) / 255.0
    contrast = (high - low) / 255.0

    code_px = float(np.mean(_sides(quad))) if quad is not None else 0.0
    module_estimate = module_px if module_px is not None else (code_px / 29.0 if code_px else 4.0)
    if quad is not None:
        x0, y0, w0, h0 = cv2.boundingRect(np.asarray(quad, dtype=np.float32))
        x1, y1 = max(0, x0), max(0, y0)
        x2, y2 = min(width, x0 + w0), min(height, y0 + h0)
        patch = gray[y1:y2, x1:x2]
        patch_mask = mask[y1:y2, x1:x2]
        touches = x0 <= 1 or y0 <= 1 or x0 + w0 >= width - 1 or y0 + h0 >= height - 1
        area = float(cv2.contourArea(np.asarray(quad, dtype=np.float32)))
        share = area / float(width * height)
        tilt = 0.0 if partial else _tilt(quad)
    else:
        patch, patch_mask = gray, mask
        touches, share, tilt = False, 0.0, 0.0
    sigma, motion = _edge_sigma(patch)
    if quad is not None and min(_sides(quad)) >= 8:
        motion = _motion(gray, quad)
    glare = _glare_share(patch, patch_mask, module_estimate) if quad is not None else 0.0
    flat = _flat_share(patch, patch_mask, module_estimate) if quad is not None else 0.0
    moved = _moved(gray, previous)

    guidance = _decide(
        decoded=decoded,
        located_by=located_by,
        low=low,
        high=high,
        frame_mean=float(gray.mean()),
        frame_clipped=float(np.count_nonzero(gray >= SATURATED)) / gray.size,
        glare=glare,
        sigma=sigma,
        motion=motion,
        moved=moved,
        module_px=module_px,
        code_px=code_px,
        short_side=float(min(width, height)),
        touches=touches,
        tilt=tilt,
        finders=len(inside),
        flat=flat,
    )
    if scan is not None and scan.rejected and not decoded:
        # The code was read, and its own check says the printed content is
        # wrong: nothing about the camera will fix that.
        guidance = (Guidance.DAMAGED, *(g for g in guidance if g is not Guidance.DAMAGED))
    return FrameQuality(
        width=width,
        height=height,
        brightness=brightness,
        contrast=contrast,
        sharpness=sigma,
        motion=motion,
        glare=glare,
        code_found=quad is not None,
        located_by=located_by,
        quad=quad,
        code_px=code_px,
        code_share=share,
        module_px=module_px,
        touches_edge=touches,
        tilt=tilt,
        finders=len(inside),
        flat_share=flat,
        guidance=guidance,
        decoded=decoded,
    )


def _box_around(boxes: list[_Float]) -> Quad:
    rect = cv2.minAreaRect(np.vstack(boxes).astype(np.float32))
    return _order(np.asarray(cv2.boxPoints(rect), dtype=np.float64))


def _largest_group(finders: list[_Finder]) -> list[_Finder]:
    """The finders that belong to one code: similar size, within reach of each other."""
    best: list[_Finder] = []
    for f in finders:
        group = [
            g
            for g in finders
            if 0.5 < g.side / f.side < 2.0 and math.dist(f.center, g.center) < 40.0 * f.side
        ]
        if len(group) > len(best):
            best = group
    return best[:3] if len(best) > 3 else best


def _moved(gray: Image, previous: Image | None) -> float:
    """Mean absolute change from the previous frame (0..1), at low resolution."""
    if previous is None:
        return 0.0
    prev = to_gray(previous)
    if prev.shape != gray.shape:
        return 0.0
    a = cv2.resize(gray, (80, 60), interpolation=cv2.INTER_AREA).astype(np.int16)
    b = cv2.resize(prev, (80, 60), interpolation=cv2.INTER_AREA).astype(np.int16)
    return float(np.mean(np.abs(a - b))) / 255.0


def _decide(
    *,
    decoded: bool,
    located_by: str,
    low: float,
    high: float,
    frame_mean: float,
    frame_clipped: float,
    glare: float,
    sigma: float,
    motion: float,
    moved: float,
    module_px: float | None,
    code_px: float,
    short_side: float,
    touches: bool,
    tilt: float,
    finders: int,
    flat: float,
) -> tuple[Guidance, ...]:
    """Guidance in priority order: light first (nothing else can be judged in the
    dark), then framing and distance, then focus and movement, then what is on
    the code. A decoded frame gets the measured problems only (the read worked;
    they are hints for the next scan); an unreadable one always gets a reason."""
    out: list[Guidance] = []
    found = located_by != "none"
    if high < DARK_PAPER or (not found and frame_mean < DARK_PAPER * 0.8):
        out.append(Guidance.TOO_DARK)
    # Glare is local clipping; overexposure clips the whole frame or washes the
    # ink out with the paper clipped too (blur also lifts the ink, but leaves
    # the paper below clipping).
    if found and glare > GLARE_SHARE and frame_clipped < 0.3:
        out.append(Guidance.GLARE)
    washed_out = found and low > BRIGHT_INK and high >= SATURATED - 10
    # Half the frame clipped is overexposure only if the code lost contrast
    # too: a screenshot's white background is clipped and perfectly readable.
    clipped = frame_clipped > 0.5 and (not found or high - low < 128)
    if washed_out or clipped:
        out.append(Guidance.TOO_BRIGHT)
    if not found:
        if not decoded:
            if sigma > BLUR_PIXELS * 1.5 and high - low > 30:
                out.append(Guidance.BLURRY)
            out.append(Guidance.NO_CODE)
        return tuple(dict.fromkeys(out))
    if touches or code_px > CLOSE_SHARE * short_side:
        out.append(Guidance.TOO_CLOSE)
    if (module_px is not None and module_px < FAR_MODULE_PX) or code_px < FAR_SIDE_PX:
        out.append(Guidance.TOO_FAR)
    # Movement smears edges along one direction only, so the edges across it
    # stay sharp: it shows as lopsided edge energy, not as a wide edge spread.
    if motion > MOTION_ANISOTROPY or moved > 0.08:
        out.append(Guidance.HOLD_STILL)
    elif sigma > (BLUR_MODULES * module_px if module_px is not None else BLUR_PIXELS):
        out.append(Guidance.BLURRY)
    if tilt > TILT_DEGREES:
        out.append(Guidance.TILTED)
    # Something over a code that still reads is a logo, not an obstruction.
    big_enough = code_px >= 2.0 * FAR_SIDE_PX and not decoded
    if big_enough and (flat > FLAT_SHARE or finders == 2):
        out.append(Guidance.OBSTRUCTED)
    if not out and not decoded:
        out.append(Guidance.DAMAGED)
    return tuple(dict.fromkeys(out))
