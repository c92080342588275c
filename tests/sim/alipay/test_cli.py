"""``scanpay sim alipay``: its help, and a start on a free port with its demo, which the
SDK pays with; keys never printed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from alipay import AliPay

from support import ROOT

_MAIN = "import sys; from scanpay.cli import main; sys.argv[0] = 'scanpay'; main()"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["LANG"] = "C.UTF-8"
    return env


def test_help() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MAIN, "sim", "alipay", "--help"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "8620" in done.stdout and "data/sim-alipay" in done.stdout


@contextmanager
def _serving(data: Path) -> Iterator[tuple[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _MAIN, "sim", "alipay", "--port", "0", "--data", str(data)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the socket is bound
        assert "listening on http://127.0.0.1:" in first, first + (
            proc.stderr.read() if proc.stderr else ""
        )
        url = first.split(" on ")[1].split(" ")[0]
        printed = first + "".join(proc.stdout.readline() for _ in range(4))
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/sim/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "did not serve"
                time.sleep(0.05)
        yield url, printed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def test_the_command_and_its_demo(tmp_path: Path) -> None:
    data = tmp_path / "sim"
    with _serving(data) as (url, printed):
        assert "created" in printed and "demo app" in printed and "demo wallet" in printed
        demo_file = data / "demo.json"
        assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
        demo = json.loads(demo_file.read_text())
        assert "PRIVATE KEY" not in printed
        client = AliPay(
            appid=demo["app_id"],
            app_private_key_string=demo["app_private_key"],
            alipay_public_key_string=demo["alipay_public_key"],
        )
        client._gateway = url + "/gateway.do"
        code = httpx.post(f"{url}/sim/wallets/{demo['wallet_id']}/codes").json()["auth_code"]
        reply = client.api_alipay_trade_pay("DEMO1", "bar_code", code, "demo", total_amount="8.88")
        assert reply["code"] == "10000", reply
    with _serving(data) as (url, printed):
        assert "reused" in printed
        client._gateway = url + "/gateway.do"  # a new free port
        found = client.api_alipay_trade_query(out_trade_no="DEMO1")
        assert found["trade_status"] == "TRADE_SUCCESS"  # state and keys kept
