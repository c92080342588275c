"""The HTML receipt in real Chromium (the page the cashier's receipt dialog shows and
prints): the lines laid out for 58 and 80 mm paper stay one line each, in the
monospace font a Chinese character takes exactly two columns, and on paper the
receipt fits the printable width."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from scanpay.terminal.config import TerminalConfig
from scanpay.terminal.receipts import build_receipt, render_html
from scanpay.terminal.sale import CodeSummary, HostResult, Sale, SaleState

pytestmark = pytest.mark.browser

CFG = TerminalConfig(
    host_url="http://127.0.0.1:8600",
    terminal_id="T0001",
    key="00" * 32,
    merchant_id="M1",
    merchant_name="好运便利店",
    merchant_city="上海",
)

# 16 Chinese characters: a note line exactly 32 columns wide on 58 mm paper.
NOTE = "两杯咖啡一杯茶不要糖谢谢光临欢迎"

SALE = replace(
    Sale.open("T0000014c9d-26120700001", 1234, "CNY", operator_id="c01", now=1.77e9),
    state=SaleState.DECLINED,
    result=HostResult("51"),
    code=CodeSummary("wallet", "scanpay", "scanpay 881234********5678"),
    wallet="scanpay",
    payment_id="P2026031412345678901234",
    finished_at=1.77e9 + 5,
    note=NOTE,
)

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
    receipts = [build_receipt(SALE, CFG, "merchant"), build_receipt(SALE, CFG, "customer")]
    till.set_content(render_html(receipts, language, width))
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
