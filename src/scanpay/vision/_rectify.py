"""Geometry for codes the decoders locate but cannot sample.

Two tools, both driven by a quad (the four corners of a located code):

* :func:`warp_square` undoes perspective: the quad becomes an upright square
  with a quiet zone, at a known number of pixels per module.
* :func:`resample_curved` handles codes on curved or wrinkled stickers, where
  no single perspective fits. It traces the symbol's four borders in the
  rectified image, fits a smooth curve to each, and samples the module grid
  from the Coons patch those curves span (the surface that blends four border
  curves). The result is re-drawn as a clean, flat code for zxing-cpp.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from scanpay.vision._images import Image, as_u8
from scanpay.vision.symbols import Quad

__all__ = [
    "estimate_version",
    "module_homography",
    "modules_for_version",
    "resample_curved",
    "sample_modules",
    "warp_square",
]

Float = npt.NDArray[np.float64]


def modules_for_version(version: int) -> int:
    """Side of a QR symbol in modules."""
    return 17 + 4 * version


def _quad_array(quad: Quad) -> npt.NDArray[np.float32]:
    return np.asarray(quad, dtype=np.float32).reshape(4, 2)


def module_homography(quad: Quad, modules: int) -> npt.NDArray[np.float64]:
    """Homography from module coordinates (0..modules on each axis) to image pixels."""
    src = np.asarray([[0, 0], [modules, 0], [modules, modules], [0, modules]], dtype=np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, _quad_array(quad)), dtype=np.float64)


def sample_modules(
    gray: Image,
    where: Quad | npt.NDArray[np.float64],
    modules: int,
    quiet: int = 0,
    aperture: float = 0.5,
) -> npt.NDArray[np.float32]:
    """Mean grey level at every module centre, ``quiet`` modules of margin included.

    ``where`` is the code's quad or a module-to-image homography. The mean is
    taken over a square ``aperture`` modules wide (ISO/IEC 15415 measures with
    an aperture below one module so edges do not bleed in). Returns a
    ``(modules + 2*quiet)``-square array; row 0 is the top row.
    """
    homography = where if isinstance(where, np.ndarray) else module_homography(where, modules)
    centres = np.arange(-quiet, modules + quiet, dtype=np.float64) + 0.5
    u, v = np.meshgrid(centres, centres)
    points = np.stack([u.ravel(), v.ravel()], axis=-1).reshape(-1, 1, 2)
    image_points = cv2.perspectiveTransform(points, homography).reshape((*u.shape, 2))
    pitch = float(np.linalg.norm(image_points[0, 1] - image_points[0, 0]))
    k = max(1, round(pitch * aperture))
    smooth = cv2.blur(gray, (k, k)) if k > 1 else gray
    samples = cv2.remap(
        smooth.astype(np.float32),
        image_points[..., 0].astype(np.float32),
        image_points[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(samples, dtype=np.float32)


def estimate_version(gray: Image, quad: Quad) -> int | None:
    """QR version from the width of the top-left finder pattern against the symbol.

    In the rectified symbol, the longest dark run starting at the left edge in
    the top rows is the finder's top edge: 7 modules.
    """
    warped, _ = warp_square(gray, quad, 100, 4, 0)
    threshold = (float(warped.min()) + float(warped.max())) / 2.0
    widths: list[int] = []
    for row in range(2, 24, 2):
        line = warped[row, :200] < threshold
        ends = np.flatnonzero(np.diff(line.astype(np.int8)) < 0)
        if line[0] and ends.size:
            widths.append(int(ends[0]) + 1)
    if not widths:
        return None
    version = round((7.0 * 400.0 / float(max(widths)) - 17.0) / 4.0)
    return version if 1 <= version <= 40 else None


def warp_square(
    gray: Image, quad: Quad, modules: int, px: int, margin: int
) -> tuple[Image, npt.NDArray[np.float64]]:
    """Warp ``quad`` onto a ``modules``-wide square at ``px`` pixels per module.

    ``margin`` modules of surrounding image are kept on each side (the quiet
    zone). Returns the image and the homography from it back to ``gray``.
    """
    lo, hi = margin * px, (margin + modules) * px
    side = (modules + 2 * margin) * px
    dst = np.asarray([[lo, lo], [hi, lo], [hi, hi], [lo, hi]], dtype=np.float32)
    forward = cv2.getPerspectiveTransform(_quad_array(quad), dst)
    warped = cv2.warpPerspective(
        gray, forward, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    back = np.asarray(np.linalg.inv(forward), dtype=np.float64)
    return as_u8(warped), back


def _robust_poly(xs: Float, ys: Float, inward: float, degree: int = 2) -> Float | None:
    """Fit y(x), ignoring points that lie inside the border.

    A border traced from the dark modules dips inwards wherever the outer row
    of modules happens to be light; those dips are outliers on one side only,
    so points inward of the fit are dropped and the fit repeated.
    """
    keep = np.ones(xs.shape[0], dtype=bool)
    coeffs: Float | None = None
    for _ in range(4):
        if int(keep.sum()) < degree + 3:
            return coeffs
        coeffs = np.polyfit(xs[keep], ys[keep], degree)
        residual = (ys - np.polyval(coeffs, xs)) * inward
        spread = float(np.median(np.abs(residual[keep])))
        new_keep = residual < max(1.0, 2.5 * spread)
        if bool(np.array_equal(new_keep, keep)):
            break
        keep = new_keep
    return coeffs


def resample_curved(gray: Image, quad: Quad, modules: int, px: int = 6) -> Image | None:
    """Sample a curved code's modules and draw them as a flat code (4 px/module).

    Returns None when the borders cannot be traced.
    """
    margin = 3
    warped, _ = warp_square(gray, quad, modules, px, margin)
    lo, hi = margin * px, (margin + modules) * px
    dark = cv2.adaptiveThreshold(
        warped, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, (6 * px) | 1, 2
    )
    # Only the code and a thin ring around it: stickers sit on dark tables
    # whose edges would otherwise join the code's silhouette.
    ring = int(0.7 * px)
    limit = np.zeros_like(dark)
    limit[lo - ring : hi + ring, lo - ring : hi + ring] = 255
    dark = cv2.bitwise_and(dark, limit)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (int(2.5 * px), int(2.5 * px)))
    blob = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blob)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = labels == biggest

    cols = np.arange(lo + px // 2, hi - px // 2)
    band = 3 * px
    curves: dict[str, Float] = {}
    for name, along_rows, first, inward in (
        ("top", False, True, 1.0),
        ("bottom", False, False, -1.0),
        ("left", True, True, 1.0),
        ("right", True, False, -1.0),
    ):
        lines = mask[cols, :] if along_rows else mask[:, cols].T
        present = lines.any(axis=1)
        if first:
            edge = np.argmax(lines, axis=1).astype(np.float64)
            expected = float(lo)
        else:
            edge = lines.shape[1] - np.argmax(lines[:, ::-1], axis=1).astype(np.float64)
            expected = float(hi)
        ok = present & (np.abs(edge - expected) < band)
        if int(ok.sum()) < 10:
            return None
        fit = _robust_poly(cols[ok].astype(np.float64), edge[ok], inward)
        if fit is None:
            return None
        curves[name] = fit

    def corner(horizontal: str, vertical: str, x: float, y: float) -> Float:
        for _ in range(8):  # fixed-point intersection of two near-straight curves
            y = float(np.polyval(curves[horizontal], x))
            x = float(np.polyval(curves[vertical], y))
        return np.array([x, y])

    c00 = corner("top", "left", lo, lo)
    c10 = corner("top", "right", hi, lo)
    c11 = corner("bottom", "right", hi, hi)
    c01 = corner("bottom", "left", lo, hi)

    steps = (np.arange(modules) + 0.5) / modules
    u, v = np.meshgrid(steps, steps)
    top_x = c00[0] + (c10[0] - c00[0]) * u
    bottom_x = c01[0] + (c11[0] - c01[0]) * u
    left_y = c00[1] + (c01[1] - c00[1]) * v
    right_y = c10[1] + (c11[1] - c10[1]) * v
    top = np.stack([top_x, np.polyval(curves["top"], top_x)], axis=-1)
    bottom = np.stack([bottom_x, np.polyval(curves["bottom"], bottom_x)], axis=-1)
    left = np.stack([np.polyval(curves["left"], left_y), left_y], axis=-1)
    right = np.stack([np.polyval(curves["right"], right_y), right_y], axis=-1)
    uu, vv = u[..., None], v[..., None]
    bilinear = (1 - uu) * (1 - vv) * c00 + uu * (1 - vv) * c10 + (1 - uu) * vv * c01 + uu * vv * c11
    grid = (1 - vv) * top + vv * bottom + (1 - uu) * left + uu * right - bilinear

    smooth = cv2.blur(warped, (max(1, px // 2), max(1, px // 2)))
    samples = cv2.remap(
        smooth,
        grid[..., 0].astype(np.float32),
        grid[..., 1].astype(np.float32),
        cv2.INTER_LINEAR,
    )
    threshold, _ = cv2.threshold(as_u8(samples), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    flat = np.where(samples > threshold, 255, 0).astype(np.uint8)
    flat = np.pad(flat, 4, constant_values=255)
    return as_u8(cv2.resize(flat, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST))
