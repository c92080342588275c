"""The cashier screen in real headless Chromium, against the real host and agent.

Each test does what a cashier does on the touch screen and checks two things:
what the screen says, and what the host recorded (payments, balances, the
ledger). Every page is watched: no request may leave loopback, no script may
throw (see ``conftest.py``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from browser_support import BASE_ARGS, CHROMIUM, fake_camera_args
from web.world import (
    World,
    login,
    masked,
    press_keys_at,
    scan_with_gun,
    start_sale,
)

pytestmark = pytest.mark.browser

XSS_NOTE = '<img src=x onerror="window.__xss=1">'


def test_scanner_gun_sale(cashier: Any, world: World) -> None:
    account, _ = world.account("Alice")
    before = world.balance(account)
    login(cashier, world)
    no = start_sale(cashier, "12.34", note=XSS_NOTE)
    assert cashier.inner_text("#scanner-ready") == "Scanner gun ready: just scan"

    # A person typing digits slowly is not a scanner: nothing happens.
    cashier.evaluate("document.activeElement && document.activeElement.blur()")
    press_keys_at(cashier, [(key, i * 180) for i, key in enumerate([*"88000000", "Enter"])])
    time.sleep(0.5)
    assert cashier.get_attribute("section[data-screen]", "data-screen") == "scan"

    code = world.code(account)
    scan_with_gun(cashier, code, then="[data-screen=confirm]")
    shown = cashier.inner_text("#confirm-code")
    assert masked(code) in shown and code not in cashier.content()
    assert cashier.inner_text("#sale-amount") == "CNY12.34"
    # The note is shown as the text it is, never as markup.
    assert cashier.inner_text("#sale-note") == XSS_NOTE
    assert world.payment(no) is None  # nothing sent before Confirm

    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")
    assert cashier.inner_text("#result-title") == "Approved"
    assert cashier.inner_text("#result-action") == "Next: Print the receipt"
    assert cashier.evaluate("window.__xss") is None

    row = world.payment(no)
    assert row is not None and (row.status, row.code, row.amount) == ("SUCCESS", "00", 1234)
    assert world.balance(account) == before - 1234
    assert world.ledger_ok()

    # The sale is in the list with its state, and its receipt opens.
    cashier.click("[data-nav=nav_sales]")
    item = cashier.wait_for_selector(f"tr[data-no='{no}']")
    assert "Approved" in item.inner_text() and "12.34" in item.inner_text()
    item.click()
    cashier.wait_for_selector("[data-screen=approved]")
    cashier.click("#reprint")
    cashier.wait_for_selector(".toast >> text=Receipt printed")
    cashier.click("#receipt")
    frame = cashier.frame_locator("#page-frame")
    assert no in frame.locator("body").inner_text()


def test_rescan_after_a_malformed_code(cashier: Any, world: World) -> None:
    account, _ = world.account("Alice")
    before = world.balance(account)
    login(cashier, world)
    no = start_sale(cashier, "3.50")

    # An EMV code whose checksum is wrong: refused with the reason, the sale still waits.
    bad = "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E468"
    error = scan_with_gun(cashier, bad, then="#scan-error")
    assert "The payment code cannot be used" in error.inner_text()
    assert "CRC" in error.inner_text() and "Scan again" in error.inner_text()
    assert cashier.get_attribute("section[data-screen]", "data-screen") == "scan"

    # A good code, then the cashier presses Rescan on the confirm screen ...
    scan_with_gun(cashier, world.code(account), then="[data-screen=confirm]")
    cashier.click("#rescan")
    cashier.wait_for_selector("[data-screen=scan]")
    assert cashier.query_selector("#scan-error") is None
    # ... and types the next one on the keyboard (the paste path).
    cashier.fill("#code-input", world.code(account))
    cashier.click("#use-code")
    cashier.wait_for_selector("[data-screen=confirm]")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")

    row = world.payment(no)
    assert row is not None and (row.status, row.amount) == ("SUCCESS", 350)
    assert world.balance(account) == before - 350  # charged once


def test_cancel_before_and_after_sending(cashier: Any, world: World) -> None:
    alice, _ = world.account("Alice")
    bob, _ = world.account("Bob")
    before = world.balance(alice), world.balance(bob)
    login(cashier, world)

    # Before sending: cancelled on the terminal, the host never hears of it.
    no = start_sale(cashier, "7.00")
    scan_with_gun(cashier, world.code(alice), then="[data-screen=confirm]")
    cashier.click("#cancel")
    cashier.wait_for_selector("[data-screen=cancelled]")
    assert cashier.inner_text("#result-title") == "Cancelled"
    assert cashier.inner_text("#result-message") == "The sale was cancelled"
    assert world.payment(no) is None

    # While the customer is asked for the PIN (Bob, above his limit): reversed on the host.
    cashier.click("#new-sale")
    no = start_sale(cashier, "120.00")
    scan_with_gun(cashier, world.code(bob), then="[data-screen=confirm]")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=waiting_customer]")
    assert "Waiting for the customer to confirm on their phone" in cashier.inner_text("#result")
    assert cashier.inner_text("#countdown").endswith("s left")
    world.wait_payment(no, "USER_PAYING")
    cashier.click("#cancel")
    cashier.wait_for_selector("[data-screen=cancelled]", timeout=30_000)
    assert "nothing was charged" in cashier.inner_text("#result-message")
    assert world.wait_payment(no, "REVERSED").amount == 12000
    assert (world.balance(alice), world.balance(bob)) == before
    assert world.ledger_ok()


def test_decline_is_shown_with_its_message(cashier: Any, world: World) -> None:
    poor = world.open_wallet(balance=100)  # 1.00 CNY
    login(cashier, world)
    no = start_sale(cashier, "12.34")
    scan_with_gun(cashier, world.code(poor), then="[data-screen=confirm]")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=declined]")
    assert cashier.inner_text("#result-title") == "Declined"
    assert cashier.inner_text("#result-message") == "Insufficient funds"
    assert cashier.inner_text("#result-action") == "Next: Ask the customer for another way to pay"
    assert cashier.inner_text("#result-code") == "Result code 51"
    assert cashier.query_selector("#refund") is None  # nothing to refund

    row = world.payment(no)
    assert row is not None and (row.status, row.code) == ("FAILED", "51")
    assert world.balance(poor) == 100
    assert world.ledger_ok()


def test_language_switch(cashier: Any, world: World) -> None:
    account, _ = world.account("Alice")
    login(cashier, world)
    assert cashier.inner_text("#charge") == "Scan to charge"
    cashier.click("#lang-switch")
    assert cashier.inner_text("#charge") == "扫码收款"
    assert cashier.inner_text("[data-nav=nav_sales]") == "交易记录"
    assert cashier.evaluate("document.documentElement.lang") == "zh-CN"

    no = start_sale(cashier, "1.00")
    assert cashier.inner_text("#screen-message") == "请扫描顾客的付款码"
    scan_with_gun(cashier, world.code(account), then="[data-screen=confirm]")
    assert cashier.inner_text("#confirm") == "确认收款"
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")
    assert cashier.inner_text("#result-title") == "支付成功"
    assert cashier.inner_text("#result-action") == "下一步: 打印小票"

    # Switching redraws the screen in place, and the choice outlives a reload.
    cashier.click("#lang-switch")
    assert cashier.inner_text("#result-title") == "Approved"
    cashier.click("#lang-switch")
    cashier.reload()
    cashier.wait_for_selector("[data-screen=approved]")
    assert cashier.inner_text("#result-title") == "支付成功"
    row = world.payment(no)
    assert row is not None and row.status == "SUCCESS"


def _camera_video(code: str, path: Path) -> None:
    """The till camera's view: an empty counter for 2 s, then the customer's phone."""
    from scanpay.vision import synth

    label = synth.render_qr(code, module_px=6)
    blank = np.full_like(label, 255)
    frames = [synth.place(blank, side=260, seed=i).frame for i in range(20)]
    frames += [
        synth.add_noise(synth.place(label, side=250, angle=6, tilt=12, seed=i).frame, 3, seed=i)
        for i in range(20)
    ]
    synth.write_y4m(frames, path, fps=10)


def test_camera_sale(browser: Any, world: World, tmp_path: Path) -> None:
    from web.world import PageWatch

    account, _ = world.account("Alice")
    before = world.balance(account)
    code = world.code(account)
    video = tmp_path / "till-camera.y4m"
    _camera_video(code, video)
    # A second Chromium of the same Playwright, whose camera plays the video.
    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=BASE_ARGS + fake_camera_args(video)
    )
    try:
        context = with_camera.new_context(viewport={"width": 1024, "height": 600})
        page = context.new_page()
        page.set_default_timeout(60_000)
        watch = PageWatch(page, (world.agent + "/",))
        # Record every guidance the screen draws over the video.
        page.add_init_script(
            """window.__guidance = [];
            new MutationObserver(() => {
              const g = document.getElementById("guidance");
              if (g && g.dataset.code) window.__guidance.push([g.dataset.code, g.textContent]);
            }).observe(document, {subtree: true, childList: true, characterData: true,
                                  attributes: true});"""
        )
        login(page, world)
        no = start_sale(page, "8.88")
        # No button: the frames go to the agent and the code is read when it appears.
        page.wait_for_selector("[data-screen=confirm]", timeout=30_000)
        seen = page.evaluate("window.__guidance")
        assert ["NO_CODE", "No code in view"] in seen, seen[:5]
        assert masked(code) in page.inner_text("#confirm-code")
        page.click("#confirm")
        page.wait_for_selector("[data-screen=approved]")
        context.close()
    finally:
        with_camera.close()
    watch.check()
    row = world.payment(no)
    assert row is not None and (row.status, row.amount) == ("SUCCESS", 888)
    assert world.balance(account) == before - 888
