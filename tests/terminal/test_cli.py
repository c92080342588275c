"""The command line: ``scanpay terminal ...`` and ``scanpay demo --headless``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from scanpay.cli import app
from terminal.harness import Host, free_port, process_env

runner = CliRunner()
SCANPAY = str(Path(sys.executable).parent / "scanpay")


def term(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["terminal", *args])
    return result.exit_code, result.stdout


def test_demo_headless_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [SCANPAY, "demo", "--headless", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any("vision: read QR Code" in line for line in lines)
    assert any("APPROVED" in line for line in lines)
    assert lines[-1].startswith("demo OK")
    receipt = (tmp_path / "receipt.bin").read_bytes()
    no = lines[-1].split()[3]
    assert no.encode() in receipt and receipt.startswith(b"\x1b@")
    assert (tmp_path / f"{no}.html").exists()
    assert (tmp_path / "wallet-code-photo.png").stat().st_size > 10_000


def test_demo_fails_loudly_with_a_bad_amount(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--headless", "--amount", "1.234"])
    assert result.exit_code == 2


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SCANPAY, "demo", "--headless", "--dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_env(),
    )


def test_demo_says_in_words_why_the_sale_failed(tmp_path: Path) -> None:
    """More than the demo wallet holds is declined by the host: the demo says so in a
    sentence, in the chosen language (it printed the result as a Python dict)."""
    declined = demo(tmp_path / "en", "--amount", "600")
    assert declined.returncode == 1, declined.stdout + declined.stderr
    assert declined.stderr.splitlines()[-1] == (
        "The demo stopped: The sale of 600.00 CNY was declined: Insufficient funds. "
        "The demo wallet holds 500.00 CNY: try an amount up to that."
    )
    assert "demo OK" not in declined.stdout
    chinese = demo(tmp_path / "zh", "--amount", "600", "--lang", "zh-CN")
    assert chinese.returncode == 1, chinese.stdout + chinese.stderr
    assert chinese.stderr.splitlines()[-1] == (
        "演示未完成：这笔 600.00 元的交易被拒绝：余额不足。"
        "演示钱包里有 500.00 元，请用不超过这个数的金额再试。"
    )
    # Over the till's own maximum: the terminal refuses to start the sale (this was a
    # KeyError traceback).
    refused = demo(tmp_path / "max", "--amount", "600000")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    said = refused.stderr.splitlines()[-1]
    assert said.startswith("The demo stopped: The terminal did not take the sale: ")
    assert "50,000.00" in said  # the till's maximum, in the agent's own words
    assert "Traceback" not in refused.stderr


def test_activate_operators_status_selftest_and_config(host: Host, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    code = host.new_terminal()
    rc, out = term("activate", "--host", host.url, "--code", code, "--dir", str(folder), "--json")
    assert rc == 0, out
    assert json.loads(out)["merchant"] == "Best Shop"
    assert stat.S_IMODE((folder / "terminal.json").stat().st_mode) == 0o600
    rc, out = term("activate", "--host", host.url, "--code", code, "--dir", str(folder))
    assert rc == 1  # already activated
    rc, out = term(
        "operator",
        "add",
        "--id",
        "c01",
        "--name",
        "Ann",
        "--role",
        "cashier",
        "--pin",
        "1234",
        "--dir",
        str(folder),
        "--json",
    )
    assert rc == 0 and json.loads(out)["role"] == "cashier"
    rc, out = term(
        "operator",
        "add",
        "--id",
        "c02",
        "--name",
        "Bo",
        "--pin",
        "12",
        "--dir",
        str(folder),
        "--json",
    )
    assert rc == 1 and json.loads(out)["error"]["code"] == "bad_new_pin"
    rc, out = term("operator", "list", "--dir", str(folder), "--json")
    assert [o["operator_id"] for o in json.loads(out)] == ["c01"]
    rc, out = term("status", "--dir", str(folder), "--json")
    assert rc == 0 and json.loads(out)["in_doubt"] == 0
    rc, out = term("selftest", "--dir", str(folder), "--json")
    report = json.loads(out)
    assert rc == 0, out
    assert {c["name"]: c["status"] for c in report["checks"]}["host"] == "ok"
    rc, out = term("config", "set", "unknown_deadline", "30", "--dir", str(folder))
    assert rc == 0
    rc, out = term("config", "set", "printer.kind", "file", "--dir", str(folder))
    assert rc == 0
    rc, out = term("config", "show", "--dir", str(folder), "--json")
    shown = json.loads(out)
    assert shown["unknown_deadline"] == 30 and shown["printer"]["kind"] == "file"
    assert "key" not in shown
    assert stat.S_IMODE((folder / "terminal.json").stat().st_mode) == 0o600
    rc, _ = term("config", "set", "key", "00" * 32, "--dir", str(folder))
    assert rc == 1
    rc, _ = term("config", "set", "no_such_thing", "1", "--dir", str(folder))
    assert rc == 1
    rc, out = term("recover", "--dir", str(folder), "--wait", "5", "--json")
    assert rc == 0 and json.loads(out) == {"in_doubt": 0, "reversals_waiting": 0}
    rc, out = term("journal-verify", "--dir", str(folder), "--json")
    assert rc == 0 and json.loads(out)["ok"] is True
    rc, out = term("sales", "--dir", str(folder), "--json")
    assert rc == 0 and json.loads(out) == []


def test_not_activated_is_a_clear_error(tmp_path: Path) -> None:
    rc, out = term("status", "--dir", str(tmp_path / "none"), "--json")
    assert rc == 1 and json.loads(out)["error"]["code"] == "not_activated"


def test_serve_listens_on_loopback_only(host: Host, tmp_path: Path) -> None:
    folder = tmp_path / "t"
    rc, _ = term(
        "activate", "--host", host.url, "--code", host.new_terminal(), "--dir", str(folder)
    )
    assert rc == 0
    rc, _ = term("serve", "--bind", "0.0.0.0", "--dir", str(folder))
    assert rc == 1
    port = free_port()
    proc = subprocess.Popen(
        [SCANPAY, "terminal", "serve", "--port", str(port), "--dir", str(folder)],
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < end and proc.poll() is None
                time.sleep(0.1)
        assert r.json() == {"status": "ok"}
        info = httpx.get(f"http://127.0.0.1:{port}/api/terminal").json()
        assert info["config"]["terminal_id"].startswith("T")
    finally:
        proc.terminate()
        proc.wait(10)
    assert os.path.exists(folder / "journal.db")
