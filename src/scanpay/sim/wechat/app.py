"""The simulator's ASGI app: its state and keys opened on a data folder, every route mounted.

``DATA/wechat.sqlite3`` is the state, ``DATA/keys/`` the network's keys (made on first
start). API v3 under ``/v3/…``, API v2 under ``/pay/…`` and ``/secapi/…``, the admin
and pages under ``/sim/…`` (loopback only). While it serves, a task finishes the
refunds whose time came and delivers the refund callbacks.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scanpay.sim.common.clock import Clock, SystemClock
from scanpay.sim.common.delivery import DropReply
from scanpay.sim.common.keys import new_key
from scanpay.sim.common.notify import lifespan_delivering
from scanpay.sim.common.serving import data_folder, sim_app
from scanpay.sim.wechat import callbacks, returns
from scanpay.sim.wechat.admin import admin_router
from scanpay.sim.wechat.context import Sim, SimSettings
from scanpay.sim.wechat.keys import load_or_create
from scanpay.sim.wechat.pages import pages_router
from scanpay.sim.wechat.payments import Network
from scanpay.sim.wechat.store import Store
from scanpay.sim.wechat.v2 import v2_router
from scanpay.sim.wechat.v3 import v3_router
from scanpay.sim.wechat.v3back_office import v3_back_office_router

__all__ = ["DATABASE", "SimSettings", "create_app", "open_sim"]

DATABASE = "wechat.sqlite3"


def open_sim(settings: SimSettings, clock: Clock | None = None) -> Sim:
    """The simulator's state, rules and keys on ``settings.data_dir`` (made if new)."""
    folder = data_folder(settings)
    clock = clock or SystemClock()
    keys, _ = load_or_create(folder / "keys", clock.now())
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

    def settle() -> None:
        sim.network.settle_all()
        returns.finish_due(sim.network)

    deliverer = callbacks.deliverer(sim, settle)

    app = sim_app(
        "scanpay WeChat Pay simulator",
        sim,
        [
            v3_router(sim),
            v3_back_office_router(sim),
            v2_router(sim),
            admin_router(sim),
            pages_router(sim),
        ],
        lifespan_delivering(deliverer, sim.store.close),
    )

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        # WeChat's shape for an unknown path or method, rather than FastAPI's.
        code = "RESOURCE_NOT_EXISTS" if exc.status_code == 404 else "INVALID_REQUEST"
        return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code)

    return DropReply(app)
