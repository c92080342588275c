"""The cashier screen laid out and worded for people, on the till (1024x600) and on a
phone (390x844): nothing on the scan screen covers anything else, the code field's
hint fits, an error goes with the screen it was about, trade numbers read on one
line, and networks are named (WeChat Pay, never ``wechat_pay``). And the operator's
language pin: this module's world pins English, so a Chinese browser gets English.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from web.world import World, line_heights, login, masked, wait_until, watched_page

pytestmark = pytest.mark.browser

SCREENS = {
    "till": {"viewport": {"width": 1024, "height": 600}, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# A WeChat Pay payment code by its shape (18 digits, 10-15): read by the terminal, shown
# for confirmation, then cancelled - never sent.
WECHAT_CODE = "134567890123456789"


@pytest.fixture(params=list(SCREENS))
def till(request: pytest.FixtureRequest, browser: Any, world: World) -> Iterator[Any]:
    """The cashier screen on the till and on a phone, in an English browser."""
    with watched_page(browser, world, locale="en-US", **SCREENS[request.param]) as page:
        yield page


def _type_amount(page: Any, amount: str) -> None:
    page.wait_for_selector("[data-screen=home]")
    page.click(".keypad [data-key='clear']")
    for key in amount:
        page.click(f".keypad [data-key='{key}']")


def _to_scan(page: Any, amount: str = "1.00") -> str:
    _type_amount(page, amount)
    page.click("#charge")
    page.wait_for_selector("[data-screen=scan]")
    return str(page.evaluate("location.hash.split('/').pop()"))


# ------------------------------------------------------------------ the scan screen


def test_the_no_camera_text_is_clear_of_the_aiming_frame(till: Any, world: World) -> None:
    login(till, world)
    _to_scan(till)
    none = "No camera: use the scanner gun, an image or type the code"
    wait_until(till, f"document.querySelector('#camera-off')?.textContent === {none!r}")
    boxes = till.evaluate(
        """() => {
          const note = document.querySelector('#camera-off');
          const text = document.createRange();
          text.selectNodeContents(note);
          const frame = document.querySelector('#camera-box .viewfinder');
          const box = (r) => [r.left, r.top, r.right, r.bottom, r.width * r.height];
          const camera = document.querySelector('#camera-box');
          return { text: box(text.getBoundingClientRect()),
                   frame: box(frame.getBoundingClientRect()),
                   camera: box(camera.getBoundingClientRect()) };
        }"""
    )
    tl, tt, tr, tb, area = boxes["text"]
    cl, ct, cr, cb, _ = boxes["camera"]
    assert area > 0 and cl <= tl and tr <= cr and ct <= tt and tb <= cb  # shown, in its box
    fl, ft, fr, fb, frame_area = boxes["frame"]
    if frame_area > 0:
        assert tr <= fl or fr <= tl or tb <= ft or fb <= tt, (
            f"text {boxes['text']} frame {boxes['frame']}"
        )


def test_the_code_fields_hint_fits_in_it(till: Any, world: World) -> None:
    login(till, world)
    _to_scan(till)
    field = till.wait_for_selector("#code-input")
    assert field.get_attribute("placeholder")
    text, room = till.evaluate(
        """() => {
          const input = document.querySelector('#code-input');
          const style = getComputedStyle(input);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = style.font;
          const room = input.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
          return [ctx.measureText(input.placeholder).width, room];
        }"""
    )
    assert 0 < text <= room, f"the hint is {text:.0f} px in {room:.0f} px"


# ------------------------------------------------------------------ errors stay with their screen


def _errors_shown(page: Any) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.toast.error, #amount-error')]
             .filter((el) => el.getClientRects().length > 0).map((el) => el.textContent)"""
    )


def test_an_amount_error_does_not_follow_to_the_next_screen(till: Any, world: World) -> None:
    login(till, world)
    till.wait_for_selector("[data-screen=home]")
    till.click(".keypad [data-key='clear']")
    till.click("#charge")  # no amount
    wait_until(till, "document.querySelector('.toast.error, #amount-error') !== null")
    assert _errors_shown(till)
    _to_scan(till)
    assert _errors_shown(till) == []


def test_an_agent_error_toast_goes_with_its_screen(till: Any, world: World) -> None:
    """The agent refusing a sale says so over the amount screen; the next screen does
    not inherit it (toasts last seconds: long enough to outlive a move)."""
    login(till, world)
    _type_amount(till, "1.00")
    refusal = (
        '{"error": {"code": "bad_request", "message": {"zh-CN": "暂不可用", "en": "Not now"}}}'
    )
    till.route(
        "**/api/sales",
        lambda route: (
            route.fulfill(status=503, body=refusal, content_type="application/json")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    till.click("#charge")
    till.wait_for_selector(".toast.error")
    till.unroute("**/api/sales")
    till.click("#charge")
    till.wait_for_selector("[data-screen=scan]")
    assert _errors_shown(till) == []


# ------------------------------------------------------------------ words and the sales list


def test_networks_are_named_for_people(till: Any, world: World) -> None:
    login(till, world)
    no = _to_scan(till)
    till.fill("#code-input", WECHAT_CODE)
    till.click("#use-code")
    till.wait_for_selector("[data-screen=confirm]")
    assert till.inner_text("#confirm-wallet") == "WeChat Pay"
    assert till.inner_text("#confirm-code") == masked(WECHAT_CODE)
    till.click("#lang-switch")
    assert till.inner_text("#confirm-wallet") == "微信支付"
    till.click("#lang-switch")
    till.click("#cancel")
    till.wait_for_selector("#result-title")
    assert till.inner_text("#sale-wallet") == "WeChat Pay"
    assert "wechat_pay" not in till.inner_text("main")
    assert world.payment(no) is None  # never sent

    till.click("[data-nav=nav_sales]")
    row = till.wait_for_selector(f"#sales-table tr[data-no='{no}']")
    assert "WeChat Pay" in row.inner_text() and "wechat_pay" not in row.inner_text()


def test_trade_numbers_read_on_one_line(till: Any, world: World) -> None:
    login(till, world)
    no = _to_scan(till)
    till.click("#cancel")
    till.wait_for_selector("#result-title")
    # The sale's own screen: the number on one line there too.
    ((text, height, line),) = line_heights(till, "#trade-no")
    assert text == no and height < 1.5 * line, f"{text!r} takes {height:.0f} px of {line:.0f}"
    till.click("[data-nav=nav_sales]")
    till.wait_for_selector(f"#sales-table tr[data-no='{no}']")
    cells = [c for c in line_heights(till, "#sales-table tbody td") if c[0].startswith(no[:6])]
    assert any(text == no for text, _, _ in cells), cells
    for text, height, line in cells:
        assert line > 0
        assert height < 1.5 * line, f"{text!r} takes {height:.0f} px, one line is {line:.0f} px"
    # The window as set: an emulated phone widens innerWidth to fit wide content.
    wide = till.evaluate("document.documentElement.scrollWidth")
    window = till.viewport_size["width"]
    assert wide <= window, f"the sales list is {wide} px wide in a {window} px window"


def test_the_self_test_names_its_checks_in_words(till: Any, world: World) -> None:
    login(till, world)
    till.click("[data-nav=nav_terminal]")
    till.wait_for_selector("[data-check=in_doubt]")
    assert till.inner_text("[data-check=in_doubt] .name") == "Sales in doubt"
    assert till.inner_text("[data-check=host] .name") == "Host connection"
    names = till.eval_on_selector_all("#selftest .name", "(els) => els.map((e) => e.textContent)")
    assert names and all("_" not in n and n[:1].isupper() for n in names), names


def test_the_operators_pin_is_the_default_of_every_browser(browser: Any, world: World) -> None:
    """This world's terminal pins English: a Chinese browser starts in English too."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 600})
    try:
        page = context.new_page()
        page.goto(world.agent + "/#/login")
        page.wait_for_selector("[data-screen=login] h1")
        assert page.inner_text("[data-screen=login] h1") == "Who is working?"
    finally:
        context.close()
