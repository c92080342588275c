"""``scanpay sim alipay``: its help, and a start on a free port with its demo, which the
SDK pays with; keys never printed."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import httpx
from alipay import AliPay

from sim.common_kit import command_env, serving_command, sim_command


def test_help() -> None:
    done = subprocess.run(
        sim_command("alipay", "--help"),
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "8620" in done.stdout and "data/sim-alipay" in done.stdout


def test_the_command_and_its_demo(tmp_path: Path) -> None:
    data = tmp_path / "sim"
    with serving_command("alipay", data, 4) as (url, printed):
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
    with serving_command("alipay", data, 4) as (url, printed):
        assert "reused" in printed
        client._gateway = url + "/gateway.do"  # a new free port
        found = client.api_alipay_trade_query(out_trade_no="DEMO1")
        assert found["trade_status"] == "TRADE_SUCCESS"  # state and keys kept
