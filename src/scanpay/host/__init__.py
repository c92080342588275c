"""The acquiring host: merchants, terminals, signed payments, refunds, merchant-presented
orders, the built-in wallet, risk rules, the audit trail, the ledger, settlement.

Layout (pure core, adapters around it):

- :mod:`scanpay.host.domain` — the rules, pure (state machines, ledger postings,
  wallet codes, PIN, USCC, versions, risk rules, audit chain, settlement arithmetic);
- :mod:`scanpay.host.db` — SQLAlchemy tables, engines (SQLite WAL / PostgreSQL), migrations;
- :mod:`scanpay.host.services` — one module per concept, transactions and locks;
- :mod:`scanpay.host.api` — the FastAPI app (:func:`create_app`), signed envelope
  (and signed event streams), request ids, routers;
- :mod:`scanpay.host.logs`, :mod:`scanpay.host.metrics` — JSON logs, Prometheus.

Start it with ``scanpay host serve`` (see ``docs/host.md``).
"""

from scanpay.host.api.app import create_app, create_app_from_env
from scanpay.host.clock import Clock, ManualClock, SystemClock
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings

__all__ = [
    "Clock",
    "HostContext",
    "HostError",
    "HostSettings",
    "ManualClock",
    "SystemClock",
    "create_app",
    "create_app_from_env",
]
