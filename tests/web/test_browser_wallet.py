"""The cashier screen and the customer's wallet page together, in two browser
contexts of real headless Chromium: the PIN confirmation of a USER_PAYING sale,
show-to-pay, a refund approved with the supervisor's PIN, the day close.
Each test checks what both screens say and what the host recorded."""

from __future__ import annotations

import re
from typing import Any

import pytest

from web.world import SUPERVISOR, World, login, start_sale, wait_until, wallet_login

pytestmark = pytest.mark.browser


def test_user_paying_sale_confirmed_on_the_wallet_page(
    cashier: Any, customer: Any, world: World
) -> None:
    bob, pin = world.account("Bob")  # payments above 100.00 need his PIN
    before = world.balance(bob)
    wallet_login(customer, world, bob, pin)
    digits = customer.inner_text("#code-digits").replace(" ", "")
    assert re.fullmatch(r"88\d{16}", digits)
    assert customer.get_attribute("#code-qr", "src").startswith("data:image/svg+xml")
    assert customer.get_attribute("#code-barcode", "src").startswith("data:image/svg+xml")
    assert re.fullmatch(r"Refreshes in \d+ s", customer.inner_text("#code-countdown"))

    # The newcomer's path: the digits pasted into the cashier screen.
    login(cashier, world)
    no = start_sale(cashier, "150.00", note='<img src=x onerror="window.__xss=1">')
    cashier.fill("#code-input", digits)
    cashier.click("#use-code")
    cashier.wait_for_selector("[data-screen=confirm]")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=waiting_customer]")
    assert cashier.inner_text("#result-message") == (
        "Waiting for the customer to confirm on their phone"
    )
    assert re.fullmatch(r"\d+ s left", cashier.inner_text("#countdown"))
    assert cashier.is_visible("#cancel")
    assert world.wait_payment(no, "USER_PAYING").amount == 15000

    # The customer's phone shows who asks for how much; a wrong PIN first.
    customer.wait_for_selector("#pending")
    assert customer.inner_text("#pending-merchant") == "Demo Coffee"
    assert customer.inner_text("#pending-amount") == "CNY 150.00"
    # The cashier's note reaches the phone as the text it is, never as markup.
    assert '<img src=x onerror="window.__xss=1">' in customer.inner_text("#pending")
    assert customer.evaluate("window.__xss") is None
    customer.fill("#pending input[type=password]", "000000")
    customer.click("#confirm-pending")
    assert "Wrong PIN" in customer.wait_for_selector("#wallet-notice").inner_text()
    assert cashier.get_attribute("section[data-screen]", "data-screen") == "waiting_customer"
    customer.fill("#pending input[type=password]", pin)
    customer.click("#confirm-pending")

    cashier.wait_for_selector("[data-screen=approved]")
    assert cashier.inner_text("#result-title") == "Approved"
    customer.wait_for_selector("#wallet-notice.success")
    assert customer.query_selector("#pending") is None
    # The used code is replaced by a fresh one, and the payment is in the history.
    wait_until(
        customer,
        f"document.getElementById('code-digits').textContent.replace(/ /g, '') !== '{digits}'",
    )
    customer.click("#tab-history")
    assert "150.00" in customer.inner_text("#history")

    row = world.payment(no)
    assert row is not None and (row.status, row.code, row.amount) == ("SUCCESS", "00", 15000)
    assert world.balance(bob) == before - 15000
    assert customer.inner_text("#balance") == f"CNY{(before - 15000) / 100:.2f}"
    assert world.ledger_ok()


def test_refund_needs_the_supervisor_pin(cashier: Any, world: World) -> None:
    alice, _ = world.account("Alice")
    login(cashier, world)
    no = start_sale(cashier, "20.00")
    cashier.fill("#code-input", world.code(alice))
    cashier.click("#use-code")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")
    after_sale = world.balance(alice)

    cashier.click("#refund")
    cashier.wait_for_selector("[data-screen=refund]")
    assert cashier.inner_text("#refundable") == "CNY 20.00"
    cashier.fill("#refund-amount", "5.00")
    cashier.fill("#refund-reason", "one cup returned")
    cashier.click(f"[data-supervisor={SUPERVISOR[0]}]")
    cashier.fill("#supervisor-pin", "111111")
    cashier.click("#do-refund")
    assert cashier.wait_for_selector("#refund-confirm-text").inner_text() == "Refund CNY 5.00?"
    cashier.click("#refund-confirm-yes")
    assert cashier.wait_for_selector("#refund-error").inner_text() == "Wrong operator or PIN"
    assert world.refunds(no) == []

    for digit in SUPERVISOR[1]:
        cashier.click(f".supervisor [data-key='{digit}']")
    cashier.click("#do-refund")
    cashier.click("#refund-confirm-yes")
    result = cashier.wait_for_selector("#refund-result")
    assert result.inner_text() == "Refunded CNY 5.00"
    assert cashier.inner_text("#refundable") == "CNY 15.00"
    assert cashier.inner_text("#sale-state") == "Partly refunded"

    refunds = world.refunds(no)
    assert [(r.status, r.amount, r.approved_by) for r in refunds] == [("SUCCESS", 500, "s01")]
    payment = world.payment(no)
    assert payment is not None and payment.refunded_amount == 500
    assert world.balance(alice) == after_sale + 500
    assert world.ledger_ok()


def test_show_to_pay_paid_from_the_wallet_page(cashier: Any, customer: Any, world: World) -> None:
    from scanpay.vision import scan

    alice, pin = world.account("Alice")
    before = world.balance(alice)
    login(cashier, world)
    cashier.click(".keypad [data-key='clear']")
    for key in "9.90":
        cashier.click(f".keypad [data-key='{key}']")
    cashier.click("#show-qr")
    cashier.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    no = re.search(r"#/order/([^/]+)$", cashier.url).group(1)  # type: ignore[union-attr]
    assert cashier.inner_text("#order-merchant") == "Demo Coffee"
    assert cashier.inner_text("#order-amount") == "CNY9.90"
    assert re.fullmatch(r"\d+ s left", cashier.inner_text("#countdown"))
    wait_until(cashier, "document.getElementById('order-qr').naturalWidth > 0")

    # The customer's phone photographs the till's screen; the host reads the QR.
    photo = cashier.screenshot()
    payload = scan(photo).texts[0]
    order = world.order(no)
    assert order is not None and payload == order.payload and order.status == "CREATED"

    wallet_login(customer, world, alice, pin)
    customer.click("#tab-scan")
    customer.set_input_files(
        "#scan-image", files=[{"name": "till.png", "mimeType": "image/png", "buffer": photo}]
    )
    customer.wait_for_selector("#preview")
    assert customer.inner_text("#preview-merchant") == "Demo Coffee, Shanghai"
    assert customer.inner_text("#preview-amount") == "CNY 9.90"
    customer.click("#pay")
    assert customer.wait_for_selector("#wallet-notice.success").inner_text() == "Paid"

    cashier.wait_for_selector("[data-screen=order-result][data-state=PAID]")
    assert cashier.inner_text("#result-title") == "Paid"
    assert "Paid by 880000" in cashier.inner_text("#order-payer")
    order = world.order(no)
    assert order is not None and order.status == "PAID"
    assert world.balance(alice) == before - 990
    assert world.ledger_ok()


def test_paste_a_merchant_code_on_the_wallet_page_and_cancel_the_order(
    cashier: Any, customer: Any, world: World
) -> None:
    """The order is cancelled at the till: the wallet page says it cannot be paid."""
    alice, pin = world.account("Alice")
    before = world.balance(alice)
    login(cashier, world)
    for key in "6.00":
        cashier.click(f".keypad [data-key='{key}']")
    cashier.click("#show-qr")
    cashier.wait_for_selector("[data-screen=order][data-state=SHOWN]")
    no = re.search(r"#/order/([^/]+)$", cashier.url).group(1)  # type: ignore[union-attr]
    order = world.order(no)
    assert order is not None
    cashier.click("#cancel-order")
    cashier.wait_for_selector("[data-screen=order-result][data-state=CLOSED]")
    assert cashier.inner_text("#result-title") == "The order was cancelled"

    wallet_login(customer, world, alice, pin)
    customer.click("#tab-scan")
    customer.fill("#payload", order.payload)
    customer.click("#check-payload")
    assert (
        customer.wait_for_selector("#not-payable")
        .inner_text()
        .startswith("This order cannot be paid")
    )
    assert customer.query_selector("#pay") is None
    assert world.balance(alice) == before


def test_day_close_self_test_and_training(cashier: Any, world: World) -> None:
    login(cashier, world)
    cashier.click("[data-nav=nav_terminal]")
    cashier.wait_for_selector("[data-screen=terminal]")
    assert cashier.inner_text("#terminal-id") == world.stack.demo.terminal_id  # type: ignore[union-attr]
    assert cashier.get_attribute("[data-check=host]", "data-status") == "ok"
    with cashier.expect_response(lambda r: "/api/selftest?refresh=1" in r.url):
        cashier.click("#run-selftest")
    cashier.wait_for_selector("[data-check=journal][data-status=ok]")
    assert cashier.get_attribute("[data-check=camera]", "data-status") == "warn"  # no frame yet

    # Training mode needs the supervisor; the banner says so on every screen.
    cashier.fill("#supervisor-pin", SUPERVISOR[1])
    cashier.click("#training-toggle")
    cashier.wait_for_selector("#training-banner:not([hidden])")
    assert "Training mode" in cashier.inner_text("#training-banner")
    cashier.fill("#supervisor-pin", SUPERVISOR[1])
    cashier.click("#training-toggle")
    cashier.wait_for_selector("#training-banner", state="hidden")

    cashier.click("[data-nav=nav_day]")
    cashier.wait_for_selector("[data-screen=day]")
    cashier.fill("#supervisor-pin", SUPERVISOR[1])
    cashier.click("#close-day")
    verdict = cashier.wait_for_selector("#close-verdict")
    assert verdict.inner_text() == "Matches the host"
    cashier.click("#show-zreport")
    frame = cashier.frame_locator("#page-frame")
    assert "Z" in frame.locator("body").inner_text()


def test_the_wallet_page_camera_reads_the_till_qr(
    browser: Any, world: World, tmp_path: Any
) -> None:
    """The customer's phone camera (Chromium's fake camera playing the till's QR):
    frames go to the host, which reads them; payee and amount come up to pay."""
    import httpx
    import numpy as np

    from browser_support import BASE_ARGS, CHROMIUM, fake_camera_args
    from scanpay.vision import synth
    from web.world import PageWatch

    alice, pin = world.account("Alice")
    before = world.balance(alice)
    till = httpx.Client(base_url=world.agent, trust_env=False, timeout=30)
    till.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
    order = till.post("/api/orders", json={"amount_text": "3.30", "note": "cookie"}).json()
    label = synth.render_qr(order["payload"], module_px=4)
    frames = [synth.place(np.full_like(label, 255), side=300, seed=i).frame for i in range(10)]
    frames += [synth.place(label, side=330, angle=3, seed=i).frame for i in range(10)]
    video = tmp_path / "phone-camera.y4m"
    synth.write_y4m(frames, video, fps=10)
    phone_browser = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=BASE_ARGS + fake_camera_args(video)
    )
    try:
        context = phone_browser.new_context(viewport={"width": 390, "height": 844})
        phone = context.new_page()
        phone.set_default_timeout(60_000)
        watch = PageWatch(phone, (world.host + "/",))
        wallet_login(phone, world, alice, pin)
        phone.click("#tab-scan")
        phone.click("#camera-start")
        phone.wait_for_selector("#preview", timeout=30_000)
        assert phone.inner_text("#preview-amount") == "CNY 3.30"
        assert phone.inner_text("#preview-note") == "cookie"
        phone.click("#pay")
        phone.wait_for_selector("#wallet-notice.success")
        context.close()
    finally:
        phone_browser.close()
        till.close()
    watch.check()
    row = world.order(order["out_trade_no"])
    assert row is not None and row.status == "PAID"
    assert world.balance(alice) == before - 330
