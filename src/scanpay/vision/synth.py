"""Synthetic codes and camera frames: for tests, demos, benchmarks and browser tests.

Everything here is deterministic given its ``seed``. Codes are rendered with
segno (QR) and zxing-cpp (Code 128); frames place a code in a 640x480 scene
and degrade it the way a till camera does: too little or too much light,
glare, defocus, hand shake, distance, tilt, a finger over the code, a
scratched print. :func:`labelled_frames` makes frames labelled with the
guidance a cashier should get, and :func:`write_y4m` writes frames as a
``.y4m`` video for Chromium's fake camera (``--use-file-for-fake-video-capture``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import segno
import zxingcpp

from scanpay.vision._images import Image, as_u8, to_gray
from scanpay.vision.symbols import Quad

__all__ = [
    "CAUSES",
    "FRAME_SIZE",
    "LabelledFrame",
    "Scene",
    "add_glare",
    "add_noise",
    "damage",
    "darken",
    "defocus",
    "labelled_frames",
    "motion_blur",
    "occlude",
    "overexpose",
    "place",
    "read_y4m",
    "render_code128",
    "render_qr",
    "write_y4m",
]

FRAME_SIZE = (640, 480)
"""Width and height of a VGA camera frame."""


def render_qr(
    text: str, *, module_px: int = 4, border: int = 4, error: str = "M", boost: bool = False
) -> Image:
    """A QR code as a grey image: black modules on white, ``border`` modules of quiet zone."""
    code = segno.make_qr(text, error=error, boost_error=boost)
    matrix = np.asarray(code.matrix, dtype=np.uint8)
    image = np.where(np.pad(matrix, border) > 0, 0, 255).astype(np.uint8)
    return as_u8(
        cv2.resize(image, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    )


def render_code128(text: str, *, module_px: int = 2, height: int = 80) -> Image:
    """A Code 128 barcode (with quiet zones) as a grey image."""
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    strip = np.asarray(barcode.to_image(scale=module_px), dtype=np.uint8)
    row = strip[strip.shape[0] // 2 : strip.shape[0] // 2 + 1, :]
    return as_u8(np.repeat(row, height, axis=0))


@dataclass(frozen=True, slots=True)
class Scene:
    """A frame with a code in it, and where the code's corners are."""

    frame: Image
    quad: Quad | None
    """Corners of the code (without quiet zone) in the frame, None when absent."""


def _background(size: tuple[int, int], level: int, rng: np.random.Generator) -> Image:
    width, height = size
    # A counter top: smooth shading plus mild texture, never perfectly flat.
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = level + 18.0 * np.sin(x / width * math.pi) * np.cos(y / height * math.pi / 2)
    noise = rng.normal(0, 6, (height, width)).astype(np.float32)
    texture = np.asarray(cv2.GaussianBlur(noise, (0, 0), 2), dtype=np.float32)
    return as_u8(np.clip(shade + texture, 0, 255))


def _projection(
    w: int, h: int, side: float, angle: float, tilt: float, centre: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """Homography putting a w x h label into the frame as a pinhole camera sees it.

    The label is scaled so its longer side spans ``side`` pixels, tilted by
    ``tilt`` degrees about its horizontal axis (top edge away from the camera),
    viewed from 2.5 label-widths away, then turned ``angle`` degrees in the image.
    """
    scale = side / max(h, w)
    half_w, half_h = w * scale / 2.0, h * scale / 2.0
    distance = 2.5 * side
    t = math.radians(tilt)
    corners = []
    for x, y in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)):
        depth = distance + y * math.sin(t)
        corners.append((x * distance / depth, y * math.cos(t) * distance / depth))
    theta = math.radians(angle)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    dst = (np.asarray(corners) @ rot.T + np.asarray(centre)).astype(np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, dst), dtype=np.float64)


def place(
    code: Image,
    *,
    size: tuple[int, int] = FRAME_SIZE,
    side: float = 240.0,
    center: tuple[float, float] | None = None,
    angle: float = 0.0,
    tilt: float = 0.0,
    background: int = 110,
    inner: Sequence[tuple[float, float]] | None = None,
    ink: int = 35,
    paper: int = 215,
    seed: int = 0,
) -> Scene:
    """Put ``code`` (a printed label: code plus quiet zone) into a frame.

    ``side`` is the label's longer side in frame pixels, ``angle`` the in-plane
    rotation and ``tilt`` the out-of-plane tilt, in degrees (see
    :func:`_projection`). ``inner`` are the corners of the code proper inside
    ``code``; :attr:`Scene.quad` is where they land (None when not given).
    ``ink`` and ``paper`` are the grey levels black and white print reach under
    normal exposure (a camera keeps white paper below clipping).
    """
    rng = np.random.default_rng(seed)
    width, height = size
    frame = _background(size, background, rng)
    h, w = code.shape[:2]
    centre = center if center is not None else (width / 2.0, height / 2.0)
    homography = _projection(w, h, side, angle, tilt, centre)
    gray_code = as_u8(ink + to_gray(code).astype(np.float32) * ((paper - ink) / 255.0))
    warped = cv2.warpPerspective(gray_code, homography, size, flags=cv2.INTER_AREA, borderValue=0)
    mask = cv2.warpPerspective(
        np.full_like(gray_code, 255), homography, size, flags=cv2.INTER_LINEAR, borderValue=0
    )
    alpha = mask.astype(np.float32) / 255.0
    out = frame.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    quad: Quad | None = None
    if inner is not None:
        pts = cv2.perspectiveTransform(
            np.asarray(inner, dtype=np.float64).reshape(-1, 1, 2), homography
        ).reshape(-1, 2)
        quad = (
            (float(pts[0, 0]), float(pts[0, 1])),
            (float(pts[1, 0]), float(pts[1, 1])),
            (float(pts[2, 0]), float(pts[2, 1])),
            (float(pts[3, 0]), float(pts[3, 1])),
        )
    return Scene(as_u8(np.clip(out, 0, 255)), quad)


# --- degradations -----------------------------------------------------------


def darken(image: Image, gain: float = 0.12, seed: int = 0) -> Image:
    """Too little light: scale down, plus the sensor noise that comes with it."""
    rng = np.random.default_rng(seed)
    dark = image.astype(np.float32) * gain + rng.normal(0, 2.0, image.shape)
    return as_u8(np.clip(dark, 0, 255))


def overexpose(image: Image, gain: float = 3.0) -> Image:
    """Too much light: the sensor saturates, light greys wash out to white."""
    return as_u8(np.clip(image.astype(np.float32) * gain + 40.0, 0, 255))


def add_glare(
    image: Image, center: tuple[float, float], radius: float, strength: float = 1.0
) -> Image:
    """A specular highlight: a saturated spot with a soft rim."""
    h, w = image.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = ((x - center[0]) ** 2 + (y - center[1]) ** 2) / (radius**2)
    spot = np.exp(-d2 * 1.5) * 400.0 * strength
    return as_u8(np.clip(image.astype(np.float32) + spot, 0, 255))


def defocus(image: Image, sigma: float) -> Image:
    """Out of focus (or too close for the lens): Gaussian blur."""
    return as_u8(cv2.GaussianBlur(image, (0, 0), sigma))


def motion_blur(image: Image, length: int, angle: float = 0.0) -> Image:
    """Hand shake: a line-shaped blur ``length`` pixels long."""
    length = max(3, length | 1)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    turned = np.asarray(cv2.warpAffine(kernel, rot, (length, length)), dtype=np.float32)
    turned /= max(float(turned.sum()), 1e-6)
    return as_u8(cv2.filter2D(image, -1, turned))


def add_noise(image: Image, sigma: float, seed: int = 0) -> Image:
    """Sensor noise."""
    rng = np.random.default_rng(seed)
    return as_u8(np.clip(image.astype(np.float32) + rng.normal(0, sigma, image.shape), 0, 255))


def occlude(image: Image, quad: Quad, corner: int = 0, size: float = 0.45, seed: int = 0) -> Image:
    """A finger over one corner of the code (covering that finder pattern)."""
    rng = np.random.default_rng(seed)
    pts = np.asarray(quad, dtype=np.float32)
    centre = pts.mean(axis=0)
    tip = pts[corner] + (centre - pts[corner]) * 0.15
    side = float(np.linalg.norm(pts[1] - pts[0]))
    out = image.copy()
    axes = (int(side * size * 0.55), int(side * size))
    direction = tip - centre
    angle = math.degrees(math.atan2(float(direction[1]), float(direction[0]))) + 90.0
    tone = int(rng.integers(150, 190))
    cv2.ellipse(out, (int(tip[0]), int(tip[1])), axes, angle, 0, 360, tone, -1)
    return as_u8(cv2.GaussianBlur(out, (0, 0), 1.0))


def damage(image: Image, quad: Quad, count: int = 6, seed: int = 0) -> Image:
    """Scratches and stains across the code (a worn sticker)."""
    rng = np.random.default_rng(seed)
    pts = np.asarray(quad, dtype=np.float64)
    out = image.copy()
    side = float(np.linalg.norm(pts[1] - pts[0]))

    def inside() -> tuple[int, int]:
        u, v = rng.uniform(0.25, 0.75, 2)
        top = pts[0] + (pts[1] - pts[0]) * u
        bottom = pts[3] + (pts[2] - pts[3]) * u
        p = top + (bottom - top) * v
        return int(p[0]), int(p[1])

    for i in range(count):
        if i % 2 == 0:
            cv2.line(out, inside(), inside(), int(rng.integers(0, 60)), max(2, int(side / 18)))
        else:
            cv2.circle(out, inside(), max(3, int(side / 9)), int(rng.integers(200, 255)), -1)
    return out


# --- labelled frames ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelledFrame:
    """A frame and the one guidance code it should produce (``OK`` when it reads)."""

    frame: Image
    label: str
    quad: Quad | None
    name: str


CAUSES = (
    "OK",
    "TOO_DARK",
    "TOO_BRIGHT",
    "GLARE",
    "BLURRY",
    "HOLD_STILL",
    "TOO_FAR",
    "TOO_CLOSE",
    "TILTED",
    "OBSTRUCTED",
    "DAMAGED",
    "NO_CODE",
)


def labelled_frames(
    codes: Sequence[tuple[Image, Quad | None]],
    *,
    causes: Iterable[str] = CAUSES,
    seed: int = 0,
) -> Iterator[LabelledFrame]:
    """Degraded 640x480 frames labelled with the guidance each should get.

    ``codes`` are code images (e.g. rendered, or real photos cropped to the
    code) with the code's corners inside the image when known (None means the
    whole image is the code). Each code yields one frame per cause.
    """
    wanted = list(causes)
    for index, (code, corners) in enumerate(codes):
        rng = np.random.default_rng(seed + index)
        gray = to_gray(code)
        h, w = gray.shape
        corners_in_code: Sequence[tuple[float, float]] = corners or (
            (0.0, 0.0),
            (float(w), 0.0),
            (float(w), float(h)),
            (0.0, float(h)),
        )
        # Cut the code out of its photo with a small margin, as if printing it
        # as a label: the rest of a photo is somebody else's scene.
        xs = [p[0] for p in corners_in_code]
        ys = [p[1] for p in corners_in_code]
        margin = 0.1 * max(max(xs) - min(xs), max(ys) - min(ys))
        x0, y0 = max(0, int(min(xs) - margin)), max(0, int(min(ys) - margin))
        x1, y1 = min(w, int(max(xs) + margin) + 1), min(h, int(max(ys) + margin) + 1)
        gray = np.ascontiguousarray(gray[y0:y1, x0:x1])
        corners_in_code = [(x - x0, y - y0) for x, y in corners_in_code]
        # Pad with white so the printed label has a quiet zone around the code.
        pad = int(0.12 * max(h, w))
        label = as_u8(cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255))
        inner = [(x + pad, y + pad) for x, y in corners_in_code]

        def scene(
            side: float,
            angle: float = 0.0,
            tilt: float = 0.0,
            label: Image = label,
            inner: list[tuple[float, float]] = inner,
            index: int = index,
        ) -> tuple[Image, Quad]:
            placed = place(label, side=side, angle=angle, tilt=tilt, inner=inner, seed=seed + index)
            assert placed.quad is not None
            return placed.frame, placed.quad

        angle = float(rng.uniform(-20, 20))
        # Sizes are chosen for the code itself (photos have background around
        # their code): ``fit`` turns a code side into the label side.
        code_side = max(math.dist(inner[0], inner[1]), math.dist(inner[0], inner[3]), 1.0)
        fit = max(label.shape) / code_side
        base_side = float(rng.uniform(170, 230)) * fit
        name = f"code{index}"
        for cause in wanted:
            frame: Image
            quad: Quad | None
            if cause == "OK":
                frame, quad = scene(base_side, angle=angle)
            elif cause == "TOO_DARK":
                frame, quad = scene(base_side, angle=angle)
                frame = darken(frame, float(rng.uniform(0.06, 0.12)), seed + index)
            elif cause == "TOO_BRIGHT":
                frame, quad = scene(base_side, angle=angle)
                frame = overexpose(frame, float(rng.uniform(3.0, 4.5)))
            elif cause == "GLARE":
                frame, quad = scene(base_side, angle=angle)
                q = np.asarray(quad)
                spot = q.mean(axis=0) + rng.uniform(-0.15, 0.15, 2) * base_side / fit
                frame = add_glare(frame, (float(spot[0]), float(spot[1])), base_side / fit * 0.3)
            elif cause == "BLURRY":
                frame, quad = scene(base_side, angle=angle)
                frame = defocus(frame, float(rng.uniform(4.0, 6.0)))
            elif cause == "HOLD_STILL":
                frame, quad = scene(base_side, angle=angle)
                frame = motion_blur(frame, int(rng.uniform(18, 28)), float(rng.uniform(0, 180)))
            elif cause == "TOO_FAR":
                frame, quad = scene(float(rng.uniform(20, 30)) * fit, angle=angle)
            elif cause == "TOO_CLOSE":
                frame, quad = scene(float(rng.uniform(560, 720)) * fit, angle=angle * 0.3)
            elif cause == "TILTED":
                frame, quad = scene(base_side, angle=angle * 0.3, tilt=float(rng.uniform(60, 70)))
            elif cause == "OBSTRUCTED":
                frame, quad = scene(base_side, angle=angle)
                frame = occlude(frame, quad, int(rng.integers(0, 3)), 0.5, seed + index)
            elif cause == "DAMAGED":
                frame, quad = scene(base_side, angle=angle)
                frame = damage(frame, quad, 10, seed + index)
            elif cause == "NO_CODE":
                frame = _background(FRAME_SIZE, int(rng.integers(80, 160)), rng)
                quad = None
            else:
                raise ValueError(f"unknown cause {cause!r}")
            yield LabelledFrame(frame, cause, quad, f"{name}/{cause}")


# --- video --------------------------------------------------------------------


def write_y4m(frames: Iterable[Image], path: Path, fps: int = 30) -> int:
    """Write frames as a YUV4MPEG2 (4:2:0) video; returns the number written.

    Chromium plays such a file as a fake camera
    (``--use-fake-device-for-media-stream --use-file-for-fake-video-capture=PATH``).
    All frames must have the first frame's size (even width and height).
    """
    count = 0
    with path.open("wb") as out:
        size: tuple[int, int] | None = None
        for image in frames:
            bgr = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            h, w = bgr.shape[:2]
            if size is None:
                if w % 2 or h % 2:
                    raise ValueError("y4m 4:2:0 needs even frame sizes")
                size = (w, h)
                out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
            elif (w, h) != size:
                raise ValueError(f"frame {count} is {w}x{h}, not {size[0]}x{size[1]}")
            yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
            out.write(b"FRAME\n")
            out.write(np.ascontiguousarray(yuv).tobytes())
            count += 1
    return count


def read_y4m(path: Path) -> Iterator[npt.NDArray[np.uint8]]:
    """Frames (BGR) of a 4:2:0 YUV4MPEG2 file written by :func:`write_y4m`."""
    with path.open("rb") as src:
        header = src.readline().decode("ascii").split()
        w = int(next(p[1:] for p in header if p.startswith("W")))
        h = int(next(p[1:] for p in header if p.startswith("H")))
        frame_bytes = w * h * 3 // 2
        while True:
            marker = src.readline()
            if not marker:
                return
            data = src.read(frame_bytes)
            if len(data) < frame_bytes:
                return
            yuv = np.frombuffer(data, dtype=np.uint8).reshape(h * 3 // 2, w)
            yield as_u8(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420))
