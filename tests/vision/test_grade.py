from __future__ import annotations

import cv2
import numpy as np
import pytest

from scanpay.vision import grade, scan, synth
from vision.helpers import WALLET, dataset_dir


def _graded(image: np.ndarray) -> object:  # type: ignore[type-arg]
    result = scan(image)
    assert result.symbols, "the graded image must decode"
    return grade(image, result.symbols[0])


def test_a_clean_print_is_grade_a() -> None:
    report = _graded(synth.render_qr("https://example.com/menu", module_px=8))
    assert report.letter == "A"  # type: ignore[attr-defined]
    assert report.parameter("SC").value == pytest.approx(1.0)  # type: ignore[attr-defined]
    assert report.to_dict()["parameters"].keys() == {"SC", "MOD", "FPD", "UEC", "AN", "GN"}  # type: ignore[attr-defined]


def test_low_contrast_lowers_symbol_contrast() -> None:
    code = synth.render_qr("https://example.com/menu", module_px=8)
    faint = (code.astype(np.float32) * 0.3 + 120).astype(np.uint8)
    report = _graded(faint)
    assert report.parameter("SC").letter in {"D", "F"}  # type: ignore[attr-defined]
    assert report.letter in {"D", "F"}  # type: ignore[attr-defined]


def test_blur_lowers_modulation() -> None:
    code = synth.render_qr("https://example.com/menu", module_px=8)
    sharp = _graded(code)
    soft = _graded(synth.defocus(code, 3.0))
    assert soft.parameter("MOD").value < sharp.parameter("MOD").value  # type: ignore[attr-defined]
    assert soft.parameter("MOD").grade < 4  # type: ignore[attr-defined]


def test_a_scratched_finder_is_fixed_pattern_damage() -> None:
    code = synth.render_qr(WALLET, module_px=8, error="H")
    damaged = code.copy()
    # Ink over four modules of the top-left finder's separator (the quiet
    # zone is 4 modules = 32 px): row 7, columns 0-3.
    cv2.rectangle(damaged, (32, 32 + 56), (32 + 32 - 1, 32 + 64 - 1), 0, -1)
    report = _graded(damaged)
    assert report.parameter("FPD").value >= 4  # type: ignore[attr-defined]
    assert report.parameter("FPD").letter == "F"  # type: ignore[attr-defined]
    assert report.letter == "F"  # type: ignore[attr-defined]


def test_spots_use_up_error_correction() -> None:
    code = synth.render_qr("https://example.com/menu", module_px=8, error="H")
    rng = np.random.default_rng(3)
    spotted = code.copy()
    for _ in range(8):
        x, y = rng.integers(80, code.shape[1] - 80, 2)
        cv2.circle(spotted, (int(x), int(y)), 7, 128 + int(rng.integers(0, 2)) * 127, -1)
    clean, worn = _graded(code), _graded(spotted)
    assert worn.parameter("UEC").value < clean.parameter("UEC").value  # type: ignore[attr-defined]


def test_real_photo_gets_a_grade() -> None:
    image = dataset_dir() / "qrcode-2/1.png"
    result = scan(image)
    report = grade(image, result.symbols[0])
    assert report.letter in "ABCDF"
    assert report.version == result.symbols[0].version


def test_linear_codes_are_not_graded() -> None:
    barcode = synth.render_code128(WALLET)
    with pytest.raises(ValueError):
        grade(barcode, scan(barcode).symbols[0])
