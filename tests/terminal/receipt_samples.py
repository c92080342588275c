"""Sales and the terminal whose receipts the receipt tests print: shared by the
layout tests (``terminal/test_receipts.py``) and the same receipts measured in
Chromium (``web/test_browser_receipt.py``), so both judge the same lines."""

from __future__ import annotations

from dataclasses import replace

from scanpay.terminal.config import TerminalConfig
from scanpay.terminal.receipts import Receipt, build_receipt
from scanpay.terminal.sale import CodeSummary, Sale, SaleState

# A Chinese shop name and city: two columns a character, as on real paper.
CFG = TerminalConfig(
    host_url="http://127.0.0.1:8600",
    terminal_id="T0001",
    key="00" * 32,
    merchant_id="M1",
    merchant_name="好运便利店",
    merchant_city="上海",
)


def sale(state: SaleState, **kw: object) -> Sale:
    """A finished 12.34 CNY sale paid (or not) by a scanpay wallet's code."""
    base = Sale.open("T0001ab-26031400001", 1234, "CNY", operator_id="c01", now=1.77e9)
    return replace(
        base,
        state=state,
        code=CodeSummary("wallet", "scanpay", "scanpay 881234********5678"),
        wallet="scanpay",
        payment_id="P123",
        finished_at=1.77e9 + 5,
        **kw,  # type: ignore[arg-type]
    )


def copies(s: Sale) -> list[Receipt]:
    """The merchant's and the customer's copy, in the order they print."""
    return [build_receipt(s, CFG, "merchant"), build_receipt(s, CFG, "customer")]


#: A sale whose identifiers and note are long enough to push the labels off their
#: line on 58 mm paper: the case the layout must handle without splitting a value.
LONG = replace(
    sale(SaleState.APPROVED, note="Two coffees, one tea 两杯咖啡，一杯茶，不要糖"),
    out_trade_no="T0000014c9d-26120700001",
    payment_id="P2026031412345678901234",
)
