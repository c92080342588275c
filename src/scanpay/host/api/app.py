"""The host's FastAPI application factory (no engine or settings at import time)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from scanpay import __version__
from scanpay.host.api.errors import install_error_handlers
from scanpay.host.api.routers import payments, terminals, transactions, wallet
from scanpay.host.api.security import SignedEnvelope
from scanpay.host.clock import Clock
from scanpay.host.db.migrate import upgrade
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger("scanpay.host")

_DESCRIPTION = """The acquiring host's API.

Every `/v1/` request except activation is signed by the terminal (headers
`X-Scanpay-Terminal`, `-Timestamp`, `-Nonce`, `-Signature`: hex HMAC-SHA256 with
the terminal key over `METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`)
and carries `X-Scanpay-Software-Version`. Every answer, errors included, is
signed back over `STATUS\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`. Errors have one
shape, `ErrorBody`, with a stable result code.
"""


def create_app(
    settings: HostSettings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> FastAPI:
    """The host application. The database is opened (and migrated) at startup.

    ``clock`` replaces the system clock (tests move time with a ManualClock).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = HostContext.open(settings or HostSettings.from_env(), clock)
        if migrate:
            revision = await run_in_threadpool(upgrade, ctx.db)
            log.info("database at revision %s (%s)", revision, ctx.db.dialect)
        app.state.ctx = ctx
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="scanpay host",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(SignedEnvelope)
    for module in (terminals, payments, transactions, wallet):
        app.include_router(module.router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from the environment."""
    return create_app(HostSettings.from_env())
