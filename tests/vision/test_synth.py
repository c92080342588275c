from __future__ import annotations

from pathlib import Path

import numpy as np

from scanpay.vision import scan, synth
from vision.helpers import WALLET, frame_with


def test_rendered_codes_read_back() -> None:
    assert scan(synth.render_qr(WALLET)).texts == [WALLET]
    assert scan(synth.render_code128(WALLET)).texts == [WALLET]


def test_labelled_frames_cover_every_cause_deterministically() -> None:
    codes = [(synth.render_qr(WALLET, module_px=5), None)]
    first = list(synth.labelled_frames(codes, seed=4))
    again = list(synth.labelled_frames(codes, seed=4))
    assert [f.label for f in first] == list(synth.CAUSES)
    assert all(np.array_equal(a.frame, b.frame) for a, b in zip(first, again, strict=True))
    assert all(f.frame.shape == (480, 640) for f in first)
    ok = next(f for f in first if f.label == "OK")
    assert scan(ok.frame).texts == [WALLET]


def test_y4m_round_trip(tmp_path: Path) -> None:
    frames = [frame_with(WALLET, side=200 + 20 * i) for i in range(3)]
    path = tmp_path / "fake-camera.y4m"
    assert synth.write_y4m(frames, path, fps=15) == 3
    assert path.read_bytes().startswith(b"YUV4MPEG2 W640 H480 F15:1")
    back = list(synth.read_y4m(path))
    assert len(back) == 3
    # 4:2:0 chroma subsampling of a grey frame loses nothing that matters.
    assert all(scan(image).texts == [WALLET] for image in back)
    assert np.abs(back[0][:, :, 1].astype(int) - frames[0].astype(int)).mean() < 2.0
