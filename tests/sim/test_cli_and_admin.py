"""``scanpay sim wechat`` starts with its demo, keeps its keys and state across restarts,
and serves its admin to loopback clients only."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from wechatpayv3 import WeChatPay, WeChatPayType

from scanpay.sim.wechat import SimSettings, create_app
from sim.common_kit import serving_command


def test_the_command_and_its_demo(tmp_path: Path) -> None:
    data = tmp_path / "sim"
    with serving_command("wechat", data, 3) as (url, printed):
        assert "created" in printed and "demo merchant" in printed and "demo wallet" in printed
        demo_file = data / "demo.json"
        assert stat.S_IMODE(demo_file.stat().st_mode) == 0o600
        demo = json.loads(demo_file.read_text())
        assert demo["api_v3_key"] not in printed and "PRIVATE KEY" not in printed
        client = WeChatPay(
            wechatpay_type=WeChatPayType.CODEPAY,
            mchid=demo["mchid"],
            private_key=demo["client_private_key"],
            cert_serial_no=demo["client_serial"],
            appid=demo["appid"],
            apiv3_key=demo["api_v3_key"],
            public_key=demo["platform"]["public_key"],
            public_key_id=demo["platform"]["public_key_id"],
        )
        client._core._gate_way = url
        code = httpx.post(f"{url}/sim/wallets/{demo['wallet_id']}/codes").json()["auth_code"]
        status, text = client.pay(
            description="demo",
            out_trade_no="DEMO1",
            amount={"total": 1234},
            payer={"auth_code": code},
            scene_info={"device_id": "POS-1"},
            pay_type=WeChatPayType.CODEPAY,
        )
        assert status == 200 and json.loads(text)["trade_state"] == "SUCCESS"
        page = httpx.get(f"{url}/sim/wallets/{demo['wallet_id']}/code").text
        assert 'class="code"' in page and "987.66" in page
    with serving_command("wechat", data, 3) as (url, printed):
        assert "reused" in printed
        client._core._gate_way = url  # a new port
        status, text = client.query(out_trade_no="DEMO1")
        assert status == 200 and json.loads(text)["trade_state"] == "SUCCESS"


def test_keys_and_state_survive_a_restart(tmp_path: Path) -> None:
    first = create_app(tmp_path)
    sim = first.state.sim
    serial, key_id = sim.keys.certificate_serial, sim.keys.public_key_id
    assert stat.S_IMODE((tmp_path / "keys" / "platform_key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    mchid = _call(first, "127.0.0.1", [("POST", "/sim/merchants")])[0].json()["mchid"]
    sim.store.close()
    again = create_app(tmp_path).state.sim
    assert (again.keys.certificate_serial, again.keys.public_key_id) == (serial, key_id)
    assert again.store.merchant(mchid) is not None
    again.store.close()


@pytest.mark.parametrize(
    "client_host, allowed", [("127.0.0.1", True), ("::1", True), ("10.1.2.3", False)]
)
def test_the_admin_is_for_loopback_only(tmp_path: Path, client_host: str, allowed: bool) -> None:
    app = create_app(SimSettings(data_dir=tmp_path))
    calls = [("POST", "/sim/merchants"), ("GET", "/sim/"), ("GET", "/sim/accounts")]
    *admin, api = _call(
        app, client_host, [*calls, ("GET", "/v3/pay/transactions/out-trade-no/X?mchid=1")]
    )
    for response in admin:
        if allowed:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "sim_not_loopback"
    assert api.status_code == 401  # the network's own API answers anyone (and wants a signature)
    app.state.sim.store.close()


def _call(app: Any, client_host: str, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """Requests straight to the ASGI app, as from ``client_host`` (no traffic leaves)."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
            return [
                await http.request(method, path, json={} if method == "POST" else None)
                for method, path in calls
            ]

    return asyncio.run(run())
