"""Test kit for the host: real servers on loopback, a signing client, worlds to pay in.

Nothing here is a fake: the server is the real app under uvicorn, the client
speaks signed HTTP over a socket, the databases are a real SQLite file and a
real PostgreSQL database made for the session.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import uvicorn
from psycopg import sql

from scanpay.host import HostContext, HostSettings, ManualClock, create_app
from scanpay.host.clock import Clock
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import upgrade
from scanpay.host.services import ledger, merchants, terminals, wallets
from scanpay.protocol import SignedHeaders, response_message, verify

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
VERSION = "1.0.0"
LICENCE = "91350100M000100Y43"


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


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - not the main thread
        pass


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
    settings: HostSettings, clock: ManualClock, backend: str
) -> Iterator[RunningHost]:
    """The real app under uvicorn in a thread (so a test can move its clock)."""
    app = create_app(settings, clock=clock)
    sock = free_socket()
    port = sock.getsockname()[1]
    server = _ThreadServer(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the host did not start")
        time.sleep(0.01)
    ctx = HostContext(settings, Database(settings.database_url), clock)
    try:
        yield RunningHost(f"http://127.0.0.1:{port}", ctx, clock, backend)
    finally:
        ctx.close()
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextmanager
def serve_in_processes(database_url: str, count: int = 2) -> Iterator[list[str]]:
    """``scanpay host serve`` as ``count`` separate processes on one database (system clock)."""
    env = {**os.environ, "SCANPAY_DATABASE_URL": database_url}
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(count):
            sock = free_socket()
            port = sock.getsockname()[1]
            sock.close()
            command = [
                sys.executable,
                "-c",
                "from scanpay.cli import main; main()",
                "host",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            procs.append(
                subprocess.Popen(
                    command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for proc, url in zip(procs, urls, strict=True):
            while True:
                if proc.poll() is not None:
                    assert proc.stderr is not None
                    raise RuntimeError(
                        f"host process exited: {proc.stderr.read().decode()[-2000:]}"
                    )
                try:
                    httpx.get(url + "/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("host process did not start") from None
                    time.sleep(0.05)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait()


class ForgedReply(AssertionError):
    """The host's reply did not verify against the terminal key."""


def reply_verifies(response: httpx.Response, key: str) -> bool:
    """Whether a reply carries a valid host signature under ``key``."""
    h = response.headers
    if "x-scanpay-signature" not in h:
        return False
    message = response_message(
        response.status_code, h["x-scanpay-timestamp"], h["x-scanpay-nonce"], response.content
    )
    return verify(key, message, h["x-scanpay-signature"])


@dataclass
class SignedClient:
    """A terminal's view of the host: signs requests, checks signed replies."""

    base_url: str
    terminal_id: str
    key: str
    clock: Clock
    version: str | None = VERSION
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
        return issued.digits if form == "digits" else issued.cpm

    def balance(self, wallet: Wallet | None = None) -> int:
        return wallets.wallet_info(self.ctx, (wallet or self.wallet).account).balance

    def open_wallet(self, balance: int = 50_000, **options: Any) -> Wallet:
        opened = wallets.open_account(
            self.ctx, name="Customer", currency="CNY", balance=balance, pin="123456", **options
        )
        return Wallet(opened.info.account, opened.secret_hex)


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
    data = activate(url, issued.activation_code).json()
    return SignedClient(url, data["terminal_id"], data["key"], host.clock)


def make_world(host: RunningHost, balance: int = 50_000, **wallet_options: Any) -> World:
    merchant_id = make_merchant(host.ctx)
    client = make_terminal(host, merchant_id)
    opened = wallets.open_account(
        host.ctx, name="Alice", currency="CNY", balance=balance, pin="123456", **wallet_options
    )
    return World(host, merchant_id, client, Wallet(opened.info.account, opened.secret_hex))


def migrate(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
