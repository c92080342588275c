"""Test kit for the host: real servers on loopback, a signing client, worlds to pay in.

Nothing here is a fake: the server is the real app under uvicorn, the client
speaks signed HTTP over a socket, the databases are a real SQLite file and a
real PostgreSQL database made for the session.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg import sql

from scanpay.host import HostContext, HostSettings, ManualClock, create_app
from scanpay.host.clock import Clock
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import upgrade
from scanpay.host.services import ledger, merchants, terminals, wallets
from scanpay.protocol import SignedHeaders, legacy_response_message, response_message, verify
from support import app_in_thread

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
VERSION = "1.0.0"
LICENCE = "91350100M000100Y43"
PIN = "123456"

# ------------------------------------------------------------------ secrets and the log scan

#: Every payment code, key, secret and PIN the suite used (this worker process).
SECRETS: set[str] = {PIN}


def remember(*values: str) -> str:
    """Register secrets the logs must never hold; returns the first."""
    SECRETS.update(v for v in values if v)
    return values[0]


class LogCapture(logging.Handler):
    """Keeps every record as the host's JSON formatter writes it (``lines``) and as the
    code asked for it, before any masking (``raw``): the scan checks both, so a log
    call that leans on the formatter's masking is caught too."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        from scanpay.host.logs import JsonFormatter

        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
            extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
            trace = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
            self.raw.append(f"{record.getMessage()} {extra!r} {trace}")
        except Exception:  # pragma: no cover - a broken record must not break the suite
            self.handleError(record)


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


CAPTURE = LogCapture()


def harvest(ctx: HostContext) -> set[str]:
    """Every terminal key and wallet secret in a database, and the digits of every code
    its wallets ever had accepted (regenerated from the secret and the used time step):
    what the suite used, even where a test made a code without registering it."""
    from sqlalchemy import select

    from scanpay.host.db.models import TerminalKey, UsedCode, WalletAccount
    from scanpay.host.domain.wallet_codes import make_digits
    from scanpay.host.services.secrets import terminal_key, wallet_secret

    fmt = ctx.settings.code_format
    found: set[str] = set()
    with ctx.db.read() as session:
        for sealed, plain in session.execute(select(TerminalKey.key_sealed, TerminalKey.key_hex)):
            found.add(terminal_key(ctx, sealed, plain))
        steps: dict[int, list[int]] = {}
        for account_pk, step in session.execute(select(UsedCode.wallet_account_id, UsedCode.step)):
            steps.setdefault(account_pk, []).append(step)
        for row in session.scalars(select(WalletAccount)):
            secret = wallet_secret(ctx, row.secret_sealed, row.secret_hex)
            found.add(secret.hex())
            assert row.number is not None
            found.update(make_digits(fmt, row.number, secret, s) for s in steps.get(row.id, []))
    return found


def leaks(lines: Iterable[str], secrets_: Iterable[str]) -> list[tuple[str, str]]:
    """(secret, line) for every secret found in a log line. Short ones (PINs) must stand
    alone (not inside a longer run of letters and digits) to count."""
    found = []
    patterns = [
        (s, re.compile(rf"(?<![0-9A-Za-z]){re.escape(s)}(?![0-9A-Za-z])") if len(s) < 12 else None)
        for s in set(secrets_)
    ]
    for line in lines:
        for secret, pattern in patterns:
            hit = pattern.search(line) if pattern is not None else secret in line
            if hit:
                found.append((secret, line))
    return found


#: The data folder of each database a session host serves (its master key lives there
#: for PostgreSQL): the command line run against that database must use the same one.
DATA_DIRS: dict[str, str] = {}


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for ``scanpay host ...`` run in-process against ``database_url``:
    the database and, for a session host's database, that host's data folder.

    Explicit, not inherited: the session's ``data_dir`` fixture is instantiated once per
    conftest that imports it (the host and the security suites), so ``SCANPAY_DATA_DIR``
    in the environment may name the other instance's folder - another master key, and
    secrets sealed with it that the host cannot open.
    """
    env = {"SCANPAY_DATABASE_URL": database_url, **extra}
    if database_url in DATA_DIRS:
        env["SCANPAY_DATA_DIR"] = DATA_DIRS[database_url]
    return env


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN):
            return True
    except psycopg.Error:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped at the end."""
    name = f"scanpay_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class RunningHost:
    """A host serving on a loopback port, and a context on the same database and clock."""

    url: str
    ctx: HostContext
    clock: ManualClock
    backend: str

    def check_ledger(self) -> ledger.LedgerReport:
        return ledger.check(self.ctx)


@contextmanager
def serve_in_thread(
    settings: HostSettings,
    clock: ManualClock,
    backend: str,
    *,
    sweep: bool = True,
    sock: socket.socket | None = None,
) -> Iterator[RunningHost]:
    """The real app under uvicorn in a thread (so a test can move its clock); ``sweep``
    false: no background sweepers (the test runs them itself, nothing races it);
    ``sock``: serve on this socket (a host whose settings name its own URL)."""
    app = create_app(settings, clock=clock, sweep=sweep)
    with app_in_thread(app, "the host", sock=sock) as url:
        ctx = HostContext(settings, Database(settings.database_url), clock)
        try:
            yield RunningHost(url, ctx, clock, backend)
        finally:
            ctx.close()


class ForgedReply(AssertionError):
    """The host's reply did not verify against the terminal key."""


def reply_message(response: httpx.Response, body: bytes | None = None) -> bytes:
    """What the host signs for ``response``: bound to the request's own signature when
    the request asked for signature version 2, else the legacy form."""
    h, sent = response.headers, response.request.headers
    content = response.content if body is None else body
    stamp, nonce = h["x-scanpay-timestamp"], h["x-scanpay-nonce"]
    if sent.get("x-scanpay-signature-version") == "2":
        bound = sent.get("x-scanpay-signature", "")
        return response_message(response.status_code, stamp, nonce, content, bound)
    return legacy_response_message(response.status_code, stamp, nonce, content)


def reply_verifies(response: httpx.Response, key: str, body: bytes | None = None) -> bool:
    """Whether a reply carries a valid host signature under ``key``."""
    if "x-scanpay-signature" not in response.headers:
        return False
    return verify(key, reply_message(response, body), response.headers["x-scanpay-signature"])


@dataclass
class SignedClient:
    """A terminal's view of the host: signs requests, checks signed replies."""

    base_url: str
    terminal_id: str
    key: str
    clock: Clock
    version: str | None = VERSION
    #: The reply signature asked for: 2 (bound to the request) or None (legacy, version 1).
    signature_version: int | None = 2
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        body: bytes | None = None,
        sign_body: bytes | None = None,
        key: str | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
        check_reply: bool = True,
    ) -> httpx.Response:
        raw = (
            body if body is not None else (b"" if payload is None else json.dumps(payload).encode())
        )
        nonce = nonce or secrets.token_hex(16)
        stamp = int(self.clock.now().timestamp()) if timestamp is None else timestamp
        headers = SignedHeaders.for_request(
            terminal_id=self.terminal_id,
            key_hex=key or self.key,
            method=method,
            path=path,
            body=raw if sign_body is None else sign_body,
            timestamp=stamp,
            nonce=nonce,
        ).as_dict()
        headers["Content-Type"] = "application/json"
        if self.version is not None:
            headers["X-Scanpay-Software-Version"] = self.version
        if self.signature_version is not None:
            headers["X-Scanpay-Signature-Version"] = str(self.signature_version)
        response = self.http.request(method, self.base_url + path, content=raw, headers=headers)
        if check_reply:
            if not reply_verifies(response, self.key):
                raise ForgedReply(f"unsigned or forged reply to {method} {path}: {response.text}")
            if response.headers["x-scanpay-nonce"] != nonce:
                raise ForgedReply("the reply does not answer this request's nonce")
        return response

    def pay(self, out_trade_no: str, amount: int, auth_code: str, **extra: Any) -> httpx.Response:
        body = {
            "out_trade_no": out_trade_no,
            "amount": amount,
            "currency": "CNY",
            "auth_code": auth_code,
            **extra,
        }
        return self.request("POST", "/v1/payments", body)

    def get(self, out_trade_no: str) -> httpx.Response:
        return self.request("GET", f"/v1/payments/{out_trade_no}")

    def reverse(self, out_trade_no: str) -> httpx.Response:
        return self.request("POST", f"/v1/payments/{out_trade_no}/reverse")

    def refund(
        self, out_refund_no: str, out_trade_no: str, amount: int, **extra: Any
    ) -> httpx.Response:
        body = {"out_refund_no": out_refund_no, "out_trade_no": out_trade_no, "amount": amount}
        return self.request("POST", "/v1/refunds", {**body, **extra})

    def create_order(self, out_trade_no: str, amount: int, **extra: Any) -> httpx.Response:
        body = {"out_trade_no": out_trade_no, "amount": amount, "currency": "CNY", **extra}
        return self.request("POST", "/v1/orders", body)

    def get_order(self, out_trade_no: str, wait: int = 0) -> httpx.Response:
        path = f"/v1/orders/{out_trade_no}" + (f"?wait={wait}" if wait else "")
        return self.request("GET", path)

    def close_order(self, out_trade_no: str) -> httpx.Response:
        return self.request("POST", f"/v1/orders/{out_trade_no}/close")

    @contextmanager
    def stream(self, path: str, nonce: str | None = None) -> Iterator[httpx.Response]:
        """A signed GET whose reply is read as it comes (server-sent events)."""
        nonce = nonce or secrets.token_hex(16)
        stamp = int(self.clock.now().timestamp())
        headers = SignedHeaders.for_request(
            terminal_id=self.terminal_id,
            key_hex=self.key,
            method="GET",
            path=path,
            body=b"",
            timestamp=stamp,
            nonce=nonce,
        ).as_dict()
        if self.version is not None:
            headers["X-Scanpay-Software-Version"] = self.version
        if self.signature_version is not None:
            headers["X-Scanpay-Signature-Version"] = str(self.signature_version)
        with self.http.stream("GET", self.base_url + path, headers=headers) as response:
            yield response


@dataclass
class Wallet:
    account: str
    secret: str


@dataclass
class World:
    """One approved merchant with an activated terminal, and a wallet with money."""

    host: RunningHost
    merchant_id: str
    terminal: SignedClient
    wallet: Wallet

    @property
    def ctx(self) -> HostContext:
        return self.host.ctx

    def code(self, wallet: Wallet | None = None, form: str = "digits") -> str:
        """A fresh one-time code (the clock moves one step, so each code is a new one)."""
        self.host.clock.advance(self.ctx.settings.code_format.step_seconds)
        issued = wallets.issue_code(self.ctx, (wallet or self.wallet).account)
        remember(issued.digits, issued.cpm)
        return issued.digits if form == "digits" else issued.cpm

    def balance(self, wallet: Wallet | None = None) -> int:
        return wallets.wallet_info(self.ctx, (wallet or self.wallet).account).balance

    def open_wallet(self, balance: int = 50_000, **options: Any) -> Wallet:
        opened = wallets.open_account(
            self.ctx, name="Customer", currency="CNY", balance=balance, pin=PIN, **options
        )
        return Wallet(opened.info.account, remember(opened.secret_hex))

    def pay(self, out_trade_no: str, amount: int, **extra: Any) -> dict[str, Any]:
        """A payment with a fresh code of the world's wallet; its answer (must be 200)."""
        wallet = extra.pop("wallet", None)
        code = extra.pop("auth_code", None) or self.code(wallet)
        answer = self.terminal.pay(out_trade_no, amount, code, **extra)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def order(self, out_trade_no: str, amount: int, **extra: Any) -> dict[str, Any]:
        answer = self.terminal.create_order(out_trade_no, amount, **extra)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def wallet_pay(
        self, payload: str, *, wallet: Wallet | None = None, pin: str | None = None
    ) -> httpx.Response:
        """The customer's wallet pays an order QR with a fresh one-time code."""
        body: dict[str, Any] = {"payload": payload, "auth_code": self.code(wallet)}
        if pin is not None:
            body["pin"] = pin
        return httpx.post(self.host.url + "/wallet/v1/pay", json=body, timeout=30)


def make_merchant(ctx: HostContext, *, approve: bool = True, name: str = "Best Shop") -> str:
    info = merchants.add_merchant(ctx, name=name, city="Shanghai", mcc="5411", license=LICENCE)
    if approve:
        merchants.set_status(ctx, info.merchant_id, "approve")
    return info.merchant_id


def activate(base_url: str, code: str, version: str = VERSION) -> httpx.Response:
    return httpx.post(
        base_url + "/v1/terminals/activate",
        json={"activation_code": code, "software_version": version},
        timeout=30,
    )


def make_terminal(host: RunningHost, merchant_id: str, base_url: str | None = None) -> SignedClient:
    issued = terminals.add_terminal(host.ctx, merchant_id)
    url = base_url or host.url
    data = activate(url, remember(issued.activation_code)).json()
    return SignedClient(url, data["terminal_id"], remember(data["key"]), host.clock)


def make_world(host: RunningHost, balance: int = 50_000, **wallet_options: Any) -> World:
    merchant_id = make_merchant(host.ctx)
    client = make_terminal(host, merchant_id)
    opened = wallets.open_account(
        host.ctx, name="Alice", currency="CNY", balance=balance, pin=PIN, **wallet_options
    )
    remember(opened.secret_hex)
    return World(host, merchant_id, client, Wallet(opened.info.account, opened.secret_hex))


def migrate(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
