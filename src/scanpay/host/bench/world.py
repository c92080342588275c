"""A fresh database to measure on: merchants, active terminals and loaded wallets.

Everything goes through the host's own services (merchants are added and
approved, terminals added and activated with their one-time codes, the
velocity limit set as an operator would), so the audit chain and the ledger
of the bench database are as real as a production one. Wallets are the one
exception for speed: thousands are needed (a wallet gives one code per
5-second time step), so they are opened in batches, with one PIN hash shared
by all and one balanced ledger entry per batch, instead of one argon2 hash
and one transaction each; every one still gets its sealed secret, its own
ledger account and its ``wallet.open`` audit record.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from scanpay.host.db.migrate import upgrade
from scanpay.host.db.models import LedgerAccount, WalletAccount
from scanpay.host.domain.ledger import AccountKind, Book, Entry, Posting
from scanpay.host.domain.wallet_codes import account_number
from scanpay.host.services import audit, ledger, merchants, risk, terminals
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import WALLET_SECRET, seal

__all__ = [
    "BENCH_ACTOR",
    "DEFAULT_PG_ADMIN",
    "LICENCE",
    "SOFTWARE_VERSION",
    "BenchWorld",
    "bench_database",
    "build_world",
]

#: The PostgreSQL server a bench creates its database on (and drops it from).
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: A valid unified social credit code (GB 32100) for the bench's merchants.
LICENCE = "91350100M000100Y43"
SOFTWARE_VERSION = "1.0.0"
BENCH_ACTOR = audit.Actor.operator("bench")
CURRENCY = "CNY"
_WALLET_BATCH = 500
_PIN = "123456"


def _admin_conninfo(admin_url: str) -> str:
    url = make_url(admin_url)
    parts = {
        "host": url.host or "127.0.0.1",
        "port": str(url.port or 5432),
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
        "connect_timeout": "5",
    }
    if url.password:
        parts["password"] = str(url.password)
    return " ".join(f"{k}={v}" for k, v in parts.items())


@contextmanager
def bench_database(
    backend: str, workdir: Path, *, pg_admin: str = DEFAULT_PG_ADMIN, keep: bool = False
) -> Iterator[str]:
    """A new, empty database for one run; its SQLAlchemy URL.

    SQLite: ``host.db`` in ``workdir``. PostgreSQL: ``scanpay_bench_<random>`` created
    on the ``pg_admin`` server, dropped afterwards unless ``keep``.
    """
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'host.db'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown database {backend!r}: sqlite or postgresql")
    name = f"scanpay_bench_{uuid.uuid4().hex[:12]}"
    conninfo = _admin_conninfo(pg_admin)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_url(pg_admin).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        if not keep:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@dataclass(frozen=True, slots=True)
class BenchWorld:
    """Who pays whom: terminals with their keys, wallets with their secrets."""

    merchants: tuple[str, ...]
    #: (terminal id, key as 64 hex)
    terminals: tuple[tuple[str, str], ...]
    #: (account number, secret as 64 hex)
    wallets: tuple[tuple[str, str], ...]
    wallet_balance: int


def build_world(
    ctx: HostContext,
    *,
    merchants_count: int,
    terminals_count: int,
    wallets_count: int,
    wallet_balance: int,
    velocity_limit: int,
    progress: Callable[[str, int, int], None] | None = None,
) -> BenchWorld:
    """Migrate the database and fill it (see the module docstring).

    The default velocity limit (payments per terminal per minute) is raised to
    ``velocity_limit``: a bench terminal takes payments far faster than a
    cashier can. Every other risk rule keeps its default.
    """
    upgrade(ctx.db)
    tell = progress or (lambda _what, _done, _total: None)
    merchant_ids: list[str] = []
    for i in range(merchants_count):
        info = merchants.add_merchant(
            ctx,
            name=f"Bench shop {i + 1}",
            city="Shanghai",
            mcc="5411",
            license=LICENCE,
            actor=BENCH_ACTOR,
        )
        merchants.set_status(ctx, info.merchant_id, "approve", actor=BENCH_ACTOR)
        merchant_ids.append(info.merchant_id)
        tell("merchants", i + 1, merchants_count)
    keys: list[tuple[str, str]] = []
    for i in range(terminals_count):
        issued = terminals.add_terminal(ctx, merchant_ids[i % len(merchant_ids)], actor=BENCH_ACTOR)
        activated = terminals.activate(ctx, issued.activation_code, SOFTWARE_VERSION)
        keys.append((activated.response.terminal_id, activated.key_hex))
        tell("terminals", i + 1, terminals_count)
    risk.set_limit(ctx, BENCH_ACTOR, "velocity", velocity_limit, window_seconds=60)
    wallets = _open_wallets(ctx, wallets_count, wallet_balance, tell)
    _analyze(ctx)
    return BenchWorld(tuple(merchant_ids), tuple(keys), tuple(wallets), wallet_balance)


def _analyze(ctx: HostContext) -> None:
    """Gather the planner's statistics of the filled tables, as autovacuum would on a
    server that runs it (a bench database is new: its statistics would say "empty")."""
    with ctx.db.engine.connect() as conn:
        if ctx.db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _open_wallets(
    ctx: HostContext, count: int, balance: int, tell: Callable[[str, int, int], None]
) -> list[tuple[str, str]]:
    """Open ``count`` wallets loaded with ``balance`` each, in batches (module docstring)."""
    fmt = ctx.settings.code_format
    pin_hash = ctx.hasher.hash(_PIN)
    pin_above = 1000 * 100  # 1000.00 CNY, the default: bench amounts stay far below it
    opened: list[tuple[str, str]] = []
    for start in range(0, count, _WALLET_BATCH):
        size = min(_WALLET_BATCH, count - start)
        secrets_hex = [secrets.token_hex(32) for _ in range(size)]
        now = ctx.now()
        with ctx.db.write() as session:
            funding = ledger.ensure_account(
                session,
                ledger.funding_code(Book.REAL, CURRENCY),
                AccountKind.ISSUER_FUNDING,
                Book.REAL,
                CURRENCY,
                now,
            )
            session.flush()
            rows = [
                WalletAccount(
                    name=f"Bench customer {start + i + 1}",
                    currency=CURRENCY,
                    training=False,
                    secret_hex="",
                    secret_sealed=seal(ctx, secret, WALLET_SECRET),
                    pin_hash=pin_hash,
                    pin_above=pin_above,
                    pin_failures=0,
                    atc_issued=0,
                    atc_last_used=0,
                    ledger_account_id=funding.id,  # replaced below, once the number exists
                    created_at=now,
                )
                for i, secret in enumerate(secrets_hex)
            ]
            session.add_all(rows)
            session.flush()
            accounts: list[LedgerAccount] = []
            for row in rows:
                row.number = account_number(row.id, fmt.account_digits)
                accounts.append(
                    LedgerAccount(
                        code=ledger.wallet_code(row.number),
                        kind=AccountKind.WALLET,
                        book=Book.REAL,
                        currency=CURRENCY,
                        balance=0,
                        created_at=now,
                    )
                )
            session.add_all(accounts)
            session.flush()
            for row, account in zip(rows, accounts, strict=True):
                row.ledger_account_id = account.id
            postings = (
                Posting(funding.code, -balance * size),
                *(Posting(account.code, balance) for account in accounts),
            )
            entry = Entry(Book.REAL, CURRENCY, postings, "bench wallet load")
            ledger.post(session, entry, kind="wallet_load", now=now)
            for row in rows:
                assert row.number is not None
                audit.record(
                    session,
                    now,
                    BENCH_ACTOR,
                    "wallet.open",
                    ("wallet", row.number),
                    currency=CURRENCY,
                    balance=balance,
                    pin_above=pin_above,
                    training=False,
                )
            numbers = [row.number or "" for row in rows]
        opened.extend(zip(numbers, secrets_hex, strict=True))
        tell("wallets", start + size, count)
    return opened
