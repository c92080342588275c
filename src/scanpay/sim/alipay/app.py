"""The Alipay simulator's ASGI app: its state and keys opened on a data folder.

``DATA/alipay.sqlite3`` is the state, ``DATA/keys/`` the network's keys (made on
first start). ``/gateway.do`` is the open-platform gateway, ``/downloadBillFile.resource``
serves bills, the admin and pages are under ``/sim/…`` (loopback only). While it
serves, a task delivers the asynchronous notifications.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scanpay.sim.alipay.admin import admin_router
from scanpay.sim.alipay.bills_api import bills_router
from scanpay.sim.alipay.context import Sim, SimSettings
from scanpay.sim.alipay.gateway import gateway_router
from scanpay.sim.alipay.keys import load_or_create
from scanpay.sim.alipay.notify import Deliverer, delivering
from scanpay.sim.alipay.pages import pages_router
from scanpay.sim.alipay.store import Store
from scanpay.sim.alipay.trades import Network
from scanpay.sim.wechat.accounts import SimError
from scanpay.sim.wechat.clock import Clock, SystemClock
from scanpay.sim.wechat.delivery import DropReply
from scanpay.sim.wechat.keys import new_key

__all__ = ["DATABASE", "SimSettings", "create_app", "open_sim"]

DATABASE = "alipay.sqlite3"


def open_sim(settings: SimSettings, clock: Clock | None = None) -> Sim:
    """The simulator's state, rules and keys on ``settings.data_dir`` (made if new)."""
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # keys and apps' private keys (demo.json) live here
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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with delivering(deliverer):
            yield
        sim.store.close()

    app = FastAPI(
        title="scanpay Alipay simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.include_router(gateway_router(sim))
    app.include_router(bills_router(sim))
    app.include_router(admin_router(sim))
    app.include_router(pages_router(sim))

    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> Response:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)

    return DropReply(app)
