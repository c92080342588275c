"""Helpers of the portal tests: a browser-like HTTP client (cookies, CSRF tokens from the
pages' forms), users of every role, and shops with payments, refunds and orders.

Nothing is faked: the real host serves the portal on a loopback port, the
client logs in with the login form like a browser, the payments are signed
terminal requests paid with real one-time wallet codes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from host.kit import RunningHost, World, make_world, remember
from scanpay.host.portal import accounts

#: Every portal password of the suite (registered: the log scan looks for it).
PASSWORD = remember("portal-pass-2718")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def unique_email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@shop.example"


class PortalClient:
    """One browser: its own cookies; reads CSRF tokens from the pages it gets."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            timeout=60,
            follow_redirects=False,
            headers={"Accept-Language": "en"},
        )
        self.email: str | None = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def csrf(self, path: str = "/portal/login") -> str:
        """The CSRF token the page at ``path`` puts in its forms."""
        page = self.get(path)
        found = _CSRF.search(page.text)
        assert found is not None, f"no form on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = None,
        token_from: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a form; with the CSRF token ``csrf``, or the one of page ``token_from``."""
        form = dict(data or {})
        if csrf is None and token_from is not None:
            csrf = self.csrf(token_from)
        if csrf is not None:
            form["csrf"] = csrf
        return self.http.post(path, data=form, headers=headers)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        answer = self.post(
            "/portal/login", {"email": email, "password": password}, token_from="/portal/login"
        )
        if answer.status_code == 303:
            self.email = email
        return answer

    def close(self) -> None:
        self.http.close()


def add_user(host: RunningHost, role: str, merchant_id: str | None = None) -> str:
    email = unique_email(role)
    accounts.add_user(
        host.ctx,
        email=email,
        password=PASSWORD,
        role=role,
        merchant_id=None if role == "operator" else merchant_id,
    )
    return email


def logged_in(host: RunningHost, email: str) -> PortalClient:
    client = PortalClient(host.url)
    answer = client.login(email)
    assert answer.status_code == 303, answer.text[:500]
    return client


@dataclass
class Shop:
    """A merchant with payments (one refunded in part), an order, and its users."""

    world: World
    payments: list[dict[str, Any]] = field(default_factory=list)
    refund: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    users: dict[str, str] = field(default_factory=dict)

    @property
    def merchant_id(self) -> str:
        return self.world.merchant_id


def make_shop(host: RunningHost, payments: int = 3, prefix: str = "S") -> Shop:
    world = make_world(host, balance=500_000)
    shop = Shop(world)
    tag = uuid.uuid4().hex[:6]
    for i in range(payments):
        shop.payments.append(world.pay(f"{prefix}{tag}-{i}", 1000 + 111 * i))
    refund = world.terminal.refund(f"{prefix}{tag}-0-R1", shop.payments[0]["out_trade_no"], 300)
    assert refund.status_code == 200, refund.text
    shop.refund = refund.json()
    shop.order = world.order(f"{prefix}{tag}-O", 777, description="a cake")
    return shop
