from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scanpay.vision import ImageError, load_image, scan, synth, to_gray
from vision.helpers import WALLET


def test_path_bytes_and_array_give_the_same_pixels(tmp_path: Path) -> None:
    code = synth.render_qr(WALLET)
    path = tmp_path / "code.png"
    cv2.imwrite(str(path), code)
    from_path = load_image(path)
    from_bytes = load_image(path.read_bytes())
    assert np.array_equal(from_path, code)
    assert np.array_equal(from_bytes, code)
    assert scan(from_path).texts == [WALLET]


def test_transparent_png_is_composited_on_white(tmp_path: Path) -> None:
    code = synth.render_qr(WALLET)
    # Dark modules opaque black, light ones fully transparent *black*: read as
    # RGB only it is a black square; composited on white it is the code.
    bgra = np.zeros((*code.shape, 4), np.uint8)
    bgra[..., 3] = np.where(code < 128, 255, 0)
    path = tmp_path / "alpha.png"
    cv2.imwrite(str(path), bgra)
    image = load_image(path)
    assert image.ndim == 3 and image.shape[2] == 3
    assert scan(image).texts == [WALLET]


def test_sixteen_bit_and_float_arrays_are_scaled() -> None:
    code = synth.render_qr(WALLET)
    wide = code.astype(np.uint16) * 257
    unit = code.astype(np.float32) / 255.0
    assert np.array_equal(load_image(wide), code)
    assert np.array_equal(load_image(unit), code)
    assert scan(wide).texts == [WALLET]


def test_to_gray_keeps_grey_and_converts_colour() -> None:
    code = synth.render_qr(WALLET)
    assert to_gray(code) is code
    colour = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(to_gray(colour), code)


@pytest.mark.parametrize("bad", [b"not an image", b""])
def test_unreadable_bytes_raise_a_typed_error(bad: bytes) -> None:
    with pytest.raises(ImageError) as error:
        load_image(bad)
    assert error.value.code == "image_unreadable"


def test_missing_file_raises_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError):
        load_image(tmp_path / "nope.png")
