"""``scanpay run`` (what ``make run`` starts), as a newcomer runs it: in its own
process, on a fresh data directory, stopped with Ctrl-C, started again; a sale paid
with the wallet page's code and one with a WeChat Pay code of the simulator it runs."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from scanpay.stack import SIM_DIR, free_port
from terminal.harness import process_env

SCANPAY = str(Path(sys.executable).parent / "scanpay")


def _start(data: Path, host_port: int, agent_port: int, sim_port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SCANPAY, "run", "--data", str(data), "--host-port", str(host_port),
         "--agent-port", str(agent_port), "--sim-port", str(sim_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=process_env(),
    )  # fmt: skip


def _until_running(proc: subprocess.Popen[str], timeout: float = 90.0) -> str:
    assert proc.stdout is not None
    lines: list[str] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Ctrl-C stops everything"):
            return "".join(lines)
    proc.kill()
    raise AssertionError("scanpay run did not come up:\n" + "".join(lines))


def _interrupt(proc: subprocess.Popen[str]) -> tuple[int, str]:
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


def _wechat_sale(agent_port: int, sim_port: int, amount: str) -> None:
    """The README's WeChat Pay step over HTTP: a code of the simulator's demo customer
    (``curl -X POST .../sim/wallets/1/codes``) paid on the till, the network charged."""
    sim = httpx.Client(base_url=f"http://127.0.0.1:{sim_port}", trust_env=False, timeout=60)
    before = sim.get("/sim/wallets/1").json()["balance"]
    code = sim.post("/sim/wallets/1/codes").json()["auth_code"]
    till = httpx.Client(base_url=f"http://127.0.0.1:{agent_port}", trust_env=False, timeout=60)
    till.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
    no = till.post("/api/sales", json={"amount_text": amount}).json()["out_trade_no"]
    assert till.post(f"/api/sales/{no}/scan", json={"text": code}).is_success
    done = till.post(f"/api/sales/{no}/confirm", params={"wait": 30}).json()
    assert (done["state"], done["wallet"]) == ("APPROVED", "wechat_pay"), done
    fen = int(amount.replace(".", ""))
    assert sim.get("/sim/wallets/1").json()["balance"] == before - fen
    sim.close()
    till.close()


def _keys(data: Path) -> list[str]:
    """The secret values of the simulator's demo merchant (none may be printed)."""
    demo = json.loads((data / SIM_DIR / "demo.json").read_text())
    key_body = demo["client_private_key"].splitlines()[1]  # a line of the PEM's base64
    return [demo["api_v3_key"], demo["api_v2_key"], key_body]


def test_run_starts_everything_stops_on_ctrl_c_and_reuses_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    host_port, agent_port, sim_port = free_port(), free_port(), free_port()
    proc = _start(data, host_port, agent_port, sim_port)
    try:
        banner = _until_running(proc)
        assert "created data" in banner
        assert f"cashier screen   http://127.0.0.1:{agent_port}/" in banner
        assert f"wallet page      http://127.0.0.1:{host_port}/wallet/" in banner
        assert "merchant portal" in banner
        assert re.search(r"cashier\s+Ann\s+id c01\s+PIN 1234", banner)
        assert re.search(r"supervisor Sam\s+id s01\s+PIN 987654", banner)
        alice = re.search(r"wallet\s+Alice\s+account (\d{10})\s+PIN (\d{6})", banner)
        bob = re.search(r"wallet\s+Bob\s+account (\d{10})", banner)
        assert alice and bob and "balance 500.00 CNY" in banner
        assert "PIN asked above 100.00" in banner
        owner = re.search(r"portal\s+owner\s+(\S+)\s+password (\S+)", banner)
        assert owner and re.search(r"portal\s+operator\s+\S+\s+password \S+", banner)
        assert f"merchant portal  http://127.0.0.1:{host_port}/portal/" in banner
        assert f"WeChat Pay sim   http://127.0.0.1:{sim_port}/sim/" in banner
        assert f"http://127.0.0.1:{sim_port}/sim/wallets/1/code" in banner
        assert re.search(r"wechat\s+Alice\s+simulator wallet 1\s+balance 1,?000.00 CNY", banner)
        channel = re.search(r"wechat\s+channel to WeChat Pay merchant (\d+)", banner)
        assert channel

        # The printed portal login works and shows the demo merchant's pages.
        portal = httpx.Client(base_url=f"http://127.0.0.1:{host_port}", trust_env=False, timeout=60)
        page = portal.get("/portal/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        form = {"email": owner.group(1), "password": owner.group(2), "csrf": token.group(1)}
        assert portal.post("/portal/login", data=form).status_code == 303
        assert "Demo Coffee" in portal.get("/portal/today").text
        portal.close()

        # The README's first sale, over HTTP: the wallet page's code, the cashier's sale.
        wallet = httpx.Client(base_url=f"http://127.0.0.1:{host_port}", trust_env=False, timeout=60)
        login = wallet.post(
            "/wallet/v1/session", json={"account": alice.group(1), "pin": alice.group(2)}
        )
        csrf = login.json()["csrf"]
        digits = wallet.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf}).json()
        till = httpx.Client(base_url=f"http://127.0.0.1:{agent_port}", trust_env=False, timeout=60)
        assert till.get("/").status_code == 200
        till.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
        no = till.post("/api/sales", json={"amount_text": "12.34"}).json()["out_trade_no"]
        assert till.post(f"/api/sales/{no}/scan", json={"text": digits["digits"]}).is_success
        done = till.post(f"/api/sales/{no}/confirm", params={"wait": 20}).json()
        assert done["state"] == "APPROVED"
        wallet.close()
        till.close()

        # The README's WeChat Pay step: terminal -> host -> the simulator.
        _wechat_sale(agent_port, sim_port, "12.34")
    finally:
        code, out = _interrupt(proc)
    assert code == 0, out
    assert out.strip().endswith("stopped.")
    assert not [key for key in _keys(data) if key in out], "a key was printed"
    assert (data / "host.db").exists() and (data / "terminal" / "terminal.json").exists()
    assert oct((data / "demo.json").stat().st_mode & 0o777) == "0o600"

    # The second start reuses it all (new ports on purpose: the terminal follows the host,
    # and the host the simulator).
    host_port, agent_port, sim_port = free_port(), free_port(), free_port()
    proc = _start(data, host_port, agent_port, sim_port)
    try:
        banner = _until_running(proc)
        assert "reused data" in banner
        assert "balance 487.66 CNY" in banner  # 500.00 - 12.34, the first run's sale
        assert "balance 987.66 CNY" in banner  # the WeChat wallet's 1000.00 - 12.34
        assert f"WeChat Pay merchant {channel.group(1)}" in banner  # the same channel
        _wechat_sale(agent_port, sim_port, "1.00")
        status = httpx.get(
            f"http://127.0.0.1:{agent_port}/api/selftest?refresh=1", timeout=60
        ).json()
        assert {c["name"]: c["status"] for c in status["checks"]}["host"] == "ok"
    finally:
        code, out = _interrupt(proc)
    assert code == 0, out
    assert not [key for key in _keys(data) if key in out], "a key was printed"
    # The channel was left as it was: added once, never updated.
    with sqlite3.connect(data / "host.db") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert [a for a in actions if a.startswith("channel.")] == ["channel.add"]


@pytest.mark.parametrize("taken", ["--host-port", "--sim-port"])
def test_run_says_so_when_a_port_is_taken(tmp_path: Path, taken: str) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"--host-port": free_port(), "--agent-port": free_port(), "--sim-port": 0}
        ports[taken] = port
        options = [text for name, value in ports.items() for text in (name, str(value))]
        done = subprocess.run(
            [SCANPAY, "run", "--data", str(tmp_path / "data"), *options],
            capture_output=True, text=True, timeout=60, env=process_env(),
        )  # fmt: skip
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "another `scanpay run`" in done.stderr and "--sim-port" in done.stderr
    # Nothing was started, so nothing was made.
    assert not (tmp_path / "data" / SIM_DIR).exists()
