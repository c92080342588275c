"""docs/networks.md describes every route and outcome of the Alipay simulator; its admin
serves loopback clients only; delivery faults shape the reply as chosen."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from scanpay.sim.alipay import SimSettings, create_app
from scanpay.sim.alipay.outcomes import DESCRIPTIONS, Outcome
from sim.alipay.kit import RunningSim
from sim.common_kit import admin_status, assert_documented
from support import ROOT

DOC = (ROOT / "docs" / "networks.md").read_text()
SECTION = DOC[DOC.index("## The Alipay simulator") :]


def test_every_route_and_outcome_is_documented(tmp_path: Path) -> None:
    assert_documented(
        create_app(tmp_path), SECTION, Outcome, DESCRIPTIONS, lambda path: path == "/gateway.do"
    )


def test_the_admin_is_for_loopback_clients_only(tmp_path: Path) -> None:
    app = create_app(SimSettings(data_dir=tmp_path / "sim"))
    assert admin_status(app, "127.0.0.1", "/sim/apps") == 200
    assert admin_status(app, "192.0.2.7", "/sim/apps") == 403
    app.state.sim.store.close()


def test_outcomes_list_and_bad_outcomes(sim: RunningSim) -> None:
    listed = sim.admin("GET", "/sim/outcomes")
    assert {o["name"] for o in listed} == {o.value for o in Outcome}
    buyer = sim.wallet(100)
    refused = sim.http.post(
        f"{sim.url}/sim/wallets/{buyer['wallet_id']}/codes",
        json={"outcome": "DECLINE", "sub_code": "ACQ.MADE_UP"},
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "sim_bad_outcome"


def test_a_reply_never_sent_after_the_charge(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(1_000)
    code = sim.code(buyer["wallet_id"], "CHARGED_NO_REPLY", seconds=60)
    biz = {
        "out_trade_no": "D1",
        "scene": "bar_code",
        "auth_code": code,
        "subject": "x",
        "total_amount": "1.00",
    }
    with pytest.raises(httpx.ReadTimeout):
        sim.call(shop, "alipay.trade.pay", biz, timeout=1.0)
    _, node = sim.call(shop, "alipay.trade.query", {"out_trade_no": "D1"})
    assert node["trade_status"] == "TRADE_SUCCESS"
    assert sim.balance(buyer["wallet_id"]) == 900
    text, node = sim.call(shop, "alipay.trade.query", {"out_trade_no": "D1"})
    assert json.loads(text)["sign"]
