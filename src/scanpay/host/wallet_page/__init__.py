"""The customer's wallet page, served by the host at ``/wallet/``.

A static single-page app (no CDN, strict Content-Security-Policy) over a few
session-authenticated JSON routes under ``/wallet/v1/`` (see
:mod:`scanpay.host.wallet_page.api`): log in with the account and PIN, show
the one-time payment code as QR and Code 128 with a countdown (a new one
before it expires), confirm a payment waiting for the PIN, scan or paste a
merchant's QR to see payee and amount and pay it, balance and history, in
zh-CN and en.

:func:`install` adds it to the host's FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Serve the wallet page and its routes on the host ``app``."""
    from fastapi.exceptions import RequestValidationError

    from scanpay.host.wallet_page.api import (
        Refused,
        refused_handler,
        router,
        validation_handler,
    )

    app.include_router(router)
    app.add_exception_handler(Refused, refused_handler)
    # The page's malformed requests get the page's words; every other route keeps the
    # app's own handler (installed before this one).
    fallback = app.exception_handlers.get(RequestValidationError)
    app.add_exception_handler(RequestValidationError, validation_handler(fallback))
