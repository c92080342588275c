"""The WeChat Pay simulator in the stack: its demo merchant and the channel to it.

The channel is direct, API v3, replies verified with the WeChat Pay public key (the
simulator's default mode); its keys are read from the simulator's ``demo.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.i18n import Text
from scanpay.stack.channels import DemoChannel
from scanpay.stack.sims import Served, SimDemo, Simulator

__all__ = ["WECHAT", "WeChatDemo", "wechat_channel"]


@dataclass(frozen=True, slots=True)
class WeChatDemo:
    """The WeChat Pay simulator's demo as the stack uses it: its merchant (whose keys
    stay in the simulator's ``demo.json``, never here) and its customer's wallet."""

    mchid: str
    appid: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def _serve(folder: Path) -> Served:
    from scanpay.sim.wechat import SimSettings, create_app
    from scanpay.sim.wechat.demo import ensure_demo

    app = create_app(SimSettings(data_dir=folder))
    demo = ensure_demo(app.state.sim)
    shown = None
    if demo is not None:
        shown = SimDemo(
            demo.mchid, demo.path, demo.wallet_id, demo.wallet_name, demo.password_above
        )
    return Served(app, app.state.sim, shown)


def wechat_channel(sim_demo_file: Path) -> DemoChannel:
    """The direct channel to the demo merchant whose ids and keys are in
    ``sim_demo_file`` (the simulator's ``demo.json``)."""
    demo: dict[str, Any] = json.loads(sim_demo_file.read_text(encoding="utf-8"))
    platform = demo["platform"]
    secrets = {
        "api": "v3",
        "private_key": demo["client_private_key"],
        "cert_serial": demo["client_serial"],
        "api_v3_key": demo["api_v3_key"],
        "wechatpay_public_key": platform["public_key"],
        "wechatpay_public_key_id": platform["public_key_id"],
    }
    return DemoChannel("wechat_pay", str(demo["appid"]), str(demo["mchid"]), secrets)


def _channel(served: Served) -> DemoChannel:
    assert served.demo is not None
    return wechat_channel(served.demo.demo_file)


def _options(sim_url: str, host_url: str | None) -> Mapping[str, str]:
    # WeChat Pay's code pay answers, or is queried: it never calls the host back.
    return {"gateway": sim_url}


WECHAT = Simulator(
    name="wechat",
    network="wechat_pay",
    port=8610,
    merchant=Text("微信支付商户 {id}", "WeChat Pay merchant {id}"),
    serve=_serve,
    channel=_channel,
    options=_options,
)
"""The WeChat Pay simulator: port 8610, ``sim-wechat``."""
