"""The agent's local JSON API for the cashier screen (FastAPI, 127.0.0.1 only).

:func:`create_app` builds the application around an :class:`~scanpay.terminal.agent.Agent`;
one router per resource (session, sales, refunds, orders, day, terminal). Every
error has one shape - ``{"error": {"code", "message": {"zh-CN", "en"}, "field"}}``
- with the status of :data:`scanpay.terminal.errors.HTTP_STATUS`. The OpenAPI
document is at ``/openapi.json`` and browsable at ``/docs``.

The cashier screen itself (:mod:`scanpay.terminal.web`) is served at ``/``.

The agent only listens on loopback. Two more guards keep other web pages in
the POS's browser from driving it: the ``Host`` header must name the loopback
host (no DNS rebinding), and a state-changing request that carries an
``Origin`` must come from the agent's own origin.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from scanpay import __version__
from scanpay.errors import ScanpayError
from scanpay.i18n import Text
from scanpay.terminal.agent import Agent
from scanpay.terminal.api import day, orders, refunds, sales, session, system
from scanpay.terminal.errors import HTTP_STATUS

__all__ = ["create_app"]

log = logging.getLogger("scanpay.terminal")

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})

# Another page in the POS's browser (or the screen opened under another address) tried
# to change something: what the cashier who meets it can do about it.
_OTHER_PAGE = Text(
    "只能在收银页面上操作：请直接打开收银页面，刷新后再试",
    "This can only be done on the cashier screen itself: open it directly, reload it and try again",
)

_DESCRIPTION = """The terminal agent's API for the cashier screen.

Log in with `POST /api/session` (operator id + PIN); send the token as
`Authorization: Bearer <token>` (or rely on the session cookie). A sale:
`POST /api/sales` -> `POST /api/sales/{no}/scan` (or `/scan-image`, `/frame`) ->
`POST /api/sales/{no}/confirm` -> follow `GET /api/sales/{no}?wait=&version=` or
`GET /api/sales/{no}/events` (server-sent events). Every sale view carries the
screen to show (`screen`: title, message, next action, buttons, countdown) in
zh-CN and en. Errors: `{"error": {"code", "message": {"zh-CN", "en"}, "field"}}`.
"""


def _error(status: int, data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": data}, status_code=status)


def create_app(agent: Agent, *, manage: bool = True) -> FastAPI:
    """The agent API around ``agent``. With ``manage`` the app starts the agent
    (recovery first) on startup and stops it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage:
            agent.start()
        try:
            yield
        finally:
            if manage:
                agent.stop()

    app = FastAPI(
        title="scanpay terminal agent",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.agent = agent

    @app.exception_handler(ScanpayError)
    async def scanpay_error(request: Request, exc: ScanpayError) -> JSONResponse:
        status = getattr(exc, "http_status", None) or HTTP_STATUS.get(exc.code, 422)
        return _error(status, exc.to_dict())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        reason = str(first.get("msg", "invalid"))
        return _error(
            422,
            {
                "code": "bad_request",
                "field": where,
                "message": {"zh-CN": f"请求无效：{reason}", "en": f"Bad request: {reason}"},
            },
        )

    @app.middleware("http")
    async def local_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in _LOCAL_HOSTS:
            return _error(
                403,
                {
                    "code": "bad_request",
                    "field": "host",
                    "message": {"zh-CN": "只接受本机访问", "en": "Local access only"},
                },
            )
        origin = request.headers.get("origin")
        cross_site = origin and urlsplit(origin).netloc != request.headers.get("host")
        if cross_site and request.method not in ("GET", "HEAD", "OPTIONS"):
            return _error(
                403,
                {
                    "code": "bad_request",
                    "field": "origin",
                    "message": _OTHER_PAGE.as_dict(),
                },
            )
        return await call_next(request)

    for module in (session, sales, refunds, orders, day, system):
        app.include_router(module.router)
    from scanpay.terminal import web

    web.install(app)  # the cashier screen at /, its assets under /ui/
    return app
