from __future__ import annotations

from collections import Counter

import pytest

from scanpay.i18n import LANGUAGES
from scanpay.vision import MESSAGES, Guidance, Scanner, assess, scan, synth
from scanpay.vision.synth import CAUSES
from vision.helpers import WALLET, mpm

_TEXTS = [WALLET, mpm("TEA HOUSE"), "https://example.com/order/77", "https://example.com/x"]


def test_every_guidance_has_both_languages() -> None:
    assert set(MESSAGES) == set(Guidance)
    for guidance in Guidance:
        for language in LANGUAGES:
            assert guidance.text.get(language).strip()
        assert guidance.text.zh_cn != guidance.text.en


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Counter[str]]:
    """Primary guidance per labelled cause, on frames made from rendered codes."""
    codes = [(synth.render_qr(t, module_px=5, border=0), None) for t in _TEXTS]
    scanner = Scanner()
    out: dict[str, Counter[str]] = {cause: Counter() for cause in CAUSES}
    for item in synth.labelled_frames(codes, seed=11):
        quality = assess(item.frame, scanner.scan(item.frame, live=True))
        out[item.label][quality.primary.value if quality.primary else "OK"] += 1
    return out


@pytest.mark.parametrize("cause", CAUSES)
def test_guidance_names_the_cause(outcomes: dict[str, Counter[str]], cause: str) -> None:
    got = outcomes[cause]
    # At least 3 of the 4 frames of each cause get it as first guidance.
    assert got[cause] >= 3, dict(got)


def test_a_readable_frame_needs_no_guidance() -> None:
    frame = synth.place(synth.render_qr(WALLET, module_px=5), side=260).frame
    result = scan(frame)
    quality = assess(frame, result)
    assert result.texts == [WALLET]
    assert quality.ok and quality.decoded and quality.located_by == "decoded"
    assert 0.3 < quality.brightness < 0.8
    assert quality.contrast > 0.5
    assert quality.sharpness < 2.0
    assert not quality.touches_edge
    assert quality.tilt < 20
    assert quality.module_px is not None and 4.0 < quality.module_px < 9.0


def test_measurements_follow_the_degradation() -> None:
    frame = synth.place(synth.render_qr(WALLET, module_px=5), side=260).frame
    sharp = assess(frame)
    blurred = assess(synth.defocus(frame, 4.0))
    dark = assess(synth.darken(frame, 0.1))
    assert blurred.sharpness > 2 * sharp.sharpness
    assert dark.brightness < 0.25 * sharp.brightness
    tilted = assess(synth.place(synth.render_qr(WALLET, module_px=5), side=260, tilt=65).frame)
    assert tilted.tilt > 45 > sharp.tilt


def test_previous_frame_movement_means_hold_still() -> None:
    code = synth.render_qr("https://example.com/move", module_px=5)
    a = synth.place(code, side=260, center=(260, 240)).frame
    b = synth.place(code, side=260, center=(380, 240)).frame
    quality = assess(b, previous=a)
    assert Guidance.HOLD_STILL in quality.guidance


def test_json_shape() -> None:
    frame = synth.place(synth.render_qr(WALLET), side=40).frame
    data = assess(frame).to_dict()
    assert data["guidance"] and data["guidance"][0]["code"] == "TOO_FAR"
    assert set(data["guidance"][0]["message"]) == {"zh-CN", "en"}
