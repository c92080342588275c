"""``scanpay code``: parse and make, run in-process and checked by a real QR decoder."""

from __future__ import annotations

import json
from pathlib import Path

import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from scanpay.cli import app

runner = CliRunner()
PROMPTPAY = "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469"


def test_parse_json_fields() -> None:
    result = runner.invoke(app, ["code", "parse", "--json", PROMPTPAY])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["kind"] == "emv_mpm"
    assert data["scheme"] == "promptpay"
    assert data["amount"] == 422
    assert data["currency"] == "764"
    assert data["point_of_initiation"] == "12"
    assert data["merchant_accounts"][0]["gui"] == "A000000677010111"
    assert {w["code"] for w in data["warnings"]} == {"missing_field"}
    for key in ("merchant_name", "merchant_city", "mcc", "country", "crc", "additional_data"):
        assert key in data


def test_parse_rejects_with_exit_2_and_error_object() -> None:
    result = runner.invoke(app, ["code", "parse", "--json", PROMPTPAY[:-1] + "0"])
    assert result.exit_code == 2
    error = json.loads(result.output)["error"]
    assert error["code"] == "crc_mismatch"
    assert error["field"] == "63"
    assert isinstance(error["offset"], int)
    assert set(error["message"]) == {"zh-CN", "en"}


def test_parse_reads_stdin_and_prints_a_table() -> None:
    result = runner.invoke(app, ["code", "parse", "-"], input=PROMPTPAY + "\n")
    assert result.exit_code == 0
    assert "promptpay" in result.output and "THB" in result.output


def test_parse_table_in_chinese_for_a_rejected_code() -> None:
    result = runner.invoke(app, ["code", "parse", "--lang", "zh-CN", "6234018780175989"])
    assert result.exit_code == 2
    assert "数字付款码不属于任何已知钱包" in result.output


def test_make_mpm_writes_a_png_that_a_decoder_reads(tmp_path: Path) -> None:
    png, svg = tmp_path / "code.png", tmp_path / "code.svg"
    result = runner.invoke(
        app,
        [
            "code",
            "make",
            "mpm",
            "--name",
            "Best Shop",
            "--city",
            "Shanghai",
            "--mcc",
            "5411",
            "--amount",
            "12.34",
            "--reference",
            "T1-0001",
            "--alt-language",
            "ZH",
            "--alt-name",
            "最佳商店",
            "--png",
            str(png),
            "--svg",
            str(svg),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = result.output.strip().splitlines()[0]
    decoded = zxingcpp.read_barcodes(Image.open(png))
    assert [d.text for d in decoded] == [payload]
    assert svg.read_text().startswith("<?xml")
    parsed = json.loads(runner.invoke(app, ["code", "parse", "--json", payload]).output)
    assert parsed["amount"] == 1234
    assert parsed["additional_data"] == {"reference_label": "T1-0001"}
    assert parsed["language_template"]["name"] == "最佳商店"


def test_make_mpm_refuses_bad_input() -> None:
    result = runner.invoke(
        app,
        ["code", "make", "mpm", "--name", "X", "--city", "Y", "--mcc", "5411", "--amount", "1.234"],
    )
    assert result.exit_code == 2
    assert "amount_too_many_decimals" in result.output


def test_make_cpm_round_trips() -> None:
    result = runner.invoke(
        app,
        [
            "code",
            "make",
            "cpm",
            "--pan",
            "6212345678901234567",
            "--cryptogram",
            "0011223344556677",
            "--atc",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = result.output.strip()
    parsed = json.loads(runner.invoke(app, ["code", "parse", "--json", payload]).output)
    assert parsed["kind"] == "emv_cpm"
    assert parsed["pan"] == "621234*********4567"
    assert parsed["applications"][0]["transparent_tags"] == ["9F26", "9F36"]
