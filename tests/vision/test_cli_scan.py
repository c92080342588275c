from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from typer.testing import CliRunner

from scanpay.cli import app
from scanpay.vision import synth
from vision.helpers import WALLET, frame_with, save

runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_scan_files_json_masks_wallet_codes(tmp_path: Path) -> None:
    wallet = save(tmp_path / "wallet.png", synth.render_qr(WALLET))
    url = save(tmp_path / "url.png", synth.render_qr("https://example.com/m"))
    result = runner.invoke(app, ["scan", str(wallet), str(url), "--json"])
    assert result.exit_code == 0, result.output
    first, second = _lines(result.output)
    assert first["file"] == str(wallet)
    symbol = first["symbols"][0]  # type: ignore[index]
    assert symbol["text"] == "281234********3456" and symbol["masked"] is True
    assert symbol["payment_kind"] == "wallet"
    assert second["symbols"][0]["text"] == "https://example.com/m"  # type: ignore[index]
    assert set(first) == {"file", "symbols", "quality", "ms"}
    revealed = runner.invoke(app, ["scan", str(wallet), "--json", "--reveal"])
    assert _lines(revealed.output)[0]["symbols"][0]["text"] == WALLET  # type: ignore[index]


def test_scan_exit_codes_and_guidance(tmp_path: Path) -> None:
    good = save(tmp_path / "good.png", synth.render_qr(WALLET))
    blank = save(tmp_path / "blank.png", np.full((200, 200), 200, np.uint8))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png")
    unread = runner.invoke(app, ["scan", str(good), str(blank), "--json"])
    assert unread.exit_code == 1
    quality = _lines(unread.output)[1]["quality"]
    assert quality["guidance"][0]["code"] == "NO_CODE"  # type: ignore[index]
    bad = runner.invoke(app, ["scan", str(junk), "--json"])
    assert bad.exit_code == 2
    assert _lines(bad.output)[0]["error"]["code"] == "image_unreadable"  # type: ignore[index]
    human = runner.invoke(app, ["scan", str(blank), "--lang", "zh-CN"])
    assert human.exit_code == 1
    assert "图片中没有找到码" in human.output


def _photo_without_a_code() -> np.ndarray[Any, Any]:
    """A photo-like picture and no code: shading, a bright lamp, a dark box, printed
    text and sensor noise (busy enough to have patches of dense edges)."""
    height, width = 480, 640
    y, x = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (80 + 100 * x / width).astype(np.uint8)
    image[..., 1] = (120 + 80 * y / height).astype(np.uint8)
    image[..., 2] = (160 - 60 * x / width).astype(np.uint8)
    cv2.circle(image, (420, 200), 90, (250, 250, 250), -1)
    cv2.rectangle(image, (60, 260), (300, 420), (40, 70, 30), -1)
    for line in range(6):
        origin = (80, 60 + 30 * line)
        cv2.putText(image, "Lorem ipsum dolor", origin, cv2.FONT_HERSHEY_SIMPLEX, 0.8, 20, 2)
    noise = np.random.default_rng(7).normal(0, 6, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _scribbled_code() -> np.ndarray[Any, Any]:
    """A wallet code whose data is scribbled over, its finder patterns intact: a
    code is there (the decoders locate it) but cannot be read."""
    code = synth.render_qr(WALLET, module_px=6)
    rng = np.random.default_rng(3)
    edge = 12 * 6  # quiet zone and finder patterns
    for _ in range(400):
        x, y = (int(v) for v in rng.integers(edge, code.shape[0] - edge, size=2))
        code[y : y + 6, x : x + 6] = 255 - code[y : y + 6, x : x + 6]
    return synth.place(code, side=300).frame


def _row(output: str, path: Path) -> str:
    """The table row of ``path`` (one line: the terminal is made wide enough), its
    cells joined by single spaces, the time it took (the last cell) left out."""
    rows = [line for line in output.splitlines() if str(path) in line]
    assert len(rows) == 1, output
    return " ".join(rows[0].replace("│", " ").split()[:-1])


WIDE = {"COLUMNS": "400"}


def test_scan_says_no_code_was_found(tmp_path: Path) -> None:
    """An image without a code says so: camera advice (glare, tilt, something over the
    code) is about a code, given as fact only when a code was located."""
    blank = save(tmp_path / "blank.png", np.full((200, 200), 200, np.uint8))
    photo = save(tmp_path / "photo.png", _photo_without_a_code())
    scribbled = save(tmp_path / "scribbled.png", _scribbled_code())
    result = runner.invoke(app, ["scan", str(blank), str(photo), str(scribbled)], env=WIDE)
    assert result.exit_code == 1, result.output
    assert _row(result.output, blank).endswith("blank.png - No code found in the image")
    # A busy photo has patches a worn code could hide in: the answer is still that no
    # code was found; advice about a code only comes as a maybe, after that.
    assert "photo.png - No code found in the image" in _row(result.output, photo)
    # A code that is there but unreadable gets the advice itself.
    located = _row(result.output, scribbled)
    assert "The code is damaged" in located and "No code found" not in located
    chinese = runner.invoke(app, ["scan", str(blank), str(photo), "--lang", "zh-CN"], env=WIDE)
    assert "blank.png - 图片中没有找到码" in _row(chinese.output, blank)
    assert "photo.png - 图片中没有找到码" in _row(chinese.output, photo)


def test_scan_a_missing_file_is_an_error_alone(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    result = runner.invoke(app, ["scan", str(missing)], env=WIDE)
    assert result.exit_code == 2
    assert result.stdout.strip() == ""  # no empty table after the error
    assert result.stderr.strip() == f"{missing}: cannot read the image: {missing} does not exist"
    # Next to a readable one, the readable one is still reported.
    good = save(tmp_path / "good.png", synth.render_qr(WALLET))
    both = runner.invoke(app, ["scan", str(missing), str(good)], env=WIDE)
    assert both.exit_code == 2
    assert "281234********3456" in _row(both.stdout, good)
    assert str(missing) not in both.stdout and "does not exist" in both.stderr


def test_scan_grade(tmp_path: Path) -> None:
    path = save(tmp_path / "menu.png", synth.render_qr("https://example.com/menu", module_px=8))
    result = runner.invoke(app, ["scan", str(path), "--json", "--grade"])
    assert result.exit_code == 0
    grades = _lines(result.output)[0]["grades"]
    assert grades[0]["grade"] == "A"  # type: ignore[index]


def test_scan_folder_stream(tmp_path: Path) -> None:
    blank = synth.place(np.full((40, 40), 255, np.uint8), side=1).frame
    for i, image in enumerate([blank, frame_with(WALLET, side=260), blank]):
        save(tmp_path / f"{i:02d}.png", image)
    result = runner.invoke(app, ["scan", "--folder", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    events = _lines(result.output)
    detections = [e for e in events if e["event"] == "detected"]
    assert [(e["frame"], e["confirmed_by"]) for e in detections] == [(1, "validated")]
    assert detections[0]["symbol"]["text"] == "281234********3456"  # type: ignore[index]
    assert events[0]["event"] == "guidance"


def test_scan_refuses_files_and_stream_together(tmp_path: Path) -> None:
    path = save(tmp_path / "x.png", synth.render_qr(WALLET))
    result = runner.invoke(app, ["scan", str(path), "--folder", str(tmp_path)])
    assert result.exit_code != 0


def test_bench_decode_and_frames_json(tiny_dataset: Path) -> None:
    decoded = runner.invoke(
        app, ["bench", "decode", "--dataset", str(tiny_dataset), "--json", "--repeat", "1"]
    )
    assert decoded.exit_code == 0, decoded.output
    report = json.loads(decoded.output)
    assert {row["name"] for row in report["rows"]} >= {"easy", "hard", "parts", "overall"}
    frames = runner.invoke(app, ["bench", "frames", "--frames", "12", "--json", "--no-pin"])
    assert frames.exit_code == 0, frames.output
    assert json.loads(frames.output)["frames"] == 12
    table = runner.invoke(app, ["bench", "decode", "--dataset", str(tiny_dataset), "--repeat", "1"])
    assert table.exit_code == 0
    assert "union" in table.output and "ratio" in table.output
