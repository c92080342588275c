"""The Alipay simulator in the stack: its demo app and the channel to it.

The channel is direct, public-key mode: the app's private key and Alipay's public key,
read from the simulator's ``demo.json``; ``mch_id`` is the app's pid (its seller), as
the simulator keeps it. The host names its notify URL in each pay request, so the
simulator tells the host at once when a customer confirms with their password.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scanpay.i18n import Text
from scanpay.stack.channels import DemoChannel
from scanpay.stack.loopback import StackError
from scanpay.stack.sims import Served, SimDemo, Simulator

__all__ = ["ALIPAY", "DEMO_CUSTOMER"]

DEMO_CUSTOMER = "Carol"
"""The Alipay demo customer's name: another person than WeChat Pay's Alice."""


def _serve(folder: Path) -> Served:
    from scanpay.sim.alipay import SimSettings, create_app
    from scanpay.sim.alipay.demo import ensure_demo

    app = create_app(SimSettings(data_dir=folder))
    demo = ensure_demo(app.state.sim, wallet_name=DEMO_CUSTOMER)
    shown = None
    if demo is not None:
        shown = SimDemo(
            demo.app_id, demo.path, demo.wallet_id, demo.wallet_name, demo.password_above
        )
    return Served(app, app.state.sim, shown)


def _channel(served: Served) -> DemoChannel:
    assert served.demo is not None
    demo: dict[str, Any] = json.loads(served.demo.demo_file.read_text(encoding="utf-8"))
    app_id = str(demo["app_id"])
    app = served.state.store.app(app_id)
    if app is None:
        raise StackError(f"the Alipay simulator's demo app {app_id} is gone: delete its folder")
    secrets = {
        "app_private_key": demo["app_private_key"],
        "alipay_public_key": demo["alipay_public_key"],
    }
    return DemoChannel("alipay", app_id, str(app.pid), secrets)


def _options(sim_url: str, host_url: str | None) -> Mapping[str, str]:
    options = {"gateway": sim_url + "/gateway.do"}
    if host_url is not None:
        options["notify_url"] = host_url + "/networks/alipay/notify"
    return options


ALIPAY = Simulator(
    name="alipay",
    network="alipay",
    port=8620,
    merchant=Text("支付宝应用 {id}", "Alipay app {id}"),
    serve=_serve,
    channel=_channel,
    options=_options,
)
"""The Alipay simulator: port 8620, ``sim-alipay``."""
