"""The world the web tests run in: the real host and a real terminal agent on free
loopback ports (``scanpay run``'s own :class:`scanpay.stack.Stack`, demo data
included), the host's database to check what the screens say, and helpers that
drive Chromium the way a cashier and a customer would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from scanpay.host.db.models import Order, Payment, Refund, WalletAccount
from scanpay.host.services import ledger, wallets
from scanpay.host.services.context import HostContext
from scanpay.host.wallet_page.service import fresh_code
from scanpay.stack import Stack

#: Deadlines short enough for tests, long enough for a browser to act within them.
TERMINAL_SETTINGS: dict[str, Any] = {
    "unknown_deadline": 10.0,
    "customer_deadline": 40.0,
    "poll_interval": 0.3,
    "request_timeout": 5.0,
    "connect_timeout": 1.0,
    "query_backoff_first": 0.2,
    "query_backoff_cap": 0.5,
    "reversal_backoff_cap": 0.5,
    "language": "en",
}

CASHIER = ("c01", "1234")
SUPERVISOR = ("s01", "987654")


@dataclass
class World:
    """A running stack and a handle on the host's database."""

    stack: Stack
    ctx: HostContext
    opened: list[str] = field(default_factory=list)

    @property
    def agent(self) -> str:
        return self.stack.agent_url

    @property
    def host(self) -> str:
        return self.stack.host_url

    @property
    def wallet_url(self) -> str:
        return f"{self.stack.host_url}/wallet/"

    def account(self, name: str) -> tuple[str, str]:
        """(account number, PIN) of a demo wallet: ``Alice`` or ``Bob``."""
        assert self.stack.demo is not None
        found = next(w for w in self.stack.demo.wallets if w.name == name)
        return found.account, found.pin

    def open_wallet(self, balance: int, pin: str = "246810", pin_above: int | None = None) -> str:
        opened = wallets.open_account(
            self.ctx,
            name="Test customer",
            currency="CNY",
            balance=balance,
            pin=pin,
            pin_above=pin_above,
        )
        return opened.info.account

    def code(self, account: str) -> str:
        """A one-time code of ``account`` that has not paid yet, as its wallet page shows it."""
        return fresh_code(self.ctx, account)[0]

    def balance(self, account: str) -> int:
        return wallets.wallet_info(self.ctx, account).balance

    def payment(self, out_trade_no: str) -> Payment | None:
        with self.ctx.db.read() as session:
            return session.scalar(select(Payment).where(Payment.out_trade_no == out_trade_no))

    def payments_of(self, account: str) -> list[Payment]:
        with self.ctx.db.read() as session:
            pk = session.scalar(select(WalletAccount.id).where(WalletAccount.number == account))
            return list(session.scalars(select(Payment).where(Payment.wallet_account_id == pk)))

    def refunds(self, out_trade_no: str) -> list[Refund]:
        with self.ctx.db.read() as session:
            payment = session.scalar(select(Payment).where(Payment.out_trade_no == out_trade_no))
            if payment is None:
                return []
            return list(session.scalars(select(Refund).where(Refund.payment_id == payment.id)))

    def order(self, out_trade_no: str) -> Order | None:
        with self.ctx.db.read() as session:
            return session.scalar(select(Order).where(Order.out_trade_no == out_trade_no))

    def wait_payment(self, out_trade_no: str, *statuses: str, timeout: float = 15.0) -> Payment:
        end = time.monotonic() + timeout
        while True:
            row = self.payment(out_trade_no)
            if row is not None and row.status in statuses:
                return row
            if time.monotonic() > end:
                raise AssertionError(
                    f"payment {out_trade_no} is {row.status if row else None}, wanted {statuses}"
                )
            time.sleep(0.1)

    def ledger_ok(self) -> bool:
        return ledger.check(self.ctx).ok


@contextmanager
def running_world(folder: Path) -> Iterator[World]:
    stack = Stack(
        folder / "data", host_port=0, agent_port=0, terminal_settings=TERMINAL_SETTINGS
    ).start()
    ctx = HostContext.open(stack.host_settings())
    try:
        yield World(stack, ctx)
    finally:
        ctx.close()
        stack.stop()


# ------------------------------------------------------------------ driving pages


class PageWatch:
    """Every request a page makes and every script error it throws."""

    def __init__(self, page: Any, allowed: tuple[str, ...]) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.allowed = allowed
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self) -> None:
        """Nothing left loopback (no CDN, no font, no tracker); no script error."""
        foreign = [u for u in self.requests if not u.startswith((*self.allowed, "data:", "blob:"))]
        assert not foreign, f"requests outside the stack: {foreign}"
        assert not self.errors, f"script errors: {self.errors}"


def login(page: Any, world: World, operator: tuple[str, str] = CASHIER) -> None:
    """Log in on the cashier screen: choose the operator, type the PIN on the keypad."""
    page.goto(world.agent + "/#/login")
    page.click(f"[data-operator={operator[0]}]")
    for digit in operator[1]:
        page.click(f".pin-entry [data-key='{digit}']")
    page.click("#login-submit")
    page.wait_for_selector("[data-screen=home]")


def start_sale(page: Any, amount: str, note: str | None = None) -> str:
    """Type the amount on the keypad and press "Scan to charge"; returns the trade number."""
    page.wait_for_selector("[data-screen=home]")
    page.click(".keypad [data-key='clear']")
    for key in amount:
        page.click(f".keypad [data-key='{key}']")
    if note is not None:
        page.fill("#note", note)
    page.click("#charge")
    page.wait_for_selector("[data-screen=scan]")
    return trade_number(page)


def trade_number(page: Any) -> str:
    match = re.search(r"#/sale/([^/]+)$", page.url)
    assert match, page.url
    return match.group(1)


def scan_with_gun(page: Any, text: str, then: str, delay: float = 4) -> Any:
    """A USB scanner gun: the code typed fast into the page (no field focused), then
    Enter; returns the element ``then`` that the scan brings up.

    The page takes a burst as a scan only when no two keys are more than 80 ms apart
    (a person types slower). On a loaded two-CPU CI machine a key sent by the test
    can now and then wait longer than that, so a scan that brought nothing up is
    pulled again, as a cashier would, up to twice (the wedge's own fix for split
    bursts is issue 14's)."""
    attempts = 3
    for attempt in range(attempts):
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.type(text, delay=delay)
        page.keyboard.press("Enter")
        try:
            last = attempt == attempts - 1
            return page.wait_for_selector(then, timeout=20_000 if last else 5_000)
        except PlaywrightTimeout:
            if last:
                raise
    return None


def wallet_login(page: Any, world: World, account: str, pin: str) -> None:
    page.goto(world.wallet_url)
    page.fill("#account", account)
    page.fill("#pin", pin)
    page.click("#login-submit")
    page.wait_for_selector("#code-digits")


def masked(code: str) -> str:
    return f"{code[:6]}{'*' * (len(code) - 10)}{code[-4:]}"


def wait_until(page: Any, expression: str, timeout: float = 20.0) -> Any:
    """Poll ``expression`` in the page until it is truthy (``page.wait_for_function``
    would compile it in the page, which the pages' CSP rightly forbids)."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.1)
