"""The merchant portal, served by the host at ``/portal/`` (issue 8).

Server-rendered pages (Jinja2) with a little script and style of their own
(``static/``, no CDN, a strict Content-Security-Policy), for a merchant's
users (owner, accountant, read-only) and the acquirer's operators:

- public: log in (throttled), the application for acquiring and its status page;
- merchant: today at a glance (server-drawn SVG charts), transactions (filters,
  keyset pages, detail with the audit history, receipt, streamed CSV/XLSX
  exports), refunds (owner), orders, settlements and day-close differences,
  terminals (self-test reports, key rotation);
- operator: applications (licence check, duplicates, approve/reject),
  merchants (approve/suspend, fee rate), merchants' network channels and the
  acquirer's network accounts, reconciliation (each day's runs and breaks,
  resolved in words), risk limits, audit chain verification.

Pure rules live in :mod:`.roles`, :mod:`.filters`, :mod:`.forms`,
:mod:`.licence`, :mod:`.throttle`, :mod:`.stats`, :mod:`.charts`,
:mod:`.rows` and :mod:`.texts`; the database work in :mod:`.accounts`,
:mod:`.onboarding`, :mod:`.transactions`, :mod:`.overview`, :mod:`.records`
and :mod:`.exports`; the routes in ``routes_*``. :func:`install` adds the
portal to the host's FastAPI app.
"""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Serve the portal on the host ``app`` (its routes stay out of the OpenAPI document)."""
    from scanpay.host.portal import (
        routes_channels,
        routes_merchant,
        routes_operator,
        routes_public,
        routes_reconciliation,
    )
    from scanpay.host.portal.pages import install_handlers

    app.include_router(routes_public.router)
    app.include_router(routes_merchant.router)
    app.include_router(routes_operator.router)
    app.include_router(routes_channels.router)
    app.include_router(routes_reconciliation.router)
    install_handlers(app)
