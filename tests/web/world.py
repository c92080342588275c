"""The world the web tests run in: the real host and a real terminal agent on free
loopback ports (``scanpay run``'s own :class:`scanpay.stack.Stack`, demo data
included), the host's database to check what the screens say, and helpers that
drive Chromium the way a cashier and a customer would. A world started with
``sim=True`` has the stack's WeChat Pay simulator too, whose admin (``/sim/...``)
tells what the network recorded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
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
    # The operator's pin: every browser starts in English, whatever its own language
    # (test_browser_language.py runs a world without it).
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

    @property
    def sim(self) -> str:
        """The WeChat Pay simulator's address (a world started with ``sim=True``)."""
        return self.stack.sim_url

    def sim_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call to the simulator's admin (``/sim/...``, loopback only): its JSON."""
        response = httpx.request(method, self.sim + path, timeout=60, trust_env=False, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()


@contextmanager
def running_world(
    folder: Path,
    terminal_settings: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    *,
    tls: bool = False,
    sim: bool = False,
) -> Iterator[World]:
    """A stack on free ports: the tests' terminal settings unless others are given,
    the host's environment unless ``environ`` is; with ``tls`` the host speaks HTTPS
    only and the terminal trusts it through its CA file and pin; with ``sim`` the
    WeChat Pay simulator runs too, the demo merchant's WeChat Pay channel to it."""
    settings = TERMINAL_SETTINGS if terminal_settings is None else terminal_settings
    stack = Stack(
        folder / "data",
        host_port=0,
        agent_port=0,
        sims={"wechat": 0} if sim else {},
        environ=environ,
        terminal_settings=settings,
        tls=tls,
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


@contextmanager
def watched_page(browser: Any, world: World, **options: Any) -> Iterator[Any]:
    """A page in a fresh browser context (``options`` as Playwright's ``new_context``),
    watched: after it closes, nothing may have left loopback and no script may have
    thrown."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(60_000)
    allowed = (world.agent + "/", world.host + "/")
    if world.stack.sim is not None:
        allowed += (world.sim + "/",)
    watch = PageWatch(page, allowed)
    try:
        yield page
    finally:
        context.close()
    watch.check()


#: Each matched element's text, its laid-out height and the height of one line of it
#: (its first visible character): a cell that wraps is taller than its one line.
LINE_HEIGHTS = """(selector) => [...document.querySelectorAll(selector)].map((cell) => {
  const all = document.createRange();
  all.selectNodeContents(cell);
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  let node = walker.nextNode();
  while (node && !node.textContent.trim()) node = walker.nextNode();
  if (!node) return [cell.textContent, 0, 0];
  const at = node.textContent.search(/\\S/);
  const one = document.createRange();
  one.setStart(node, at);
  one.setEnd(node, at + 1);
  return [cell.textContent.trim(), all.getBoundingClientRect().height,
    one.getBoundingClientRect().height];
})"""


def line_heights(page: Any, selector: str) -> list[tuple[str, float, float]]:
    """(text, height, one line's height) of each element ``selector`` matches."""
    cells = page.evaluate(LINE_HEIGHTS, selector)
    return [(str(text), float(height), float(line)) for text, height, line in cells]


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


#: What Chromium's DevTools needs to type a named key (a character needs only itself).
NAMED_KEYS: dict[str, dict[str, Any]] = {
    "Enter": {"code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    "Tab": {"code": "Tab", "windowsVirtualKeyCode": 9},
}


def press_keys_at(page: Any, keys: Sequence[tuple[str, float]]) -> None:
    """Press ``keys``, each a (key, milliseconds from now) pair, as a keyboard would at
    those times, however busy the machine is.

    Each key goes to Chromium through DevTools stamped with its time, and that stamp
    is the ``event.timeStamp`` the page reads. A test process held back by a loaded
    CPU delivers the keys late, as a whole or one by one, but the page still sees
    them as typed at the given times: the timing under test is the test's, not the
    machine's (Playwright's ``keyboard.type`` stamps each key when it arrives)."""
    session = page.context.new_cdp_session(page)
    try:
        start = time.time()
        for key, at in keys:
            if key in NAMED_KEYS:
                params = {"key": key, **NAMED_KEYS[key]}
            elif len(key) == 1:
                params = {"key": key, "text": key, "unmodifiedText": key}
            else:
                raise ValueError(f"no DevTools key for {key!r}")
            stamp = start + at / 1000
            down = {"type": "keyDown", "timestamp": stamp, **params}
            typed = ("text", "unmodifiedText")  # a key's release types nothing
            up = {"type": "keyUp", "timestamp": stamp}
            up.update((name, value) for name, value in params.items() if name not in typed)
            session.send("Input.dispatchKeyEvent", down)
            session.send("Input.dispatchKeyEvent", up)
    finally:
        session.detach()


def scan_with_gun(page: Any, text: str, then: str, gap: float = 4) -> Any:
    """A USB scanner gun: the code typed into the page (no field focused) a key every
    ``gap`` ms, then Enter; returns the element ``then`` that the scan brings up.

    Deterministic on a loaded machine: the keys reach the page stamped ``gap`` ms
    apart (:func:`press_keys_at`), as a gun's would. How the page copes with a gun
    whose own keys stall is ``test_wedge_js``'s subject, timed in the page."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    press_keys_at(page, [(key, i * gap) for i, key in enumerate([*text, "Enter"])])
    return page.wait_for_selector(then, timeout=20_000)


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
