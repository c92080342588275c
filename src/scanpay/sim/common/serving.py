"""Serving a simulator: its data folder, its FastAPI app, and the loopback-only guard.

Every simulator is one FastAPI app (no docs pages) with ``app.state.sim`` holding its
state, its :class:`~scanpay.sim.common.errors.SimError` answered as JSON with the
error's status, and its ``/sim/...`` admin and pages served to loopback clients only
(unless its settings say ``admin_anywhere``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scanpay.i18n import Text
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.settings import SimSettings

__all__ = ["HasSettings", "data_folder", "loopback_only", "sim_app"]


class HasSettings(Protocol):
    """A simulator as the guard needs it: its settings."""

    @property
    def settings(self) -> SimSettings: ...


def data_folder(settings: SimSettings) -> Path:
    """``settings.data_dir``, made if new and closed to others (keys and secrets live there)."""
    folder = Path(settings.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def loopback_only(sim: HasSettings) -> Callable[[Request], None]:
    """A route dependency refusing (403) a client not on loopback, unless ``admin_anywhere``."""

    def check(request: Request) -> None:
        if sim.settings.admin_anywhere:
            return
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host in ("testclient", "localhost")
        if not loopback:
            raise SimError(
                "sim_not_loopback",
                Text(
                    "模拟器的管理接口只对本机开放",
                    "the simulator's admin is for loopback clients only",
                ),
                403,
            )

    return check


def sim_app(
    title: str,
    sim: object,
    routers: Iterable[APIRouter],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
) -> FastAPI:
    """The FastAPI app of a simulator ``sim`` (kept in ``app.state.sim``) with ``routers``."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.sim = sim
    for router in routers:
        app.include_router(router)

    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> Response:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)

    return app
