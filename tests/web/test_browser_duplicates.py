"""Issue 14, items 6-9, on the cashier's touch screen (1024x600) in real Chromium:
one press is one sale or one order, whatever the finger does; a QR the screen
stops showing is closed on the host; refunds made in the merchant's portal reach
the sale's screen and the day close; show-to-pay sales are in the recent sales
and the day close under the wallet that paid; differences read as sentences.
The screens these bring (a sale refunded in the portal, an order's QR, the sales
list, the day's wallets) are also laid out on a phone (390x844); pressing and
closing do not depend on the window, so those run on the till alone.

The portal's refund is made as the portal makes it: the host's refund service,
called with a portal user as the actor and no terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from scanpay.host.db.models import Order, Payment, parse_public_id
from scanpay.host.services import audit, refunds
from scanpay.protocol.models import PaymentRequest, RefundRequest
from scanpay.terminal.client import Answer, NoReply
from web.on_screen import SCREENS, laid_out
from web.world import SUPERVISOR, World, login, start_sale

pytestmark = pytest.mark.browser

PRESSES = ["dblclick", "two rapid clicks"]


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> Any:
    """The cashier's screen on the till and on a phone."""
    return request.getfixturevalue(SCREENS[request.param])


# ------------------------------------------------------------------------ helpers


class Posts:
    """The page's POSTs to one agent path, and how many have been answered."""

    def __init__(self, page: Any, path: str) -> None:
        self.sent: list[Any] = []
        self.done: list[Any] = []
        wanted = lambda r: r.method == "POST" and r.url.split("?")[0].endswith(path)  # noqa: E731
        page.on("request", lambda r: self.sent.append(r) if wanted(r) else None)
        page.on("requestfinished", lambda r: self.done.append(r) if wanted(r) else None)
        page.on("requestfailed", lambda r: self.done.append(r) if wanted(r) else None)

    def settled(self, timeout: float = 30.0) -> int:
        """Wait until every POST sent has its answer; returns how many were sent."""
        end = time.monotonic() + timeout
        while len(self.done) < len(self.sent):
            assert time.monotonic() < end, "a POST is still unanswered"
            time.sleep(0.05)
        return len(self.sent)


def press(page: Any, selector: str, how: str) -> None:
    """A double click, or two clicks as fast as a finger taps twice: real mouse events
    at the button's middle (a disabled button then takes the second one)."""
    if how == "dblclick":
        page.dblclick(selector)
        return
    box = page.locator(selector).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.mouse.click(x, y)


def type_amount(page: Any, amount: str) -> None:
    page.wait_for_selector("[data-screen=home]")
    page.click(".keypad [data-key='clear']")
    for key in amount:
        page.click(f".keypad [data-key='{key}']")


def count(world: World, model: Any) -> int:
    with world.ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "still not so"
        time.sleep(0.05)


def portal_refund(world: World, out_trade_no: str, amount: int, number: str) -> None:
    """The owner refunds in the merchant portal (its refund route's own call)."""
    assert world.stack.demo is not None
    request = RefundRequest(
        out_refund_no=number, out_trade_no=out_trade_no, amount=amount, approved_by="owner"
    )
    done = refunds.create_refund(
        world.ctx,
        request,
        merchant_pk=parse_public_id(world.stack.demo.merchant_id, "M"),
        actor=audit.Actor("portal", "owner@demo.example"),
    )
    assert done.refund.status == "SUCCESS"


def customer(world: World) -> str:
    """A customer's wallet of its own: one payment per test and wallet, so that no
    wallet runs out of unused codes (a code pays once, a new one comes every 5 s)."""
    return world.open_wallet(50_000)


def paid_sale(page: Any, world: World, amount: str) -> str:
    """A sale rung up on the screen and paid with a customer's code; its trade number."""
    no = start_sale(page, amount)
    page.fill("#code-input", world.code(customer(world)))
    page.click("#use-code")
    page.click("#confirm")
    page.wait_for_selector("[data-screen=approved]")
    return no


def order_no(page: Any) -> str:
    return str(page.evaluate("location.hash.split('/').pop()"))


def wallet_pays(world: World, payload: str, account: str) -> dict[str, Any]:
    """A customer's wallet pays a scanned order QR (the wallet page's own API)."""
    answer = httpx.post(
        f"{world.host}/wallet/v1/pay",
        json={"payload": payload, "auth_code": world.code(account)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def close_day(page: Any) -> str:
    """Close the day with the supervisor's PIN; the verdict the screen shows."""
    page.click("[data-nav=nav_day]")
    page.wait_for_selector("[data-screen=day]")
    page.fill("#supervisor-pin", SUPERVISOR[1])
    page.click("#close-day")
    return str(page.wait_for_selector("#close-verdict").inner_text())


# ------------------------------------------------------ item 6: one press, one start


@pytest.mark.parametrize("how", PRESSES)
def test_scan_to_charge_pressed_twice_starts_one_sale(cashier: Any, world: World, how: str) -> None:
    journal = world.stack.agent.journal  # type: ignore[union-attr]
    alice = customer(world)
    before = {s.out_trade_no for s in journal.sales()}
    payments = len(world.payments_of(alice))
    login(cashier, world)
    posts = Posts(cashier, "/api/sales")
    type_amount(cashier, "3.45")
    press(cashier, "#charge", how)
    cashier.wait_for_selector("[data-screen=scan]")
    assert posts.settled() == 1
    new = [s for s in journal.sales() if s.out_trade_no not in before]
    assert [s.out_trade_no for s in new] == [order_no(cashier)]

    cashier.fill("#code-input", world.code(alice))
    cashier.click("#use-code")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")
    assert len(world.payments_of(alice)) == payments + 1
    assert [s.state.value for s in journal.sales() if s.out_trade_no not in before] == ["APPROVED"]


@pytest.mark.parametrize("how", PRESSES)
def test_show_qr_pressed_twice_makes_one_host_order(cashier: Any, world: World, how: str) -> None:
    orders = count(world, Order)
    login(cashier, world)
    posts = Posts(cashier, "/api/orders")
    type_amount(cashier, "4.56")
    press(cashier, "#show-qr", how)
    cashier.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    assert posts.settled() == 1
    assert count(world, Order) == orders + 1
    no = order_no(cashier)
    row = world.order(no)
    assert row is not None and (row.status, row.amount) == ("CREATED", 456)
    cashier.click("#cancel-order")
    cashier.wait_for_selector("[data-screen=order-result][data-state=CLOSED]")


@pytest.mark.parametrize("leave", ["back", "another screen"])
def test_a_qr_the_screen_leaves_is_closed_on_the_host(
    cashier: Any, world: World, leave: str
) -> None:
    alice = customer(world)
    login(cashier, world)
    type_amount(cashier, "5.67")
    cashier.click("#show-qr")
    cashier.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    no = order_no(cashier)
    if leave == "back":
        cashier.go_back()
        cashier.wait_for_selector("[data-screen=home]")
    else:
        cashier.evaluate("location.hash = '#/sales'")
        cashier.wait_for_selector("[data-screen=sales]")
    wait_for(lambda: getattr(world.order(no), "status", None) == "CLOSED")
    balance = world.balance(alice)
    row = world.order(no)
    assert row is not None
    late = wallet_pays(world, row.payload, alice)
    assert late["code"] != "00" or late["refunded"] is True
    assert world.balance(alice) == balance
    assert world.ledger_ok()


def test_a_qr_whose_time_is_up_is_closed_on_the_host(cashier: Any, world: World) -> None:
    """The shortest order the host makes (30 s), shown until its countdown ends."""
    login(cashier, world)
    made = cashier.request.post(
        f"{world.agent}/api/orders", data={"amount_text": "1.11", "expires_in": 30}
    )
    assert made.status == 201, made.text()
    no = made.json()["out_trade_no"]
    cashier.evaluate(f"location.hash = '#/order/{no}'")
    cashier.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    cashier.wait_for_selector("[data-screen=order-result]", timeout=90_000)
    assert cashier.inner_text("#result-title") == "The code expired; nothing was paid"
    # Closed by the screen at its time, or expired by the host a moment before: either
    # way nothing can be paid any more.
    wait_for(lambda: getattr(world.order(no), "status", None) in ("CLOSED", "EXPIRED"))
    row = world.order(no)
    assert row is not None
    payer = customer(world)
    balance = world.balance(payer)
    late = wallet_pays(world, row.payload, payer)
    assert late["code"] != "00" or late["refunded"] is True
    assert world.balance(payer) == balance


# ---------------------------------------------- item 8: the sale learns portal refunds


def test_the_sale_screen_learns_a_refund_made_in_the_portal(screen: Any, world: World) -> None:
    login(screen, world)
    no = paid_sale(screen, world, "12.34")
    portal_refund(world, no, 800, f"PR{no}")  # once per merchant: once per screen

    screen.click("[data-nav=nav_sales]")
    screen.click(f"tr[data-no='{no}']")
    screen.wait_for_selector("[data-screen=refunded]")
    assert screen.inner_text("#sale-state") == "Partly refunded"
    assert screen.inner_text("#refunded") == "8.00"
    assert screen.query_selector("#host-unchecked") is None
    laid_out(screen, "#sale-state", "#refunded", "#refund")
    screen.click("#refund")
    screen.wait_for_selector("[data-screen=refund]")
    assert screen.inner_text("#refundable") == "CNY 4.34"
    assert "Refunded in the portal or by the acquirer" in screen.inner_text("#refund-list")
    laid_out(screen, "#refundable", "#refund-list", "#refund-all", "#do-refund")

    # The till refunds what is left (the host said "4.34 left" to the stale figure).
    answer = screen.request.post(
        f"{world.agent}/api/sales/{no}/refunds",
        data={"amount": 434, "supervisor": {"operator_id": SUPERVISOR[0], "pin": SUPERVISOR[1]}},
    )
    assert answer.status == 200, answer.text()
    assert answer.json()["sale"]["state"] == "REFUNDED"
    payment = world.payment(no)
    assert payment is not None and (payment.status, payment.refunded_amount) == ("REFUNDED", 1234)
    assert world.ledger_ok()


def test_the_sale_screen_says_when_the_host_cannot_be_asked(
    cashier: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(cashier, world)
    no = paid_sale(cashier, world, "2.22")
    agent = world.stack.agent
    assert agent is not None
    away: Any = lambda *args, **kwargs: NoReply("network: ConnectError")  # noqa: E731
    monkeypatch.setattr(agent.client, "query", away)
    cashier.evaluate("location.hash = '#/sales'")
    cashier.wait_for_selector("[data-screen=sales]")
    cashier.click(f"tr[data-no='{no}']")
    notice = cashier.wait_for_selector("#host-unchecked")
    assert "may be out of date" in notice.inner_text()
    assert cashier.inner_text("#sale-state") == "Approved"


# ------------------------------------------ item 7: the day close counts portal refunds


def refunds_tile(page: Any) -> tuple[int, str]:
    """The day screen's refunds: (count, "CNY x.xx")."""
    page.click("[data-nav=nav_day]")
    page.wait_for_selector("[data-screen=day]")
    _, figures = page.inner_text("#tile-refunds").split("\n")
    number, _, money = figures.partition(" · ")
    return int(number), money


def test_the_day_close_matches_after_a_refund_in_the_portal(cashier: Any, world: World) -> None:
    login(cashier, world)
    no = paid_sale(cashier, world, "20.00")
    counted, total = refunds_tile(cashier)
    portal_refund(world, no, 500, "PRWEB2")
    cashier.click("[data-nav=nav_sales]")
    cashier.wait_for_selector("[data-screen=sales]")
    # Counted on the day screen without the sale being opened (the host was asked).
    now_counted, now_total = refunds_tile(cashier)
    assert now_counted == counted + 1
    minor = lambda shown: int(shown.removeprefix("CNY ").replace(".", ""))  # noqa: E731
    assert minor(now_total) == minor(total) + 500
    assert close_day(cashier) == "Matches the host"
    assert cashier.query_selector("#differences") is None


# ----------------------------------- item 9: show-to-pay in recent sales and the day close


@pytest.mark.parametrize("screen", ["till", "phone"], indirect=True)
def test_show_to_pay_is_in_recent_sales_and_the_day_close(screen: Any, world: World) -> None:
    login(screen, world)
    type_amount(screen, "3.30")
    screen.click("#show-qr")
    screen.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    laid_out(screen, "#order-qr", "#order-amount", "#cancel-order")
    no = order_no(screen)
    row = world.order(no)
    assert row is not None
    assert wallet_pays(world, row.payload, customer(world))["code"] == "00"
    screen.wait_for_selector("[data-screen=order-result][data-state=PAID]")

    screen.click("[data-nav=nav_sales]")
    line = screen.wait_for_selector(f"tr[data-no='{no}'][data-kind=order]")
    text = line.inner_text()
    assert "Paid" in text and "Shown QR" in text and "scanpay wallet" in text
    assert "order" not in text.lower().replace("shown qr", "")
    laid_out(screen, f"tr[data-no='{no}']")
    line.click()
    screen.wait_for_selector("[data-screen=order-result][data-state=PAID]")
    assert screen.inner_text("#order-wallet") == "scanpay wallet"

    screen.click("[data-nav=nav_day]")
    screen.wait_for_selector("[data-screen=day]")
    wallets = [
        w.strip() for w in screen.locator("tr[data-wallet] td:first-child").all_inner_texts()
    ]
    assert wallets == ["scanpay wallet"]
    laid_out(screen, "#tile-payments", "#tile-refunds", "tr[data-wallet]", "#close-day")
    screen.click("#lang-switch")
    wallets = [
        w.strip() for w in screen.locator("tr[data-wallet] td:first-child").all_inner_texts()
    ]
    assert wallets == ["scanpay 钱包"]
    screen.click("[data-nav=nav_sales]")
    text = screen.wait_for_selector(f"tr[data-no='{no}']").inner_text()
    assert "出示收款码" in text and "scanpay 钱包" in text and "已收款" in text
    screen.click("#lang-switch")


# ---------------------------------------- item 7: a difference reads as a sentence (last)


def test_a_difference_reads_as_a_sentence_in_both_languages(cashier: Any, world: World) -> None:
    """Last in the module: the stray payment leaves every later close of today unmatched."""
    agent = world.stack.agent
    assert agent is not None
    stray = PaymentRequest(
        out_trade_no="STRAY-0777", amount=777, currency="CNY", auth_code=world.code(customer(world))
    )
    assert isinstance(agent.client.pay(stray), Answer)
    login(cashier, world)
    assert close_day(cashier) == "Differs from the host: check the differences"
    items = cashier.locator("#differences li").all_inner_texts()
    assert items == [
        "Payment STRAY-0777: the host has CNY 7.77 (paid); this terminal has no record"
    ]
    cashier.click("#lang-switch")
    assert cashier.locator("#differences li").all_inner_texts() == [
        "付款 STRAY-0777：主机有 CNY 7.77（已支付），本终端没有记录"
    ]
    assert "{" not in cashier.inner_text("#close-result")
    cashier.click("#lang-switch")
    with world.ctx.db.read() as session:
        assert session.scalar(select(Payment).where(Payment.out_trade_no == "STRAY-0777"))
