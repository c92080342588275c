"""WeChat Pay codes on the cashier screen, in real headless Chromium, through the
whole chain: the terminal agent, the host, and the WeChat Pay simulator the host
routes the code to (``scanpay run``'s own stack, the demo merchant's channel to the
simulator's demo merchant, as ``make run`` sets it up).

Each test does what the cashier (and, where it takes a step, the customer) does and
checks three things: what the screen says, what the host recorded (the payment, its
network leg, the ledger), and what the network recorded (the customer's WeChat
wallet, the merchant's balance and the order, read from the simulator's admin).
Screens are waited for, never timed: the machine is busy.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scanpay.host.db.models import NetworkLeg
from scanpay.networks.leg import Leg, LegStatus
from web.world import World, login, masked, running_world, scan_with_gun, start_sale, watched_page

pytestmark = pytest.mark.browser

#: The host's network leg with WeChat Pay's own deadline (45 s) but a query every
#: second, so that a customer's password step ends on the screen soon after it does.
LEG = {
    "SCANPAY_NETWORK_DEADLINE": "45",
    "SCANPAY_NETWORK_REVERSE_AFTER": "2",
    "SCANPAY_NETWORK_POLL": "1",
}

#: Records each screen the cashier page shows, with the result panel's words when it
#: first appears: a short screen (the customer's password step) is seen however late
#: the test looks.
RECORD_SCREENS = """window.__screens = [];
new MutationObserver(() => {
  const section = document.querySelector("section[data-screen]");
  const id = section && section.dataset.screen;
  const seen = window.__screens;
  if (id && (!seen.length || seen[seen.length - 1][0] !== id)) {
    const result = document.getElementById("result");
    seen.push([id, result ? result.innerText : ""]);
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The stack with its WeChat Pay simulator (this module's ``cashier`` uses it)."""
    environ = {**os.environ, **LEG}
    with running_world(tmp_path_factory.mktemp("wechat"), environ=environ, sim=True) as running:
        yield running


@pytest.fixture(scope="module")
def hasty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A stack whose host gives the customer 6 s to pay, and may reverse 2 s after the
    pay call (WeChat Pay's rules are 45 s and 15 s)."""
    environ = {**os.environ, **LEG, "SCANPAY_NETWORK_DEADLINE": "6"}
    with running_world(tmp_path_factory.mktemp("hasty"), environ=environ, sim=True) as running:
        yield running


# ------------------------------------------------------------------ the network's side


def _wallet(world: World, balance: int, **body: Any) -> int:
    """A new customer's WeChat wallet at the simulator; its id."""
    made = world.sim_admin("POST", "/sim/wallets", json={"balance": balance, **body})
    return int(made["wallet_id"])


def _code(world: World, wallet_id: int, outcome: str, seconds: float | None = None) -> str:
    """A payment code of ``wallet_id`` that makes its payment end as ``outcome`` says."""
    body: dict[str, Any] = {"outcome": outcome}
    if seconds is not None:
        body["seconds"] = seconds
    return str(world.sim_admin("POST", f"/sim/wallets/{wallet_id}/codes", json=body)["auth_code"])


def _balance(world: World, wallet_id: int) -> int:
    return int(world.sim_admin("GET", f"/sim/wallets/{wallet_id}")["balance"])


def _earned(world: World) -> int:
    """The simulator's demo merchant's balance: what WeChat Pay owes the shop."""
    assert world.stack.wechat is not None
    return int(world.sim_admin("GET", f"/sim/merchants/{world.stack.wechat.mchid}")["balance"])


def _order(world: World, trade_no: str) -> dict[str, Any]:
    """The network's order of the host's trade number (the payment's public id)."""
    assert world.stack.wechat is not None
    orders = world.sim_admin("GET", "/sim/orders", params={"mchid": world.stack.wechat.mchid})
    [found] = [order for order in orders if order["out_trade_no"] == trade_no]
    return dict(found)


def _books_balance(world: World) -> None:
    accounts = world.sim_admin("GET", "/sim/accounts")
    assert accounts["balanced"], accounts


def _leg(world: World, payment_id: int) -> Leg:
    with world.ctx.db.read() as session:
        record = session.scalar(select(NetworkLeg).where(NetworkLeg.payment_id == payment_id))
        assert record is not None
        return Leg.from_dict(json.loads(record.leg))


def _leg_becomes(world: World, payment_id: int, status: LegStatus, timeout: float = 60.0) -> Leg:
    """Wait for the host's leg to reach ``status`` (its sweeper drives it)."""
    end = time.monotonic() + timeout
    while (leg := _leg(world, payment_id)).status is not status:
        assert time.monotonic() < end, f"the leg is {leg.status}, wanted {status}"
        time.sleep(0.2)
    return leg


def _screens(page: Any) -> list[tuple[str, str]]:
    return [(screen, text) for screen, text in page.evaluate("window.__screens")]


def _pay(cashier: Any, world: World, amount: str, code: str) -> str:
    """The cashier's sale of ``amount`` paid with ``code`` through the scanner gun, up to
    pressing Confirm; returns the terminal's trade number."""
    login(cashier, world)
    no = start_sale(cashier, amount)
    scan_with_gun(cashier, code, then="[data-screen=confirm]")
    assert cashier.inner_text("#confirm-wallet") == "WeChat Pay"
    shown = cashier.inner_text("#confirm-code")
    assert masked(code) in shown and code not in cashier.content()
    cashier.click("#confirm")
    return no


# ------------------------------------------------------------------ the tests


def test_a_code_from_the_simulators_page_is_approved(
    cashier: Any, customer: Any, world: World
) -> None:
    wechat = world.stack.wechat
    assert wechat is not None
    before, earned = _balance(world, wechat.wallet_id), _earned(world)

    # The demo customer's phone: the simulator's code page, as the README says.
    customer.goto(f"{world.sim}/sim/wallets/{wechat.wallet_id}/code")
    code = customer.inner_text("#code").strip()
    assert re.fullmatch(r"1[0-5]\d{16}", code), "a WeChat Pay code: 18 digits, 10-15"

    no = _pay(cashier, world, "12.34", code)
    cashier.wait_for_selector("[data-screen=approved]", timeout=60_000)
    assert cashier.inner_text("#result-title") == "Approved"

    row = world.payment(no)
    assert row is not None
    assert (row.status, row.code, row.amount, row.network) == ("SUCCESS", "00", 1234, "wechat_pay")
    assert _leg(world, row.id).status is LegStatus.APPROVED
    order = _order(world, row.public_id)
    assert (order["state"], order["total"], order["wallet_id"]) == (
        "SUCCESS",
        1234,
        wechat.wallet_id,
    )
    assert _balance(world, wechat.wallet_id) == before - 1234
    assert _earned(world) == earned + 1234
    _books_balance(world)
    assert world.ledger_ok()


def test_the_customers_password_step_waits_then_approves(cashier: Any, world: World) -> None:
    wallet = _wallet(world, 50_000)
    earned = _earned(world)
    # The customer enters the password on the phone 5 s after the pay call: until then
    # WeChat Pay answers USERPAYING, and the host queries it every second.
    code = _code(world, wallet, "USERPAYING_SUCCESS", seconds=5)
    cashier.add_init_script(RECORD_SCREENS)

    no = _pay(cashier, world, "23.45", code)
    cashier.wait_for_selector("[data-screen=approved]", timeout=60_000)
    screens = _screens(cashier)
    names = [screen for screen, _ in screens]
    assert "waiting_customer" in names, names
    assert names.index("waiting_customer") < names.index("approved"), names
    waiting = dict(screens)["waiting_customer"]
    assert "Waiting for the customer to confirm on their phone" in waiting, waiting

    row = world.payment(no)
    assert row is not None and (row.status, row.amount) == ("SUCCESS", 2345)
    leg = _leg(world, row.id)
    # Approved by a query: the pay call itself was answered USERPAYING.
    assert leg.status is LegStatus.APPROVED and leg.queries >= 1
    assert _order(world, row.public_id)["state"] == "SUCCESS"
    assert _balance(world, wallet) == 50_000 - 2345
    assert _earned(world) == earned + 2345
    _books_balance(world)
    assert world.ledger_ok()


def test_the_customer_confirms_on_the_phone_while_the_screen_waits(
    cashier: Any, customer: Any, world: World
) -> None:
    # The README's step: the demo customer's wallet asks for its password above
    # 500.00, and WeChat Pay waits until the customer confirms on the simulator's page.
    wechat = world.stack.wechat
    assert wechat is not None and wechat.password_above == 50_000
    wallet, earned = wechat.wallet_id, _earned(world)
    before = _balance(world, wallet)
    customer.goto(f"{world.sim}/sim/wallets/{wallet}/code")
    code = customer.inner_text("#code").strip()

    no = _pay(cashier, world, "600.00", code)
    cashier.wait_for_selector("[data-screen=waiting_customer]", timeout=60_000)
    assert "Waiting for the customer to confirm on their phone" in cashier.inner_text("#result")
    assert cashier.inner_text("#countdown").endswith("s left")
    row = world.wait_payment(no, "USER_PAYING")
    assert _order(world, row.public_id)["state"] == "USERPAYING"
    assert _balance(world, wallet) == before  # nothing moves before the password

    customer.goto(f"{world.sim}/sim/")
    customer.click("a[href^='/sim/pay/'] >> text=600.00")
    customer.click("#confirm")
    assert customer.inner_text("#state") == "SUCCESS"

    cashier.wait_for_selector("[data-screen=approved]", timeout=60_000)
    assert cashier.inner_text("#result-title") == "Approved"
    row = world.wait_payment(no, "SUCCESS")
    assert row.amount == 60_000
    assert _order(world, row.public_id)["state"] == "SUCCESS"
    assert _balance(world, wallet) == before - 60_000
    assert _earned(world) == earned + 60_000
    _books_balance(world)
    assert world.ledger_ok()


def test_a_network_decline_is_shown_with_its_message(cashier: Any, world: World) -> None:
    wallet = _wallet(world, 100_000)
    earned = _earned(world)
    code = _code(world, wallet, "NOTENOUGH")

    no = _pay(cashier, world, "12.34", code)
    cashier.wait_for_selector("[data-screen=declined]", timeout=60_000)
    assert cashier.inner_text("#result-title") == "Declined"
    assert cashier.inner_text("#result-message") == "Insufficient funds"
    assert cashier.inner_text("#result-action") == "Next: Ask the customer for another way to pay"
    assert cashier.inner_text("#result-code") == "Result code 51"
    assert cashier.query_selector("#refund") is None  # nothing to refund

    row = world.payment(no)
    assert row is not None and (row.status, row.code, row.network) == ("FAILED", "51", "wechat_pay")
    order = _order(world, row.public_id)
    assert (order["state"], order["err_code"]) == ("PAYERROR", "NOTENOUGH")
    assert _balance(world, wallet) == 100_000
    assert _earned(world) == earned
    _books_balance(world)
    assert world.ledger_ok()


def test_a_customer_who_never_pays_is_reversed_at_the_deadline(browser: Any, hasty: World) -> None:
    wallet = _wallet(hasty, 10_000)
    code = _code(hasty, wallet, "USERPAYING_NEVER")
    with watched_page(
        browser, hasty, viewport={"width": 1024, "height": 600}, has_touch=True
    ) as cashier:
        cashier.add_init_script(RECORD_SCREENS)
        no = _pay(cashier, hasty, "9.99", code)
        # The host's deadline (6 s) passes with the payment in doubt: it fails the sale
        # and reverses it at WeChat Pay; the screen says the customer ran out of time.
        cashier.wait_for_selector("[data-screen=timed_out]", timeout=60_000)
        assert cashier.inner_text("#result-title") == "Timed out"
        assert cashier.inner_text("#result-message") == (
            "The customer did not confirm in time; nothing was charged"
        )
        names = [screen for screen, _ in _screens(cashier)]
        assert "waiting_customer" in names, names

    row = hasty.wait_payment(no, "FAILED")
    assert (row.reason, row.network) == ("network_timeout", "wechat_pay")
    # The reverse (journaled once WeChat Pay answered it) closed the order at the
    # network: it can never be paid now.
    _leg_becomes(hasty, row.id, LegStatus.REVERSED)
    assert _order(hasty, row.public_id)["state"] == "CLOSED"
    assert _balance(hasty, wallet) == 10_000
    _books_balance(hasty)
    assert hasty.ledger_ok()
