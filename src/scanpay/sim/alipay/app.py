"""The Alipay simulator's ASGI app: its state and keys opened on a data folder.

``DATA/alipay.sqlite3`` is the state, ``DATA/keys/`` the network's keys (made on
first start). ``/gateway.do`` is the open-platform gateway, ``/downloadBillFile.resource``
serves bills, the admin and pages are under ``/sim/…`` (loopback only). While it
serves, a task delivers the asynchronous notifications.
"""

from __future__ import annotations

from pathlib import Path

from scanpay.sim.alipay.admin import admin_router
from scanpay.sim.alipay.bills_api import bills_router
from scanpay.sim.alipay.context import Sim, SimSettings
from scanpay.sim.alipay.gateway import gateway_router
from scanpay.sim.alipay.keys import load_or_create
from scanpay.sim.alipay.notify import Deliverer
from scanpay.sim.alipay.pages import pages_router
from scanpay.sim.alipay.store import Store
from scanpay.sim.alipay.trades import Network
from scanpay.sim.common.clock import Clock, SystemClock
from scanpay.sim.common.delivery import DropReply
from scanpay.sim.common.keys import new_key
from scanpay.sim.common.notify import lifespan_delivering
from scanpay.sim.common.serving import data_folder, sim_app

__all__ = ["DATABASE", "SimSettings", "create_app", "open_sim"]

DATABASE = "alipay.sqlite3"


def open_sim(settings: SimSettings, clock: Clock | None = None) -> Sim:
    """The simulator's state, rules and keys on ``settings.data_dir`` (made if new)."""
    folder = data_folder(settings)
    clock = clock or SystemClock()
    keys = load_or_create(folder / "keys", clock.now())
    store = Store(folder / DATABASE)
    return Sim(
        settings=settings,
        store=store,
        network=Network(store, clock, settings.code_ttl),
        keys=keys,
        wrong_key=new_key(),
    )


def create_app(settings: SimSettings | Path | str, clock: Clock | None = None) -> DropReply:
    """The ASGI app to serve (``app.state.sim`` is its :class:`Sim`)."""
    if not isinstance(settings, SimSettings):
        settings = SimSettings(data_dir=Path(settings))
    sim = open_sim(settings, clock)
    deliverer = Deliverer(
        sim.store, sim.network.clock, sim.keys.alipay_key, settle=sim.network.settle_all
    )

    app = sim_app(
        "scanpay Alipay simulator",
        sim,
        [gateway_router(sim), bills_router(sim), admin_router(sim), pages_router(sim)],
        lifespan_delivering(deliverer, sim.store.close),
    )
    return DropReply(app)
