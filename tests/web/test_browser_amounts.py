"""Amounts the cashier types, on the 1024x600 till and on a 390x844 phone in real
Chromium (issue 14, items 3-5).

The screen used to filter each keystroke: ``-5`` became a 5.00 sale, an 11-digit
amount was cut to ten digits and sent, ``1,00`` became 100 and letters in a refund
amount meant "refund everything". Now the text stays as typed, the agent reads it in
the screen's language, and a refusal is said next to the field; refunding all is its
own button, and every refund is confirmed with its amount and currency first. The
host's database shows that nothing was charged or refunded by a refusal. Every
refusal and confirmation is read where it is said: shown, within the window, over
neither the field nor the buttons.
"""

from __future__ import annotations

from typing import Any

import pytest

from web.on_screen import SCREENS, laid_out
from web.world import SUPERVISOR, World, login, start_sale

pytestmark = pytest.mark.browser


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> Any:
    """The cashier's screen on the till and on a phone."""
    return request.getfixturevalue(SCREENS[request.param])


def _sales(page: Any) -> list[str]:
    """The agent's recent sales (trade numbers), as the screen's own session sees them."""
    found = page.evaluate("fetch('/api/sales').then((r) => r.json())")
    return [s["out_trade_no"] for s in found]


def _refused_on_home(page: Any, typed: str, button: str = "#charge") -> str:
    page.fill("#amount", typed)
    assert page.input_value("#amount") == typed  # as typed: nothing filtered, nothing cut
    page.click(button)
    message = str(page.wait_for_selector("#amount-error").inner_text())
    assert page.get_attribute("section[data-screen]", "data-screen") == "home"
    laid_out(page, "#amount-error", "#amount", "#charge", "#show-qr")
    assert page.input_value("#amount") == typed
    return message


def test_a_sale_amount_typed_wrong_is_refused_next_to_the_field(screen: Any, world: World) -> None:
    login(screen, world)
    before = _sales(screen)
    assert _refused_on_home(screen, "-5") == "An amount cannot be negative"
    # eleven digits: the maximum is the terminal's max_amount (50,000.00 CNY by default)
    assert _refused_on_home(screen, "99999999999") == "The amount can be at most CNY 50,000.00"
    assert _refused_on_home(screen, "1,00") == (
        "In an amount a comma groups thousands (as in 1,000.00): did you mean 1.00?"
    )
    assert _refused_on_home(screen, "-5", "#show-qr") == "An amount cannot be negative"
    # typing again takes the message away
    screen.type("#amount", "0")
    assert screen.locator("#amount-error").count() == 0
    # the other language says it in its own words, and keeps saying it after a switch
    assert _refused_on_home(screen, "12a") == "“a” cannot be in an amount: type digits, as in 12.34"
    screen.click("#lang-switch")
    assert screen.wait_for_selector("#amount-error").inner_text() == (
        "金额中不能有“a”：请输入数字，如 12.34"
    )
    screen.click("#lang-switch")
    assert _sales(screen) == before  # nothing was opened
    # a good amount typed on the keyboard is read as it is
    screen.fill("#amount", "1,234.50")
    screen.click("#charge")
    screen.wait_for_selector("[data-screen=scan]")
    assert screen.inner_text("#sale-amount") == "CNY1234.50"


def _refund_error(page: Any, typed: str) -> str:
    page.fill("#refund-amount", typed)
    assert page.input_value("#refund-amount") == typed
    page.click("#do-refund")
    message = str(page.wait_for_selector("#refund-amount-error").inner_text())
    assert page.locator("#refund-confirm").count() == 0  # no confirm step for it
    laid_out(page, "#refund-amount-error", "#refund-amount", "#refund-all", "#do-refund")
    return message


def test_a_refund_amount_is_read_as_typed_and_confirmed_with_its_currency(
    screen: Any, world: World
) -> None:
    alice, _ = world.account("Alice")
    login(screen, world, SUPERVISOR)  # a supervisor approves by being logged in
    no = start_sale(screen, "20.00")
    screen.fill("#code-input", world.code(alice))
    screen.click("#use-code")
    screen.click("#confirm")
    screen.wait_for_selector("[data-screen=approved]")
    paid = world.balance(alice)
    screen.click("#refund")
    screen.wait_for_selector("[data-screen=refund]")

    # what used to refund everything (letters, empty), or 1.00 (-1), or 100.00 (1,00)
    assert _refund_error(screen, "abc") == "“a” cannot be in an amount: type digits, as in 12.34"
    assert _refund_error(screen, "-1") == "An amount cannot be negative"
    assert _refund_error(screen, "1,00") == (
        "In an amount a comma groups thousands (as in 1,000.00): did you mean 1.00?"
    )
    assert _refund_error(screen, "") == "Enter the amount to refund, or press “Refund all”"
    assert _refund_error(screen, "20.01") == (
        "The refund is more than can be refunded (at most CNY 20.00)"
    )
    assert world.refunds(no) == [] and world.balance(alice) == paid

    # a good amount: confirmed with amount and currency before anything is sent
    screen.fill("#refund-amount", "1.00")
    screen.click("#do-refund")
    assert screen.wait_for_selector("#refund-confirm-text").inner_text() == "Refund CNY 1.00?"
    laid_out(screen, "#refund-confirm-text", "#refund-confirm-no", "#refund-confirm-yes")
    assert world.refunds(no) == []
    screen.click("#refund-confirm-no")  # changed their mind: back to the form
    screen.wait_for_selector("#do-refund")
    assert world.refunds(no) == []
    screen.click("#do-refund")
    screen.wait_for_selector("#refund-confirm-text")
    screen.click("#refund-confirm-yes")
    assert screen.wait_for_selector("#refund-result").inner_text() == "Refunded CNY 1.00"
    assert [(r.status, r.amount) for r in world.refunds(no)] == [("SUCCESS", 100)]

    # "Refund all" is its own button, and is confirmed with what is left
    screen.click("#refund-all")
    assert screen.wait_for_selector("#refund-confirm-text").inner_text() == "Refund CNY 19.00?"
    screen.click("#refund-confirm-yes")
    screen.wait_for_selector("#refund-result >> text=Refunded CNY 19.00")
    assert sorted(r.amount for r in world.refunds(no)) == [100, 1900]
    assert world.balance(alice) == paid + 2000
    assert world.ledger_ok()
