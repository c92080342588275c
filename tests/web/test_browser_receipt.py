"""The HTML receipt in real Chromium (the page the cashier's receipt dialog shows and
prints): the lines laid out for 58 and 80 mm paper stay one line each, in the
monospace font a Chinese character takes exactly two columns, and on paper the
receipt fits the printable width. The dialog that shows it fits the till
(1024x600) and a phone (390x844), the receipt whole inside it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from scanpay.terminal.receipts import render_html
from scanpay.terminal.sale import HostResult, SaleState
from terminal.receipt_samples import LONG
from terminal.receipt_samples import copies as both_copies
from web.on_screen import SCREENS, laid_out
from web.world import World, login, start_sale

pytestmark = pytest.mark.browser

# 16 Chinese characters: a note line exactly 32 columns wide on 58 mm paper.
NOTE = "两杯咖啡一杯茶不要糖谢谢光临欢迎"

# The long sale of the layout tests, declined: its big "NOT PAID" lines and the
# reason must fit too; and with NOTE.
SALE = replace(LONG, state=SaleState.DECLINED, result=HostResult("51"), note=NOTE)

MEASURE = """() => [...document.querySelectorAll('.copy')].map((copy) => {
    const range = document.createRange();
    const lines = [...copy.querySelectorAll('.line')].map((line) => {
        range.selectNodeContents(line);
        const style = getComputedStyle(line);
        return {
            text: line.textContent,
            width: range.getBoundingClientRect().width,
            height: line.getBoundingClientRect().height,
            lineHeight: parseFloat(style.lineHeight),
        };
    });
    return {width: copy.clientWidth, columns: Number(copy.dataset.columns), lines};
})"""


@pytest.fixture
def till(browser: Any) -> Iterator[Any]:
    """A page at the cashier's till size (1024x600)."""
    context = browser.new_context(viewport={"width": 1024, "height": 600})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("width", [58, 80])
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_receipt_lines_stay_whole_in_the_browser(till: Any, width: int, language: str) -> None:
    till.set_content(render_html(both_copies(SALE), language, width))
    copies = till.evaluate(MEASURE)
    assert len(copies) == 2
    for copy in copies:
        assert copy["columns"] == {58: 32, 80: 48}[width]
        for line in copy["lines"]:
            # One line each, none past the receipt's edge (nothing wraps or overflows).
            assert line["height"] <= line["lineHeight"] * 1.05, line
            assert line["width"] <= copy["width"] + 0.5, line
        texts = [line["text"].strip() for line in copy["lines"]]
        assert "T0000014c9d-26120700001" in " ".join(texts)
        assert any(text.endswith("P2026031412345678901234") for text in texts)
        assert any(text.endswith(" 881234********5678") for text in texts)
        assert not any("scanpay 88" in text for text in texts)  # digits, the network apart
        if width == 58:
            # 16 Chinese characters take the full 32 columns: two each, as counted.
            note = next(line for line in copy["lines"] if line["text"] == NOTE)
            assert abs(note["width"] - copy["width"]) <= 1, (note, copy["width"])

    # Printed, the columns fit the paper's printable width (2 mm margins each side).
    till.emulate_media(media="print")
    printable = (width - 4) / 25.4 * 96
    for copy in till.evaluate(MEASURE):
        assert copy["width"] <= printable, (copy["width"], printable)
        assert all(line["width"] <= copy["width"] + 0.5 for line in copy["lines"])


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest) -> Any:
    """The cashier's screen on the till and on a phone."""
    return request.getfixturevalue(SCREENS[request.param])


def test_the_receipt_view_fits_the_screen(screen: Any, world: World) -> None:
    """The receipt of a sale as the cashier opens it: the dialog within the window,
    its parts apart, and the receipt inside its frame, every line whole."""
    login(screen, world)
    no = start_sale(screen, "12.34", note=NOTE)
    screen.click("#cancel")  # a cancelled sale has its receipt too, and needs no wallet
    screen.wait_for_selector("#result-title")
    screen.click("#receipt")
    laid_out(screen, ".modal-body h2", "#page-frame", "#print-page", "#close-modal")
    frame = screen.locator("#page-frame").element_handle().content_frame()
    assert frame is not None
    frame.wait_for_selector(f".copy >> text={no}")
    inside, room = frame.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert inside <= room, f"the receipt is {inside} px wide in a {room} px frame"
    shown = frame.evaluate(MEASURE)
    assert len(shown) == 2
    for copy in shown:
        assert copy["columns"] == 32  # the stack's printer: 58 mm paper
        assert any(line["text"] == NOTE for line in copy["lines"])
        for line in copy["lines"]:
            assert line["height"] <= line["lineHeight"] * 1.05, line
            assert line["width"] <= copy["width"] + 0.5, line
    screen.click("#close-modal")
    screen.wait_for_selector("#page-frame", state="hidden")
