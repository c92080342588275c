"""Receipts and Z-reports: HTML and ESC/POS for 58/80 mm; unconfirmed sales say so."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scanpay.terminal.config import PrinterConfig, TerminalConfig
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.receipts import (
    ReceiptPrinter,
    build_receipt,
    build_zreport,
    render_escpos,
    render_html,
    render_zreport_escpos,
    render_zreport_html,
)
from scanpay.terminal.sale import CodeSummary, HostResult, Sale, SaleState
from scanpay.terminal.totals import DayTotals, WalletTotal

CFG = TerminalConfig(
    host_url="http://127.0.0.1:8600",
    terminal_id="T0001",
    key="00" * 32,
    merchant_id="M1",
    merchant_name="好运便利店",
    merchant_city="上海",
)


def sale(state: SaleState, **kw: object) -> Sale:
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


def copies(s: Sale) -> list:
    return [build_receipt(s, CFG, "merchant"), build_receipt(s, CFG, "customer")]


def test_html_receipt_has_both_copies_and_the_facts() -> None:
    html = render_html(copies(sale(SaleState.APPROVED)), "zh-CN")
    assert html.count('class="copy"') == 2
    for fact in (
        "好运便利店",
        "T0001",
        "c01",
        "T0001ab-26031400001",
        "12.34",
        "881234********5678",
        "商户存根",
        "顾客联",
        "支付成功",
    ):
        assert fact in html
    assert "未支付" not in html and "TRAINING" not in html


@pytest.mark.parametrize(
    "state",
    [
        SaleState.UNKNOWN,
        SaleState.USER_PAYING,
        SaleState.REVERSING,
        SaleState.REVERSED,
        SaleState.DECLINED,
        SaleState.CANCELLED,
    ],
)
def test_unconfirmed_sale_receipt_says_not_paid(state: SaleState) -> None:
    html = render_html(copies(sale(state, result=HostResult("51"))), "en")
    assert html.count("NOT PAID - PAYMENT NOT CONFIRMED") == 2
    data = render_escpos(copies(sale(state)), width=58, encoding="ascii", language="en")
    assert data.count(b"NOT PAID") == 2


def test_declined_receipt_gives_the_reason() -> None:
    html = render_html(copies(sale(SaleState.DECLINED, result=HostResult("51"))), "en")
    assert "Insufficient funds (51)" in html


def test_training_and_reprint_are_marked() -> None:
    receipts = [
        build_receipt(sale(SaleState.APPROVED, training=True), CFG, "customer", reprint=True)
    ]
    html = render_html(receipts, "en")
    assert "TRAINING - NOT A REAL SALE" in html and "REPRINT" in html
    data = render_escpos(receipts, encoding="gb18030", language="zh-CN")
    assert "培训模式".encode("gb18030") in data and "重印".encode("gb18030") in data


@pytest.mark.parametrize(("width", "columns"), [(58, 32), (80, 48)])
def test_escpos_layout_fits_the_paper(width: int, columns: int) -> None:
    data = render_escpos(copies(sale(SaleState.APPROVED)), width=width, encoding="gb18030")
    assert data.startswith(b"\x1b@")  # initialise
    assert b"\x1c&" in data  # Chinese (GB18030) mode
    assert "好运便利店".encode("gb18030") in data
    # Each copy ends by feeding past the tear bar; printers with a cutter also cut.
    assert data.count(b"\x1bd") == 2
    assert data.count(b"\x1dV") == (2 if width == 80 else 0)
    assert b"\x1dk\x49" in data  # CODE128 of the trade number
    rule = b"-" * columns + b"\n"
    assert rule in data and b"-" * (columns + 1) not in data


def test_escpos_ascii_mode_prints_english_only() -> None:
    data = render_escpos(copies(sale(SaleState.APPROVED)), encoding="ascii", language="zh-CN")
    assert b"MERCHANT COPY" in data and b"\x1c&" not in data
    assert max(data.replace(b"\x1b", b"").replace(b"\x1d", b"")) < 0x100


def test_escpos_refuses_other_paper() -> None:
    with pytest.raises(TerminalError):
        render_escpos(copies(sale(SaleState.APPROVED)), width=76)


def test_zreport_html_and_escpos() -> None:
    totals = DayTotals(
        date(2026, 3, 14),
        "CNY",
        4,
        3900,
        2,
        800,
        declined=1,
        cancelled=1,
        reversed=1,
        training_count=1,
        training_total=999,
        by_wallet=(WalletTotal("scanpay", 3, 1900),),
    )
    z = build_zreport(
        CFG,
        totals,
        closed_by="s01",
        closed_at=1.77e9,
        matched=False,
        differences=[
            {"out_trade_no": "A", "kind": "payment", "terminal": "SUCCESS 1000", "host": None}
        ],
    )
    html = render_zreport_html(z, "en")
    assert "DIFFERS FROM THE HOST" in html and "39.00" in html and "31.00" in html
    assert "SUCCESS 1000" in html
    data = render_zreport_escpos(z, width=80, encoding="ascii", language="en")
    assert b"Z-REPORT" in data and b"CNY 31.00" in data
    ok = build_zreport(CFG, totals, closed_by="s01", closed_at=1.77e9, matched=None)
    assert "NOT SENT TO THE HOST" in render_zreport_html(ok, "en")


def test_file_printer_appends_and_keeps_html(tmp_path: Path) -> None:
    target = tmp_path / "printer.bin"
    printer = ReceiptPrinter(
        PrinterConfig(kind="file", path=str(target), html_dir=str(tmp_path / "html"))
    )
    printer.send(b"one")
    printer.send(b"two")
    assert target.read_bytes() == b"onetwo"
    assert printer.keep_html("x", "<p>") == tmp_path / "html" / "x.html"


def test_unreachable_network_printer_is_a_typed_error() -> None:
    printer = ReceiptPrinter(PrinterConfig(kind="network", host="127.0.0.1", port=9))
    with pytest.raises(TerminalError) as err:
        printer.send(b"x")
    assert err.value.code == "printer_error"
