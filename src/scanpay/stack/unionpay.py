"""The UnionPay QR simulator in the stack: its demo merchant and the channel to it.

The channel is direct: ``app_id`` and ``mch_id`` are both the merchant's merId (the
adapter wants them equal), its secrets the signing key and certificate and the chain
replies are checked with, read from the simulator's ``demo.json``. ACP names a
``backUrl`` in every transaction, so the host always has one: its own notify URL, or
one the simulator never calls when it cannot reach the host (over TLS).
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

__all__ = ["DEMO_CUSTOMER", "UNIONPAY"]

DEMO_CUSTOMER = "Dave"
"""The UnionPay demo customer's name: another person than Alice and Carol."""

_SECRETS = ("sign_key", "sign_cert", "root_cert", "middle_cert")

# ACP requires a backUrl; a reserved name (RFC 2606) is not loopback, so the simulator
# records its notifications unsent and the host's own queries settle each sale.
_NOWHERE = "https://scanpay.invalid/networks/unionpay/notify"


def _serve(folder: Path) -> Served:
    from scanpay.sim.unionpay import SimSettings, create_app
    from scanpay.sim.unionpay.demo import ensure_demo

    app = create_app(SimSettings(data_dir=folder))
    demo = ensure_demo(app.state.sim, wallet_name=DEMO_CUSTOMER)
    shown = None
    if demo is not None:
        shown = SimDemo(
            demo.mer_id, demo.path, demo.wallet_id, demo.wallet_name, demo.password_above
        )
    return Served(app, app.state.sim, shown)


def _channel(served: Served) -> DemoChannel:
    assert served.demo is not None
    demo: dict[str, Any] = json.loads(served.demo.demo_file.read_text(encoding="utf-8"))
    mer_id = str(demo["mer_id"])
    if served.state.store.merchant(mer_id) is None:
        raise StackError(
            f"the UnionPay simulator's demo merchant {mer_id} is gone: delete its folder"
        )
    secrets = {name: str(demo[name]) for name in _SECRETS}
    return DemoChannel("unionpay", mer_id, mer_id, secrets)


def _options(sim_url: str, host_url: str | None) -> Mapping[str, str]:
    from scanpay.sim.unionpay.context import SIM_CN

    back_url = _NOWHERE if host_url is None else host_url + "/networks/unionpay/notify"
    # The simulator's certificate names its own CN, never UnionPay's: say which.
    return {"gateway": sim_url, "back_url": back_url, "expected_cn": SIM_CN}


UNIONPAY = Simulator(
    name="unionpay",
    network="unionpay",
    port=8630,
    merchant=Text("银联商户 {id}", "UnionPay merchant {id}"),
    serve=_serve,
    channel=_channel,
    options=_options,
)
"""The UnionPay QR simulator: port 8630, ``sim-unionpay``."""
