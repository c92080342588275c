"""Turning files, bytes and arrays into the 8-bit images the decoders read.

Everything downstream works on ``uint8`` arrays: grey (H, W) or BGR (H, W, 3),
the layout OpenCV and zxing-cpp both take without a copy. Transparent images
are composited onto white, because a QR code drawn on a transparent PNG is
dark-on-nothing and would otherwise turn dark-on-black.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeAlias

import cv2
import numpy as np
import numpy.typing as npt

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = ["Image", "ImageError", "ImageSource", "as_u8", "load_image", "to_gray"]

Image: TypeAlias = npt.NDArray[np.uint8]
"""An 8-bit image: grey (H, W) or BGR (H, W, 3)."""

ImageSource: TypeAlias = "str | os.PathLike[str] | bytes | npt.NDArray[np.generic]"
"""What :func:`load_image` accepts: a path, encoded file bytes, or an array."""


def as_u8(array: object) -> Image:
    """View (or convert) an OpenCV/numpy result as an 8-bit image, for the type checker."""
    return np.asarray(array, dtype=np.uint8)


class ImageError(ScanpayError):
    """An input that is not an image scanpay can read."""


def _unreadable(what: str) -> ImageError:
    return ImageError(
        "image_unreadable",
        Text(f"无法读取图像：{what}", f"cannot read the image: {what}"),
        field="image",
    )


def load_image(source: ImageSource) -> Image:
    """Decode ``source`` into an 8-bit grey or BGR array.

    Paths and encoded bytes go through OpenCV (PNG, JPEG, WebP, BMP, TIFF, ...).
    Arrays are normalised: bool, 16-bit and float images are scaled to 8 bits,
    RGBA/BGRA/grey+alpha are composited onto white.
    """
    if isinstance(source, np.ndarray):
        return _normalise(source)
    if isinstance(source, bytes | bytearray):
        buffer = np.frombuffer(bytes(source), dtype=np.uint8)
        decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED) if buffer.size else None
        if decoded is None:
            raise _unreadable("not an image file")
        return _normalise(decoded)
    path = Path(os.fspath(source))
    if not path.is_file():
        raise _unreadable(f"{path} does not exist")
    # imdecode instead of imread: imread cannot open non-ASCII paths on every
    # platform, and reading the bytes ourselves gives one error path.
    decoded = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise _unreadable(f"{path} is not an image OpenCV can decode")
    return _normalise(decoded)


def _normalise(array: npt.NDArray[np.generic]) -> Image:
    if array.ndim not in (2, 3) or array.size == 0:
        raise _unreadable(f"array of shape {array.shape}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    data = _to_uint8(array)
    if data.ndim == 2:
        return np.ascontiguousarray(data)
    channels = data.shape[2]
    if channels == 3:
        return np.ascontiguousarray(data)
    if channels == 2:  # grey + alpha
        return _over_white(data[:, :, :1], data[:, :, 1])[:, :, 0]
    if channels == 4:
        return _over_white(data[:, :, :3], data[:, :, 3])
    raise _unreadable(f"{channels} colour channels")


def _to_uint8(array: npt.NDArray[np.generic]) -> Image:
    if array.dtype == np.uint8:
        return array.astype(np.uint8, copy=False)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(array.dtype, np.floating):
        # Float images are 0..1 by convention (OpenCV, scikit-image).
        scaled = np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0) * 255.0
        return (scaled + 0.5).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        top = float(2 ** (8 * array.dtype.itemsize) - 1) if array.dtype.itemsize > 1 else 255.0
        scaled = np.clip(array.astype(np.float32), 0.0, top) * (255.0 / top)
        return (scaled + 0.5).astype(np.uint8)
    raise _unreadable(f"pixel type {array.dtype}")


def _over_white(colour: Image, alpha: Image) -> Image:
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    out = colour.astype(np.float32) * a + 255.0 * (1.0 - a)
    return as_u8(out + 0.5)


def to_gray(image: Image) -> Image:
    """The grey version of an 8-bit image (returned as is when already grey)."""
    if image.ndim == 2:
        return image
    return as_u8(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
