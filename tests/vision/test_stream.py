from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scanpay.vision import (
    ContinuousScanner,
    Detection,
    FolderSource,
    Guidance,
    GuidanceChange,
    VideoSource,
    open_source,
    synth,
)
from support import require
from vision.helpers import WALLET, frame_with, save

URL = "https://example.com/table/12"
EMPTY = synth.place(np.full((40, 40), 255, np.uint8), side=1).frame  # a bare counter


def _events(
    frames: list[np.ndarray], fps: float = 10.0, **kw: float
) -> list[Detection | GuidanceChange]:  # type: ignore[type-arg]
    watcher = ContinuousScanner(**kw)  # type: ignore[arg-type]
    out: list[Detection | GuidanceChange] = []
    for i, image in enumerate(frames):
        out.extend(watcher.process(image, i, i / fps)[1])
    return out


def _detections(events: list[Detection | GuidanceChange]) -> list[Detection]:
    return [e for e in events if isinstance(e, Detection)]


def test_plain_text_needs_two_agreeing_frames() -> None:
    code = frame_with(URL, side=260)
    events = _events([EMPTY, code, code, code])
    found = _detections(events)
    assert [(d.symbol.text, d.frame, d.confirmed_by) for d in found] == [(URL, 2, "agreement")]


def test_a_single_flash_of_plain_text_is_not_reported() -> None:
    code = frame_with(URL, side=260)
    assert _detections(_events([EMPTY, code] + [EMPTY] * 15)) == []


def test_a_valid_payment_code_is_confirmed_by_one_frame() -> None:
    code = frame_with(WALLET, side=260)
    found = _detections(_events([EMPTY, code, EMPTY]))
    assert [(d.symbol.text, d.frame, d.confirmed_by) for d in found] == [(WALLET, 1, "validated")]


def test_cool_down_while_in_view_and_again_after_it() -> None:
    code = frame_with(WALLET, side=260)
    # 10 fps: in view 2 s, away 1 s (< 3 s cool-down), back, away 4 s, back.
    frames = [code] * 20 + [EMPTY] * 10 + [code] * 5 + [EMPTY] * 40 + [code] * 3
    found = _detections(_events(frames))
    assert [d.frame for d in found] == [0, 75]


def test_guidance_is_reported_when_it_changes_while_nothing_reads() -> None:
    far = frame_with(URL, side=30)
    blurred = synth.defocus(frame_with(URL, side=260, seed=1), 6.0)
    events = _events([EMPTY, EMPTY, far, far, blurred, blurred])
    changes = [e for e in events if isinstance(e, GuidanceChange)]
    primaries = [c.guidance[0] for c in changes]
    assert primaries == [Guidance.NO_CODE, Guidance.TOO_FAR, Guidance.BLURRY]
    assert [c.frame for c in changes] == [0, 2, 4]


def test_folder_source_in_name_order(tmp_path: Path) -> None:
    for i, image in enumerate([EMPTY, frame_with(URL, side=260), frame_with(URL, side=260)]):
        save(tmp_path / f"{i:03d}.png", image)
    (tmp_path / "notes.txt").write_text("not a frame")
    source = FolderSource(tmp_path, fps=5)
    frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].timestamp == pytest.approx(0.4)
    found = _detections(list(ContinuousScanner().run(FolderSource(tmp_path))))
    assert [d.symbol.text for d in found] == [URL]


def test_video_file_source(tmp_path: Path) -> None:
    path = tmp_path / "till.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (640, 480))
    require(writer.isOpened(), "this OpenCV build cannot write MJPG video")
    code = cv2.cvtColor(frame_with(WALLET, side=280), cv2.COLOR_GRAY2BGR)
    blank = cv2.cvtColor(EMPTY, cv2.COLOR_GRAY2BGR)
    for image in [blank] * 5 + [code] * 5:
        writer.write(image)
    writer.release()
    source = VideoSource(path)
    assert source.fps == pytest.approx(15.0)
    found = _detections(list(ContinuousScanner().run(source)))
    source.close()
    assert [(d.symbol.text, d.frame) for d in found] == [(WALLET, 5)]
    assert found[0].timestamp == pytest.approx(5 / 15.0)


def test_open_source_wants_exactly_one() -> None:
    with pytest.raises(ValueError):
        open_source()
    with pytest.raises(OSError):
        open_source(folder=Path("/nonexistent/frames"))
