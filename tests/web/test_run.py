"""``scanpay run`` (what ``make run`` starts), as a newcomer runs it: in its own
process, on a fresh data directory, stopped with Ctrl-C, started again (in Chinese),
started once more after the Alipay and UnionPay simulators' data was deleted; a sale
paid with the wallet page's code, and sales with a WeChat Pay, an Alipay and a UnionPay
code of the simulators it runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scanpay.stack import ALIPAY, SIM_DIR, UNIONPAY, free_port
from terminal.harness import process_env

SCANPAY = str(Path(sys.executable).parent / "scanpay")


#: The locale a run speaks: its summary and messages in English or in Chinese.
LOCALES = {"en": "C.UTF-8", "zh-CN": "zh_CN.UTF-8"}


@dataclass(frozen=True)
class Ports:
    host: int
    agent: int
    wechat: int
    alipay: int
    unionpay: int

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())


def _env(language: str = "en") -> dict[str, str]:
    return {**process_env(), "LC_ALL": LOCALES[language]}


def _start(data: Path, ports: Ports, language: str = "en") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [SCANPAY, "run", "--data", str(data), "--host-port", str(ports.host),
         "--agent-port", str(ports.agent), "--sim-port", str(ports.wechat),
         "--alipay-port", str(ports.alipay), "--unionpay-port", str(ports.unionpay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(language),
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
        if line.startswith("Ctrl-C "):  # the summary's last line, in either language
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


def _alipay_sale(agent_port: int, alipay_port: int, amount: str) -> None:
    """The README's Alipay step over HTTP: a code of the Alipay simulator's demo customer
    (``curl -X POST .../sim/wallets/1/codes``) paid on the till, the app credited."""
    sim = httpx.Client(base_url=f"http://127.0.0.1:{alipay_port}", trust_env=False, timeout=60)
    before = sim.get("/sim/wallets/1").json()["balance"]
    [app] = sim.get("/sim/apps").json()
    takings = app["balance"]
    code = sim.post("/sim/wallets/1/codes").json()["auth_code"]
    till = httpx.Client(base_url=f"http://127.0.0.1:{agent_port}", trust_env=False, timeout=60)
    till.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
    no = till.post("/api/sales", json={"amount_text": amount}).json()["out_trade_no"]
    assert till.post(f"/api/sales/{no}/scan", json={"text": code}).is_success
    done = till.post(f"/api/sales/{no}/confirm", params={"wait": 30}).json()
    assert (done["state"], done["wallet"]) == ("APPROVED", "alipay"), done
    fen = int(amount.replace(".", ""))
    assert sim.get("/sim/wallets/1").json()["balance"] == before - fen
    assert sim.get(f"/sim/apps/{app['app_id']}").json()["balance"] > takings
    sim.close()
    till.close()


def _unionpay_sale(agent_port: int, unionpay_port: int, amount: str) -> None:
    """The README's UnionPay step over HTTP: a code of the UnionPay simulator's demo
    customer (``curl -X POST .../sim/wallets/1/codes``, 19 digits starting 62) paid on
    the till, the merchant credited."""
    sim = httpx.Client(base_url=f"http://127.0.0.1:{unionpay_port}", trust_env=False, timeout=60)
    before = sim.get("/sim/wallets/1").json()["balance"]
    [merchant] = sim.get("/sim/merchants").json()
    takings = merchant["balance"]
    code = sim.post("/sim/wallets/1/codes").json()["auth_code"]
    assert re.fullmatch(r"62\d{17}", code)
    till = httpx.Client(base_url=f"http://127.0.0.1:{agent_port}", trust_env=False, timeout=60)
    till.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
    no = till.post("/api/sales", json={"amount_text": amount}).json()["out_trade_no"]
    assert till.post(f"/api/sales/{no}/scan", json={"text": code}).is_success
    done = till.post(f"/api/sales/{no}/confirm", params={"wait": 30}).json()
    # The code's wallet is UnionPay QuickPass (云闪付); the host took it to network unionpay.
    assert (done["state"], done["wallet"]) == ("APPROVED", "unionpay_quickpass"), done
    assert done["wallet_name"] == {"zh-CN": "云闪付", "en": "UnionPay QuickPass"}
    fen = int(amount.replace(".", ""))
    assert sim.get("/sim/wallets/1").json()["balance"] == before - fen
    assert sim.get(f"/sim/merchants/{merchant['mer_id']}").json()["balance"] == takings + fen
    sim.close()
    till.close()


def _keys(data: Path) -> list[str]:
    """The secret values of the simulators' demo merchants (none may be printed)."""
    demo = json.loads((data / SIM_DIR / "demo.json").read_text())
    key_body = demo["client_private_key"].splitlines()[1]  # a line of the PEM's base64
    alipay = json.loads((data / ALIPAY.folder / "demo.json").read_text())
    app_key = alipay["app_private_key"].splitlines()[1]
    unionpay = json.loads((data / UNIONPAY.folder / "demo.json").read_text())
    sign_key = unionpay["sign_key"].splitlines()[1]
    return [demo["api_v3_key"], demo["api_v2_key"], key_body, app_key, sign_key]


def _channel_changes(data: Path) -> list[tuple[str, str]]:
    """The audit log's channel entries: (action, merchant/network)."""
    with sqlite3.connect(data / "host.db") as db:
        rows = db.execute("SELECT action, subject_id FROM audit_log ORDER BY seq").fetchall()
    return [(action, subject) for action, subject in rows if action.startswith("channel.")]


def test_run_starts_everything_stops_on_ctrl_c_and_reuses_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ports = Ports.free()
    host_port, agent_port, sim_port = ports.host, ports.agent, ports.wechat
    proc = _start(data, ports)
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
        assert f"Alipay sim       http://127.0.0.1:{ports.alipay}/sim/" in banner
        assert f"http://127.0.0.1:{ports.alipay}/sim/wallets/1/code" in banner
        assert re.search(r"alipay\s+Carol\s+simulator wallet 1\s+balance 1,?000.00 CNY", banner)
        app = re.search(r"alipay\s+channel to Alipay app (\d{16})", banner)
        assert app
        assert f"UnionPay sim     http://127.0.0.1:{ports.unionpay}/sim/" in banner
        assert f"http://127.0.0.1:{ports.unionpay}/sim/wallets/1/code" in banner
        assert re.search(r"unionpay\s+Dave\s+simulator wallet 1\s+balance 1,?000.00 CNY", banner)
        mer = re.search(r"unionpay\s+channel to UnionPay merchant (\w{15})\b", banner)
        assert mer
        merchant = re.search(r"merchant Demo Coffee \((M\d+)\)", banner)
        assert merchant

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

        # The README's WeChat Pay, Alipay and UnionPay steps: terminal -> host -> each
        # simulator.
        _wechat_sale(agent_port, sim_port, "12.34")
        _alipay_sale(agent_port, ports.alipay, "12.34")
        _unionpay_sale(agent_port, ports.unionpay, "12.34")
    finally:
        code, out = _interrupt(proc)
    assert code == 0, out
    assert out.strip().endswith("stopped.")
    assert not [key for key in _keys(data) if key in out], "a key was printed"
    assert (data / "host.db").exists() and (data / "terminal" / "terminal.json").exists()
    assert oct((data / "demo.json").stat().st_mode & 0o777) == "0o600"

    # The second start reuses it all (new ports on purpose: the terminal follows the host,
    # and the host the simulators), speaking Chinese as a zh_CN locale asks.
    ports = Ports.free()
    proc = _start(data, ports, "zh-CN")
    try:
        banner = _until_running(proc)
        assert "沿用数据" in banner
        assert f"支付宝模拟器     http://127.0.0.1:{ports.alipay}/sim/" in banner
        assert f"银联模拟器       http://127.0.0.1:{ports.unionpay}/sim/" in banner
        assert "余额 487.66 CNY" in banner  # 500.00 - 12.34, the first run's sale
        assert re.search(r"wechat\s+Alice\s+模拟器钱包 1\s+余额 987.66 CNY", banner)
        assert re.search(r"alipay\s+Carol\s+模拟器钱包 1\s+余额 987.66 CNY", banner)
        assert re.search(r"unionpay\s+Dave\s+模拟器钱包 1\s+余额 987.66 CNY", banner)
        assert f"微信支付商户 {channel.group(1)}" in banner  # the same channels
        assert f"支付宝应用 {app.group(1)}" in banner
        assert f"银联商户 {mer.group(1)}" in banner
        _wechat_sale(ports.agent, ports.wechat, "1.00")
        _alipay_sale(ports.agent, ports.alipay, "1.00")
        status = httpx.get(
            f"http://127.0.0.1:{ports.agent}/api/selftest?refresh=1", timeout=60
        ).json()
        assert {c["name"]: c["status"] for c in status["checks"]}["host"] == "ok"
    finally:
        code, out = _interrupt(proc)
    assert code == 0, out
    assert out.strip().endswith("已停止。")
    assert not [key for key in _keys(data) if key in out], "a key was printed"
    # The channels were left as they were: each added once, never updated.
    m = merchant.group(1)
    added = [("channel.add", f"{m}/{network}") for network in ("wechat_pay", "alipay", "unionpay")]
    assert _channel_changes(data) == added

    # The Alipay and UnionPay simulators' data made anew: a new app and merchant, new
    # keys; the channels follow.
    shutil.rmtree(data / ALIPAY.folder)
    shutil.rmtree(data / UNIONPAY.folder)
    ports = Ports.free()
    proc = _start(data, ports)
    try:
        banner = _until_running(proc)
        assert "reused data" in banner
        again = re.search(r"alipay\s+channel to Alipay app (\d{16})", banner)
        assert again and again.group(1) != app.group(1)
        assert re.search(r"alipay\s+Carol\s+simulator wallet 1\s+balance 1,?000.00 CNY", banner)
        new_mer = re.search(r"unionpay\s+channel to UnionPay merchant (\w{15})\b", banner)
        assert new_mer and new_mer.group(1) != mer.group(1)
        assert re.search(r"unionpay\s+Dave\s+simulator wallet 1\s+balance 1,?000.00 CNY", banner)
        _alipay_sale(ports.agent, ports.alipay, "2.00")
        _unionpay_sale(ports.agent, ports.unionpay, "2.00")
    finally:
        code, out = _interrupt(proc)
    assert code == 0, out
    assert not [key for key in _keys(data) if key in out], "a key was printed"
    updated = [("channel.update", f"{m}/alipay"), ("channel.update", f"{m}/unionpay")]
    assert _channel_changes(data) == [*added, *updated]


@pytest.mark.parametrize("taken", ["--host-port", "--sim-port", "--alipay-port", "--unionpay-port"])
def test_run_says_so_when_a_port_is_taken(tmp_path: Path, taken: str) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {
            "--host-port": free_port(),
            "--agent-port": free_port(),
            "--sim-port": 0,
            "--alipay-port": 0,
            "--unionpay-port": 0,
        }
        ports[taken] = port
        options = [text for name, value in ports.items() for text in (name, str(value))]
        done = subprocess.run(
            [SCANPAY, "run", "--data", str(tmp_path / "data"), *options],
            capture_output=True, text=True, timeout=60, env=_env(),
        )  # fmt: skip
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "another `scanpay run`" in done.stderr and taken in done.stderr
    # Nothing was started, so nothing was made.
    assert not (tmp_path / "data" / SIM_DIR).exists()
    assert not (tmp_path / "data" / ALIPAY.folder).exists()
    assert not (tmp_path / "data" / UNIONPAY.folder).exists()
