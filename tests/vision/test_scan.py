from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanpay.vision import Scanner, scan, synth
from vision.helpers import WALLET, dataset_dir, manifest, mpm


def test_reads_a_merchant_code_and_validates_it() -> None:
    text = mpm("NOODLE BAR")
    result = scan(synth.render_qr(text))
    assert result.texts == [text]
    symbol = result.symbols[0]
    assert symbol.payment_kind == "emv_mpm"
    assert symbol.format == "QR Code"
    assert symbol.version is not None and symbol.ec_level in {"L", "M", "Q", "H"}
    assert symbol.raw == text.encode()
    assert result.tried == ("zxing",)


def test_a_wrong_crc_is_not_accepted_and_the_scan_settles() -> None:
    result = scan(synth.render_qr(mpm(corrupt=True)))
    assert result.symbols == ()
    assert result.rejected >= 2
    # Two strategies agreeing on the failing text end the search early.
    assert len(result.tried) < 6


def test_wallet_code_as_code128_and_masked_for_display() -> None:
    result = scan(synth.render_code128(WALLET))
    assert result.texts == [WALLET]
    symbol = result.symbols[0]
    assert (symbol.format, symbol.payment_kind) == ("Code 128", "wallet")
    assert symbol.display_text() == "281234********3456"
    assert symbol.to_dict()["text"] == "281234********3456"
    assert symbol.to_dict(reveal=True)["text"] == WALLET


def test_plain_text_is_a_plain_symbol() -> None:
    result = scan(synth.render_qr("https://example.com/menu"))
    assert result.texts == ["https://example.com/menu"]
    assert result.symbols[0].payment_kind is None
    assert result.symbols[0].payment_problem is None


def test_digits_that_are_no_wallet_code_are_kept_with_the_reason() -> None:
    result = scan(synth.render_qr("1234567890"))
    assert result.texts == ["1234567890"]
    assert result.symbols[0].payment_problem == "unknown_wallet_code"
    assert result.symbols[0].display_text() == "**********"


@pytest.mark.parametrize(
    "transform",
    [
        lambda im: np.rot90(im),
        lambda im: np.rot90(im, 2),
        lambda im: im[:, ::-1],  # mirrored
        lambda im: 255 - im,  # light on dark (phone dark mode)
    ],
    ids=["rot90", "rot180", "mirrored", "inverted"],
)
def test_any_orientation_mirror_and_inversion(transform: object) -> None:
    image = np.ascontiguousarray(transform(synth.render_qr(WALLET)))  # type: ignore[operator]
    assert scan(image).texts == [WALLET]


def test_corners_are_where_the_code_is() -> None:
    code = synth.render_qr(WALLET, module_px=6, border=0)
    label = cv2.copyMakeBorder(code, 24, 24, 24, 24, cv2.BORDER_CONSTANT, value=255)
    h, w = code.shape
    inner = [(24.0, 24.0), (24.0 + w, 24.0), (24.0 + w, 24.0 + h), (24.0, 24.0 + h)]
    scene = synth.place(label, side=300, angle=30, inner=inner)
    result = scan(scene.frame)
    assert result.texts == [WALLET]
    assert scene.quad is not None
    found = np.asarray(result.symbols[0].points)
    truth = np.asarray(scene.quad)
    # Same corners (in the symbol's own order) within a module or so.
    assert np.abs(found - truth).max() < 10


def test_two_codes_in_one_frame() -> None:
    left = synth.render_qr(WALLET, module_px=4)
    right = synth.render_qr("https://example.com/a", module_px=4)
    canvas = np.full(
        (max(left.shape[0], right.shape[0]), left.shape[1] + right.shape[1] + 20), 255, np.uint8
    )
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] + 20 :] = right
    assert sorted(scan(canvas).texts) == sorted([WALLET, "https://example.com/a"])


def test_budget_zero_runs_only_the_fast_path() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (120, 160), dtype=np.uint8)
    result = Scanner().scan(noise, budget_ms=0)
    assert result.symbols == ()
    assert result.out_of_budget
    assert result.tried == ("zxing", "zxing_inverted", "zxing_linear")


def test_a_tiny_far_code_is_read_by_a_fallback() -> None:
    # 1.3 px per module: zxing-cpp alone gives up; upscaling reads it.
    code = synth.render_qr("https://example.com/far", module_px=8)
    small = cv2.resize(code, None, fx=1.3 / 8, fy=1.3 / 8, interpolation=cv2.INTER_AREA)
    result = scan(small)
    assert result.texts == ["https://example.com/far"]
    assert result.symbols[0].strategy != "zxing"


@pytest.mark.parametrize(
    "name",
    [
        "qrcode-1/1.webp",
        "qrcode-2/qr-inv-1.webp",
        "qrcode-2/gs1-figure-4.15.1-2.png",
        "qrcode-3/01.webp",
        "qrcode-5/16.png",
        "qrcode-6/1.png",
    ],
)
def test_real_images(name: str) -> None:
    expected = manifest()[name]["expected_text"]
    assert expected in scan(dataset_dir() / name).texts


def test_real_sticker_only_a_fallback_reads() -> None:
    # A wrinkled sticker zxing-cpp, OpenCV and every zxing-based filter miss.
    name = "qrcode-4/08.webp"
    result = scan(dataset_dir() / name)
    assert result.texts == [manifest()[name]["expected_text"]]
    assert result.symbols[0].strategy == "sticker"
