"""``scanpay sim unionpay``: its help, a start on a free port with its demo (which the
adapter pays with; keys never printed); docs/networks.md describes every route and
outcome; the admin serves loopback clients only."""

from __future__ import annotations

import json
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx

from scanpay.networks import Channel, ChannelMode, Outcome, PayRequest, TradeState
from scanpay.networks.unionpay import Timeouts, UnionPayNetwork, UnionPaySettings
from scanpay.sim.unionpay import SimSettings, create_app
from scanpay.sim.unionpay.outcomes import DESCRIPTIONS
from scanpay.sim.unionpay.outcomes import Outcome as SimOutcome
from sim.common_kit import (
    admin_status,
    assert_documented,
    command_env,
    serving_command,
    sim_command,
)
from support import ROOT

DOC = (ROOT / "docs" / "networks.md").read_text()
SECTION = DOC[DOC.index("## The UnionPay simulator") :]


def test_help() -> None:
    done = subprocess.run(
        sim_command("unionpay", "--help"),
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout and "8630" in done.stdout
    assert "data/sim-unionpay" in done.stdout


def _adapter(url: str, demo: dict[str, str]) -> tuple[UnionPayNetwork, Channel]:
    settings = UnionPaySettings(
        gateway=url,
        back_url="http://127.0.0.1:9/back",
        timeouts=Timeouts(pay=60, query=60, reverse=60, refund=60, statement=60),
        expected_cn=demo["expected_cn"],
    )
    secrets = {k: demo[k] for k in ("sign_key", "sign_cert", "root_cert", "middle_cert")}
    mer_id = demo["mer_id"]
    return UnionPayNetwork(settings), Channel(
        "unionpay", ChannelMode.DIRECT, mer_id, mer_id, secrets=secrets
    )


def test_the_command_and_its_demo(tmp_path: Path) -> None:
    data = tmp_path / "sim"
    placed = datetime.now(UTC)
    with serving_command("unionpay", data, 4) as (url, printed):
        assert "created" in printed and "demo merchant" in printed and "demo wallet" in printed
        demo_file = data / "demo.json"
        assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
        demo = json.loads(demo_file.read_text())
        assert "PRIVATE KEY" not in printed and demo["sign_key"] not in printed
        code = httpx.post(f"{url}/sim/wallets/{demo['wallet_id']}/codes").json()["auth_code"]
        network, channel = _adapter(url, demo)
        with network:
            request = PayRequest(
                channel, "DEMO00000001", code, 888, "CNY", "demo", placed_at=placed
            )
            assert network.pay(request).outcome is Outcome.APPROVED
    with serving_command("unionpay", data, 4) as (url, printed):
        assert "reused" in printed
        network, channel = _adapter(url, demo)  # a new free port; state and keys kept
        with network:
            assert network.query(channel, "DEMO00000001", placed).state is TradeState.PAID


def test_every_route_and_outcome_is_documented(tmp_path: Path) -> None:
    assert_documented(
        create_app(tmp_path),
        SECTION,
        SimOutcome,
        DESCRIPTIONS,
        lambda path: path.startswith("/gateway/"),
    )


def test_the_admin_is_for_loopback_clients_only(tmp_path: Path) -> None:
    app = create_app(SimSettings(data_dir=tmp_path / "sim"))
    assert admin_status(app, "127.0.0.1", "/sim/merchants") == 200
    assert admin_status(app, "192.0.2.7", "/sim/merchants") == 403
    app.state.sim.store.close()
