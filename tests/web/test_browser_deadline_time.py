"""One PIN deadline and one clock on the cashier's till (1024x600) and the customer's
phone (390x844), both browsers running in UTC while the merchant's business day runs
in Asia/Shanghai (issue 14 items 12 and 13):

- the host decides how long a payment waits for the customer's PIN; the till and the
  phone count down to that one deadline; the till never gives up before it (its own
  shorter setting no longer reverses a payment the customer may still confirm); when
  it passes, both say "timed out", and the phone's card stays, marked so;
- the till shows the merchant's business time (the portal's), naming the zone where
  the browser's own clock could make it misread.

This module runs its own stack: the host waits :data:`PIN_WAIT` seconds for a PIN,
the terminal's own setting is the shorter :data:`OWN_DEADLINE`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from scanpay.host.portal.rows import local_time
from web.world import (
    TERMINAL_SETTINGS,
    World,
    login,
    running_world,
    start_sale,
    wallet_login,
    watched_page,
)

pytestmark = pytest.mark.browser

PIN_WAIT = 25
"""The host's wait for the customer's PIN, in seconds."""
OWN_DEADLINE = 6.0
"""The terminal's own setting: shorter than the host's, as 45 s against 120 s were."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(
        tmp_path_factory.mktemp("stack"),
        terminal_settings={**TERMINAL_SETTINGS, "customer_deadline": OWN_DEADLINE},
        environ={**os.environ, "SCANPAY_USER_PAYING_TIMEOUT": str(PIN_WAIT)},
    ) as running:
        yield running


@pytest.fixture
def till(browser: Any, world: World) -> Iterator[Any]:
    """The cashier's touch screen (1024x600), its clock in UTC."""
    with watched_page(
        browser, world, timezone_id="UTC", viewport={"width": 1024, "height": 600}, has_touch=True
    ) as page:
        yield page


@pytest.fixture
def phone(browser: Any, world: World) -> Iterator[Any]:
    """The customer's phone (390x844), its clock in UTC."""
    with watched_page(
        browser,
        world,
        timezone_id="UTC",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    ) as page:
        yield page


def seconds_left(page: Any, selector: str) -> int:
    match = re.fullmatch(r"(\d+) s left", page.inner_text(selector))
    assert match, page.inner_text(selector)
    return int(match.group(1))


def pay_with_code(page: Any, code: str) -> None:
    page.fill("#code-input", code)
    page.click("#use-code")
    page.wait_for_selector("[data-screen=confirm]")
    page.click("#confirm")


def business(moment: datetime, world: World) -> datetime:
    """The host's business-time rendering of ``moment`` (the portal's rule)."""
    return datetime.fromisoformat(local_time(moment, world.ctx.settings.zone))


def test_one_pin_deadline_from_the_host_on_both_screens(
    till: Any, phone: Any, world: World
) -> None:
    bob, pin = world.account("Bob")  # his payments above 100.00 wait for the PIN
    before = world.balance(bob)
    wallet_login(phone, world, bob, pin)
    login(till, world)
    no = start_sale(till, "150.00")
    pay_with_code(till, world.code(bob))
    till.wait_for_selector("[data-screen=waiting_customer]")
    row = world.wait_payment(no, "USER_PAYING")
    assert row.pin_deadline is not None
    deadline = row.pin_deadline.timestamp()
    assert deadline - row.created_at.timestamp() == PIN_WAIT

    # Both screens count down to the host's deadline (not to the till's own 6 s).
    left = seconds_left(till, "#countdown")
    assert abs(left - (deadline - time.time())) <= 2, left
    assert left > OWN_DEADLINE
    phone.wait_for_selector("#pending[data-state=waiting]")
    on_phone = seconds_left(phone, "#pending-countdown")
    assert abs(on_phone - (deadline - time.time())) <= 2, on_phone

    # Past the till's own setting the till still waits, and the customer still may pay.
    own_end = row.created_at.timestamp() + OWN_DEADLINE + 1
    while time.time() < own_end:
        time.sleep(0.1)
    assert till.get_attribute("section[data-screen]", "data-screen") == "waiting_customer"
    still = world.payment(no)
    assert still is not None and still.status == "USER_PAYING"

    # The host's deadline passes: "timed out", said as such, on both screens.
    till.wait_for_selector("[data-screen=timed_out]", timeout=(PIN_WAIT + 30) * 1000)
    assert time.time() >= deadline
    assert till.inner_text("#result-title") == "Timed out"
    assert till.inner_text("#result-message") == (
        "The customer did not confirm in time; nothing was charged"
    )
    assert till.inner_text("#sale-state") == "Timed out"
    card = phone.wait_for_selector("#pending[data-state=timed_out]")
    assert "You did not confirm in time" in card.inner_text()
    # The card stays with what it was about.
    assert phone.inner_text("#pending-merchant") == "Demo Coffee"
    assert phone.inner_text("#pending-amount") == "CNY 150.00"
    assert phone.query_selector("#pending input[type=password]") is None

    # In Chinese too.
    till.click("#lang-switch")
    till.wait_for_selector("html[lang=zh-CN]")
    assert till.inner_text("#result-title") == "已超时"
    assert till.inner_text("#result-message") == "顾客未在时限内确认，未扣款"
    phone.click("#lang-switch")
    phone.wait_for_selector("html[lang=zh-CN]")
    assert "您没有在时限内确认" in phone.inner_text("#pending[data-state=timed_out]")

    done = world.payment(no)
    assert done is not None and (done.status, done.code) == ("FAILED", "12")
    assert world.balance(bob) == before
    # Dismissed, the card goes.
    phone.click("#pending-dismiss")
    phone.wait_for_selector("#pending", state="detached")
    assert world.ledger_ok()


def test_the_till_shows_the_merchants_business_time(till: Any, world: World) -> None:
    alice, _ = world.account("Alice")
    login(till, world)
    no = start_sale(till, "2.00")
    pay_with_code(till, world.code(alice))
    till.wait_for_selector("[data-screen=approved]")
    with httpx.Client(base_url=world.agent, timeout=30, trust_env=False) as agent:
        agent.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
        sale = agent.get(f"/api/sales/{no}").json()
    created = business(datetime.fromtimestamp(sale["created_at"], UTC), world)
    finished = business(datetime.fromtimestamp(sale["finished_at"], UTC), world)
    assert str(created.tzinfo) == "UTC+08:00"
    row = world.payment(no)
    assert row is not None and row.paid_at is not None
    # The host's own timestamp, in business time, is the till's to the second or so.
    assert abs((business(row.paid_at, world) - finished).total_seconds()) < 5

    assert till.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
    # The sale's own screen: the business time, and its zone (the browser's differs).
    assert till.inner_text("#sale-time") == f"{finished:%Y-%m-%d %H:%M:%S} GMT+8"

    # The recent sales: the business time, the zone named once in the heading.
    till.click("[data-nav=nav_sales]")
    item = till.wait_for_selector(f"tr[data-no='{no}']")
    assert item.query_selector("td").inner_text() == f"{created:%Y-%m-%d %H:%M:%S}"
    assert till.inner_text("#sales-table th >> nth=0") == "Time (GMT+8)"
    utc_text = f"{datetime.fromtimestamp(sale['created_at'], UTC):%Y-%m-%d %H:%M:%S}"
    assert utc_text not in till.inner_text("#sales-table")

    # The receipt, as printed: the same business time.
    item.click()
    till.wait_for_selector("[data-screen=approved]")
    till.click("#receipt")
    frame = till.frame_locator("#page-frame")
    assert f"{finished:%Y-%m-%d %H:%M:%S}" in frame.locator("body").inner_text()
