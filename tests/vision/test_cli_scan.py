from __future__ import annotations

import json
from pathlib import Path

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
    assert "画面中没有码" in human.output


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
