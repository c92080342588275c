"""Helpers of the login attacks: clients that come from addresses of their own, logins
on the wallet page and the portal, and a watch on every argon2 hash of the process.

Every client here binds its connections to an address of its own in 127.0.0.0/8
(Linux routes all of it to loopback), so the host sees many machines, as it does
in a distributed attack, and the suite's own requests from 127.0.0.1 never share a
throttle with an attacker of this module.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import argon2
import httpx
import pytest
from sqlalchemy import func, select

from host.kit import RunningHost, World
from scanpay.host.db.models import WalletAccount
from scanpay.host.domain.wallet_codes import account_number

__all__ = [
    "Argon2Watch",
    "client",
    "login",
    "portal_csrf",
    "unknown_account",
    "watch_argon2",
]

_SERIALS = itertools.count(1)
_PORTAL_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _address() -> str:
    n = next(_SERIALS)
    return f"127.{64 + n // 64_516}.{n // 254 % 254 + 1}.{n % 254 + 1}"


def client(host: RunningHost, address: str | None = None) -> httpx.Client:
    """A client whose connections come from ``address`` (a fresh one by default)."""
    return httpx.Client(
        base_url=host.url,
        timeout=120,
        trust_env=False,
        follow_redirects=False,
        transport=httpx.HTTPTransport(local_address=address or _address()),
    )


def login(http: httpx.Client, account: str, pin: str) -> httpx.Response:
    """``POST /wallet/v1/session``, as the wallet page sends it."""
    return http.post("/wallet/v1/session", json={"account": account, "pin": pin})


def unknown_account(world: World) -> str:
    """A well-formed account number (Luhn digit and all) that no account has yet: the
    kind an attacker gets by counting up from their own."""
    with world.ctx.db.read() as session:
        top = session.scalar(select(func.max(WalletAccount.id))) or 0
    serial = top + 1_000 + secrets.randbelow(5_000_000)
    return account_number(serial, world.ctx.settings.code_format.account_digits)


def portal_csrf(http: httpx.Client) -> str:
    page = http.get("/portal/login")
    found = _PORTAL_CSRF.search(page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


@dataclass
class Argon2Watch:
    """Every argon2 hash and check the process runs, as it runs: how many at once (and
    the most ever), and the cost parameters of every hash checked against."""

    running: int = 0
    peak: int = 0
    checked: list[argon2.Parameters] = field(default_factory=list)
    hashed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def _one(self) -> Iterator[None]:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1

    def reset(self) -> None:
        with self._lock:
            self.peak, self.hashed = self.running, 0
            self.checked.clear()


def watch_argon2(monkeypatch: pytest.MonkeyPatch) -> Argon2Watch:
    """Count argon2 at the library, below anything of the host's (a bound the host keeps
    must show here, not only in its own counters)."""
    watch = Argon2Watch()
    verify, make = argon2.PasswordHasher.verify, argon2.PasswordHasher.hash

    def counted_verify(self: argon2.PasswordHasher, hash: Any, password: Any) -> bool:
        with watch._one():
            with watch._lock:
                watch.checked.append(argon2.extract_parameters(str(hash)))
            return verify(self, hash, password)

    def counted_hash(self: argon2.PasswordHasher, password: Any, **kwargs: Any) -> str:
        with watch._one():
            with watch._lock:
                watch.hashed += 1
            return make(self, password, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted_verify)
    monkeypatch.setattr(argon2.PasswordHasher, "hash", counted_hash)
    return watch
