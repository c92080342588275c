"""The UnionPay simulator's ASGI app: its state and keys opened on a data folder.

``DATA/unionpay.sqlite3`` is the state, ``DATA/keys/`` the network's chain and signing
key (made on first start). ``/gateway/api/…`` is ACP's gateway, the admin and pages
are under ``/sim/…`` (loopback only). While it serves, a task delivers the ``backUrl``
notifications.
"""

from __future__ import annotations

from pathlib import Path

from scanpay.sim.common.clock import Clock, SystemClock
from scanpay.sim.common.delivery import DropReply
from scanpay.sim.common.keys import new_key
from scanpay.sim.common.notify import lifespan_delivering
from scanpay.sim.common.serving import data_folder, sim_app
from scanpay.sim.unionpay.admin import admin_router
from scanpay.sim.unionpay.context import Sim, SimSettings
from scanpay.sim.unionpay.gateway import gateway_router
from scanpay.sim.unionpay.keys import load_or_create
from scanpay.sim.unionpay.notify import Deliverer
from scanpay.sim.unionpay.orders import Network
from scanpay.sim.unionpay.pages import pages_router
from scanpay.sim.unionpay.store import Store

__all__ = ["DATABASE", "SimSettings", "create_app", "open_sim"]

DATABASE = "unionpay.sqlite3"


def open_sim(settings: SimSettings, clock: Clock | None = None) -> Sim:
    """The simulator's state, rules and keys on ``settings.data_dir`` (made if new)."""
    folder = data_folder(settings)
    clock = clock or SystemClock()
    keys = load_or_create(folder / "keys", clock.now(), settings.expected_cn)
    store = Store(folder / DATABASE)
    return Sim(
        settings=settings,
        store=store,
        network=Network(store, clock, settings.code_ttl, settings.pay_deadline),
        keys=keys,
        wrong_key=new_key(),
    )


def create_app(settings: SimSettings | Path | str, clock: Clock | None = None) -> DropReply:
    """The ASGI app to serve (``app.state.sim`` is its :class:`Sim`)."""
    if not isinstance(settings, SimSettings):
        settings = SimSettings(data_dir=Path(settings))
    sim = open_sim(settings, clock)
    deliverer = Deliverer(
        sim.store,
        sim.network.clock,
        sim.keys,
        sim.keys.sign_key,
        settle=sim.network.settle_all,
    )

    app = sim_app(
        "scanpay UnionPay simulator",
        sim,
        [gateway_router(sim), admin_router(sim), pages_router(sim)],
        lifespan_delivering(deliverer, sim.store.close),
    )
    return DropReply(app)
