"""Screenshots of the cashier screen and the wallet page, in zh-CN and en.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the whole system on a temporary folder (``scanpay.stack.Stack``, the
same as ``make run``), then drives Debian's headless Chromium through a working
day the way a cashier and a customer would - every screen is real, nothing is
mocked - and saves PNGs: the till at 1024x600, the phone at 390x844. The till's
camera is Chromium's fake camera playing a blurred photo of a wallet code, so
the scan screen shows live guidance. Needs /usr/bin/chromium; never downloads
anything.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import BASE_ARGS, CHROMIUM, fake_camera_args  # noqa: E402

TILL = {"width": 1024, "height": 600}
PHONE = {"width": 390, "height": 844}
SETTINGS = {"customer_deadline": 90.0, "unknown_deadline": 20.0, "poll_interval": 0.5}
SUPERVISOR_PIN = "987654"


class Shooter:
    """Saves screenshots as compact PNGs: ``<name>-<lang>.png``."""

    def __init__(self, out: Path, lang: str) -> None:
        self.out = out
        self.lang = lang
        self.saved: list[Path] = []

    def __call__(self, page: Any, name: str) -> None:
        import cv2
        import numpy as np

        time.sleep(0.3)  # let transitions and images settle
        raw = np.frombuffer(page.screenshot(), np.uint8)
        image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
        path = self.out / f"{name}-{self.lang}.png"
        ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        assert ok
        path.write_bytes(data.tobytes())
        self.saved.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)


def camera_video(code: str, path: Path) -> None:
    """A phone held too close to the till camera, out of focus: guidance, no read."""
    from scanpay.vision import synth

    label = synth.render_qr(code, module_px=6)
    frames = [
        synth.defocus(synth.place(label, side=330, angle=4, seed=i).frame, 7.0) for i in range(10)
    ]
    synth.write_y4m(frames, path, fps=5)


def new_page(browser: Any, viewport: dict[str, int], lang: str, **extra: Any) -> Any:
    context = browser.new_context(viewport=viewport, **extra)
    context.add_init_script(
        f"localStorage.setItem('scanpay.cashier.lang', '{lang}');"
        f"localStorage.setItem('scanpay.wallet.lang', '{lang}');"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def login(page: Any, agent: str, operator: str = "c01", pin: str = "1234") -> None:
    page.goto(agent + "/#/login")
    page.wait_for_selector("[data-screen=login]")
    page.click(f"[data-operator={operator}]")
    page.wait_for_selector("#pin")
    page.fill("#pin", pin)
    page.click("#login-submit")
    page.wait_for_selector("[data-screen=home]")


def amount(page: Any, text: str, note: str | None = None) -> None:
    page.click(".keypad [data-key='clear']")
    for key in text:
        page.click(f".keypad [data-key='{key}']")
    if note is not None:
        page.fill("#note", note)


def sale(page: Any, text: str, code: str, note: str | None = None) -> None:
    amount(page, text, note)
    page.click("#charge")
    page.wait_for_selector("[data-screen=scan]")
    page.fill("#code-input", code)
    page.click("#use-code")
    page.wait_for_selector("[data-screen=confirm]")


def wallet_login(page: Any, host: str, account: str, pin: str) -> None:
    page.goto(host + "/wallet/")
    page.fill("#account", account)
    page.fill("#pin", pin)
    page.click("#login-submit")
    page.wait_for_selector("#code-digits")


def day(stack: Any, browser: Any, till_camera: Any, lang: str, shot: Shooter) -> None:
    """One pass through the screens in ``lang``."""
    from scanpay.host.services.context import HostContext
    from scanpay.host.services.wallets import open_account
    from scanpay.host.wallet_page.service import fresh_code

    agent, host = stack.agent_url, stack.host_url
    alice, bob = stack.demo.wallets
    ctx = HostContext.open(stack.host_settings())
    try:
        till = new_page(till_camera, TILL, lang)
        till.goto(agent + "/#/login")
        till.wait_for_selector("[data-screen=login]")
        shot(till, "cashier-login")
        login(till, agent)
        amount(till, "36.50", "2 lattes")
        shot(till, "cashier-amount")

        # Scanning: the camera's live guidance, then the code from the keyboard.
        till.click("#charge")
        till.wait_for_selector("[data-screen=scan]")
        till.wait_for_selector("#guidance[data-code]:not([data-code=''])", timeout=20_000)
        shot(till, "cashier-scan")
        till.click("#camera-toggle")
        till.fill("#code-input", fresh_code(ctx, alice.account)[0])
        till.click("#use-code")
        till.wait_for_selector("[data-screen=confirm]")
        shot(till, "cashier-confirm")
        till.click("#confirm")
        till.wait_for_selector("[data-screen=approved]")
        shot(till, "cashier-approved")

        # A refund, approved by the supervisor's PIN.
        till.click("#refund")
        till.wait_for_selector("[data-screen=refund]")
        till.fill("#refund-amount", "18.25")
        till.fill("#refund-reason", "one latte returned")
        till.fill("#supervisor-pin", SUPERVISOR_PIN)
        till.click("#do-refund")
        till.click("#refund-confirm-yes")  # the confirm step: "Refund CNY 18.25?"
        till.wait_for_selector("#refund-result")
        shot(till, "cashier-refund")

        # A merchant's sticker scanned at the till: checked, never charged.
        till.click("[data-nav=nav_sale]")
        till.wait_for_selector("[data-screen=home]")
        amount(till, "5.00")
        till.click("#show-qr")
        till.wait_for_selector("[data-screen=order][data-state=SHOWN]")
        order_no = re.search(r"#/order/([^/]+)$", till.url).group(1)  # type: ignore[union-attr]
        shot(till, "cashier-show-to-pay")
        order = stack.agent.engine.orders.get(order_no)
        till.click("#cancel-order")
        till.wait_for_selector("[data-screen=order-result]")
        till.click("#new-sale")
        amount(till, "5.00")
        till.click("#charge")
        till.wait_for_selector("[data-screen=scan]")
        till.fill("#code-input", order.payload)
        till.click("#use-code")
        till.wait_for_selector("[data-screen=merchant-code]")
        shot(till, "cashier-merchant-code")
        till.click("#cancel")
        till.wait_for_selector("[data-screen=cancelled]")

        # A decline: a wallet without enough money.
        poor = open_account(ctx, name="Carol", currency="CNY", balance=500, pin="246810")
        till.click("#new-sale")
        sale(till, "12.00", fresh_code(ctx, poor.info.account)[0])
        till.click("#confirm")
        till.wait_for_selector("[data-screen=declined]")
        shot(till, "cashier-declined")

        # USER_PAYING: Bob confirms on his phone.
        phone = new_page(browser, PHONE, lang, is_mobile=True, has_touch=True)
        wallet_login(phone, host, bob.account, bob.pin)
        shot(phone, "wallet-code")
        till.click("#new-sale")
        sale(till, "168.00", phone.inner_text("#code-digits").replace(" ", ""), "cake for 12")
        till.click("#confirm")
        till.wait_for_selector("[data-screen=waiting_customer]")
        phone.wait_for_selector("#pending")
        shot(till, "cashier-waiting")
        shot(phone, "wallet-pending")
        phone.fill("#pending input[type=password]", bob.pin)
        phone.click("#confirm-pending")
        till.wait_for_selector("[data-screen=approved]")

        # Show-to-pay, paid from the phone (the QR's text pasted).
        till.click("#new-sale")
        amount(till, "9.90", "tea")
        till.click("#show-qr")
        till.wait_for_selector("[data-screen=order][data-state=SHOWN]")
        order_no = re.search(r"#/order/([^/]+)$", till.url).group(1)  # type: ignore[union-attr]
        payload = stack.agent.engine.orders.get(order_no).payload
        phone.click("#tab-scan")
        phone.fill("#payload", payload)
        phone.click("#check-payload")
        phone.wait_for_selector("#preview")
        shot(phone, "wallet-scan-preview")
        phone.click("#pay")
        till.wait_for_selector("[data-screen=order-result][data-state=PAID]")
        phone.wait_for_selector("#history li")
        time.sleep(2.5)
        shot(phone, "wallet-history")
        phone.context.close()

        # Recent sales, the day close, the terminal in training mode.
        till.click("[data-nav=nav_sales]")
        till.wait_for_selector("#sales-table")
        shot(till, "cashier-sales")
        till.click("[data-nav=nav_day]")
        till.wait_for_selector("[data-screen=day]")
        till.fill("#supervisor-pin", SUPERVISOR_PIN)
        till.click("#close-day")
        till.wait_for_selector("#close-result")
        shot(till, "cashier-day-close")
        till.click("[data-nav=nav_terminal]")
        till.wait_for_selector("[data-screen=terminal]")
        till.fill("#supervisor-pin", SUPERVISOR_PIN)
        till.click("#training-toggle")
        till.wait_for_selector("#training-banner:not([hidden])")
        shot(till, "cashier-terminal-training")
        till.fill("#supervisor-pin", SUPERVISOR_PIN)
        till.click("#training-toggle")
        till.wait_for_selector("#training-banner", state="hidden")
        till.context.close()

        # The till's screen on a phone.
        small = new_page(browser, PHONE, lang, is_mobile=True, has_touch=True)
        login(small, agent)
        amount(small, "23.80")
        shot(small, "cashier-phone-amount")
        sale(small, "23.80", fresh_code(ctx, alice.account)[0])
        small.click("#confirm")
        small.wait_for_selector("[data-screen=approved]")
        shot(small, "cashier-phone-approved")
        small.context.close()
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", action="append", choices=["en", "zh-CN"])
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from scanpay.host.services.context import HostContext
    from scanpay.host.wallet_page.service import fresh_code
    from scanpay.stack import Stack

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scanpay-shots-") as tmp:
        stack = Stack(
            Path(tmp) / "data", host_port=0, agent_port=0, terminal_settings=SETTINGS
        ).start()
        try:
            ctx = HostContext.open(stack.host_settings())
            video = Path(tmp) / "till.y4m"
            camera_video(fresh_code(ctx, stack.demo.wallets[0].account)[0], video)
            ctx.close()
            with sync_playwright() as playwright:
                launch = playwright.chromium.launch
                browser = launch(executable_path=CHROMIUM, headless=True, args=BASE_ARGS)
                till_camera = launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=BASE_ARGS + fake_camera_args(video),
                )
                for lang in args.lang or ["en", "zh-CN"]:
                    print(f"{lang}:", flush=True)
                    day(stack, browser, till_camera, lang, Shooter(args.out, lang))
                browser.close()
                till_camera.close()
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
