"""The host's FastAPI application factory (no engine or settings at import time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from scanpay import __version__
from scanpay.host.api.errors import install_error_handlers
from scanpay.host.api.observability import RequestContext
from scanpay.host.api.openapi import install_openapi, operation_id
from scanpay.host.api.routers import (
    batches,
    codes,
    notices,
    ops,
    orders,
    payments,
    refunds,
    settlements,
    terminals,
    transactions,
    wallet,
)
from scanpay.host.api.security import SignedEnvelope
from scanpay.host.api.waiters import Waiters
from scanpay.host.clock import Clock
from scanpay.host.db.migrate import current_revision, head_revision, upgrade
from scanpay.host.logs import configure_logging
from scanpay.host.portal import install as _install_portal
from scanpay.host.services import leg_sweeper, network_refunds, operations, reconcile_schedule
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import seal_legacy
from scanpay.host.settings import HostSettings
from scanpay.host.wallet_page import install as _install_wallet_page

__all__ = ["create_app", "create_app_from_env"]

log = logging.getLogger("scanpay.host")

#: Seconds between two looks at the networks' due statements (issue 17's scheduled run).
_RECONCILE_EVERY = 60.0

_DESCRIPTION = """The acquiring host's API.

Every `/v1/` request except activation is signed by the terminal (headers
`X-Scanpay-Terminal`, `-Timestamp`, `-Nonce`, `-Signature`: hex HMAC-SHA256 with
the terminal key over `METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`)
and carries `X-Scanpay-Software-Version` and `X-Scanpay-Signature-Version: 2`. Every
answer to a request whose signature verified, errors included, is signed back over
`v2\\nSTATUS\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)\\nREQUEST_SIGNATURE` with that
request's nonce: bound to the request it answers. Every other answer is unsigned (no
or malformed headers, unknown terminal, bad signature, a crash before the terminal's
key is read): treat it as no answer (query), never as a decline. The one exception
is a successful activation, signed with the key it hands out. PATH_WITH_QUERY is the
request target exactly as sent, percent-encoding included; NONCE is 16-64
lower-case hex. A repeated creation (same key, same body) does nothing again and
answers the current state with `X-Scanpay-Replayed: true`. An event stream
(`X-Scanpay-Stream: events`) is signed over the empty body and each event
carries its own signature. Errors have one shape, `ErrorBody`, with a stable
result code. `/wallet/v1/` is the built-in wallet's customer side; `/healthz`,
`/readyz` and `/metrics` are for operations.
"""


async def _sweep_forever(ctx: HostContext) -> None:
    """Expire due orders and PIN waits every ``sweep_interval`` seconds (this process)."""
    while True:
        await asyncio.sleep(ctx.settings.sweep_interval)
        try:
            done = await run_in_threadpool(operations.sweep, ctx)
        except Exception:  # a failed sweep is retried on the next tick, never fatal
            log.exception("expiry sweep failed")
            continue
        if any(done.values()):
            log.info("swept: %s", done)


async def _drive_legs_forever(ctx: HostContext) -> None:
    """Drive the network legs and refunds that are due (queries, reverses, the deadline, legs whose
    driver died) about every second: a customer's confirmation on their phone is seen
    within a poll interval. The first pass runs at start."""
    every = min(1.0, ctx.settings.sweep_interval)
    while True:
        try:
            await run_in_threadpool(leg_sweeper.run_due, ctx)
        except Exception:  # retried on the next tick, never fatal
            log.exception("network leg sweep failed")
        try:
            await run_in_threadpool(network_refunds.run_due, ctx)
        except Exception:
            log.exception("network refund sweep failed")
        await asyncio.sleep(every)


async def _reconcile_forever(ctx: HostContext, stop: threading.Event) -> None:
    """Reconcile the networks' days that are due (``SCANPAY_RECONCILE_AT``, issue 17)
    about once a minute, the first look a minute after start; one process at a time
    works a network (:mod:`~scanpay.host.services.reconcile_schedule`). ``stop`` is set
    when the app stops: a pass in hand begins no other day."""
    while True:
        await asyncio.sleep(_RECONCILE_EVERY)
        try:
            await run_in_threadpool(reconcile_schedule.reconcile_due, ctx, stop=stop)
        except Exception:  # tried again on the next look, never fatal
            log.exception("scheduled reconciliation failed")


def create_app(
    settings: HostSettings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    sweep: bool = True,
) -> FastAPI:
    """The host application. The database is opened (and migrated) at startup.

    ``clock`` replaces the system clock (tests move time with a ManualClock);
    ``sweep`` runs the background loops: the expiry sweeper, the network legs, and the
    scheduled reconciliation (unless ``SCANPAY_RECONCILE_AT`` is ``off``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = HostContext.open(settings or HostSettings.from_env(), clock)
        if migrate:
            revision = await run_in_threadpool(upgrade, ctx.db)
            log.info("database at revision %s (%s)", revision, ctx.db.dialect)
        if await run_in_threadpool(current_revision, ctx.db) == head_revision():
            await run_in_threadpool(seal_legacy, ctx)
        app.state.ctx = ctx
        waiters = Waiters(asyncio.get_running_loop())
        app.state.waiters = waiters
        ctx.subscribe(waiters.announce)
        sweepers = (
            [
                asyncio.create_task(_sweep_forever(ctx)),
                asyncio.create_task(_drive_legs_forever(ctx)),
            ]
            if sweep
            else []
        )
        stopping = threading.Event()
        if sweep and ctx.settings.reconcile_at is not None:
            sweepers.append(asyncio.create_task(_reconcile_forever(ctx, stopping)))
        try:
            yield
        finally:
            stopping.set()
            for sweeper in sweepers:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            ctx.close()

    app = FastAPI(
        title="scanpay host",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    install_openapi(app)
    install_error_handlers(app)
    app.add_middleware(SignedEnvelope)
    # Added last, so it runs outermost: every answer gets an id and is counted, refusals too.
    app.add_middleware(RequestContext)
    for module in (
        terminals,
        payments,
        transactions,
        refunds,
        orders,
        codes,
        settlements,
        batches,
        wallet,
        ops,
        notices,
    ):
        app.include_router(module.router)
    _install_wallet_page(app)  # the customer's wallet page at /wallet/ (issue 7)
    _install_portal(app)  # the merchant portal at /portal/ (issue 8)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several workers): settings from the environment,
    JSON log lines on stderr (``SCANPAY_LOG_LEVEL``, default info)."""
    import os

    configure_logging(os.environ.get("SCANPAY_LOG_LEVEL", "info"))
    return create_app(HostSettings.from_env())
