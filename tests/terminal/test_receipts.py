"""Receipts and Z-reports: HTML and ESC/POS for 58/80 mm; unconfirmed sales say so."""

from __future__ import annotations

import html as htmllib
import re
import string
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanpay.i18n import Text
from scanpay.terminal.config import PrinterConfig
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.receipts import (
    Receipt,
    ReceiptPrinter,
    build_receipt,
    build_zreport,
    columns_for,
    layout_receipt,
    render_escpos,
    render_html,
    render_zreport_escpos,
    render_zreport_html,
    text_width,
    wrap,
)
from scanpay.terminal.sale import HostResult, SaleState
from scanpay.terminal.totals import DayTotals, WalletTotal
from terminal.receipt_samples import CFG, LONG, copies, sale


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
    said = [text.strip() for role, text, _ in html_lines(html) if role == "not_paid"]
    assert said == ["NOT PAID", "PAYMENT NOT CONFIRMED"] * 2
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
    # A difference is a sentence with its amount, never the host's raw line (issue 14).
    assert "Payment A: this terminal has CNY 10.00 (paid); the host has no record" in html
    assert "SUCCESS 1000" not in html
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


# ------------------------------------------------------------------ layout
#
# A receipt is laid out for its paper (58 mm: 32 columns, 80 mm: 48), the same
# lines on paper (ESC/POS) and in the HTML. Every line fits, a Chinese character
# takes two columns, and an identifier (trade number, payment id, masked code) is
# never split unless it is longer than a line.

# Commands before a line's text: initialise, Chinese mode on/off, print mode, bold,
# alignment, feed, cut (the cut of one copy comes just before the next copy's start).
_ESC_COMMAND = re.compile(rb"^(?:\x1b@|\x1c[&.]|\x1b[!Ead].|\x1dV.)+", re.DOTALL)


def printed_lines(data: bytes) -> list[tuple[str, bool]]:
    """The text lines of ESC/POS bytes, each with whether it is printed double size
    (``ESC ! 0x30``). The barcode and the cut are not text lines."""
    lines: list[tuple[str, bool]] = []
    big = False
    for chunk in data.split(b"\n"):
        commands = _ESC_COMMAND.match(chunk)
        text = chunk[commands.end() :] if commands else chunk
        if commands:
            for value in re.findall(rb"\x1b!(.)", commands.group(), re.DOTALL):
                big = bool(value[0] & 0x30)
        if not text or b"\x1b" in text or b"\x1d" in text or b"\x1c" in text:
            continue  # the barcode, the cut after the last line
        lines.append((text.decode("gb18030"), big))
    return lines


_HTML_LINE = re.compile(r'<div class="line([^"]*)"(?: data-role="([^"]*)")?>([^<]*)</div>')


def html_lines(page: str) -> list[tuple[str, str, bool]]:
    """(role, text, big) of each line of an HTML receipt."""
    return [
        (role, htmllib.unescape(text), "big" in classes.split())
        for classes, role, text in _HTML_LINE.findall(page)
    ]


def fits(text: str, big: bool, columns: int) -> bool:
    return text_width(text) <= (columns // 2 if big else columns)


def test_text_width_counts_chinese_as_two_columns() -> None:
    assert text_width("T0001") == 5
    assert text_width("好运便利店") == 10
    assert text_width("付款码：A1") == 10  # the full-width colon too
    assert text_width("e\u0301") == 1  # a combining accent takes no column


def test_wrap_keeps_words_and_breaks_between_chinese_characters() -> None:
    assert wrap("Two coffees and one tea", 10) == ["Two", "coffees", "and one", "tea"]
    assert wrap("两杯咖啡，一杯茶", 10) == ["两杯咖啡，", "一杯茶"]
    assert wrap("两杯咖啡，一杯茶", 8) == ["两杯咖", "啡，一杯", "茶"]  # the comma stays
    assert wrap("1234567890ABCDEFGHIJ", 8) == ["12345678", "90ABCDEF", "GHIJ"]
    assert wrap("好运便利店", 3) == ["好", "运", "便", "利", "店"]
    assert wrap("line\nbreak\tand  spaces", 40) == ["line break and spaces"]


@pytest.mark.parametrize(("width", "columns"), [(58, 32), (80, 48)])
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_receipt_lines_fit_both_papers_in_both_languages(
    width: int, columns: int, language: str
) -> None:
    receipts = copies(LONG)
    merchant, customer = (layout_receipt(r, columns, language) for r in receipts)
    lines = customer
    assert all(fits(line.text, line.big, columns) for line in merchant + customer)
    # The same lines on paper and in the HTML, copy after copy.
    paper = printed_lines(render_escpos(receipts, width=width, language=language))
    assert paper == [(line.text, line.big) for line in merchant + customer]
    page = html_lines(render_html(receipts, language, width))
    assert [(text, big) for _, text, big in page] == paper
    # Label and value on one line when they fit, the value on its own line, right
    # up to the edge, when they do not: never a word or an identifier split.
    by_role: dict[str, list[str]] = {}
    for line in lines:
        by_role.setdefault(line.role, []).append(line.text)
    for role, value in [
        ("trade_no", "T0000014c9d-26120700001"),
        ("payment_id", "P2026031412345678901234"),
        ("code", "881234********5678"),
        ("terminal", "T0001"),
    ]:
        shown = by_role[role]
        assert shown[-1].endswith(value) and text_width(shown[-1]) == columns, shown
    assert by_role["note"][0].strip() in ("Note", "备注")


def test_the_labels_that_used_to_wrap_on_58_mm() -> None:
    """ "Payment id" and the masked code on 58 mm paper, in English and in Chinese."""
    english = [line.text for line in layout_receipt(copies(LONG)[0], 32, "en")]
    assert "Payment id" in english
    assert "         P2026031412345678901234" in english
    # The network by its name on its own line, the code by its masked digits.
    assert "Wallet            scanpay wallet" in english
    assert "Code          881234********5678" in english
    chinese = [line.text for line in layout_receipt(copies(LONG)[0], 32, "zh-CN")]
    assert "支付单号 P2026031412345678901234" in chinese
    assert "钱包                scanpay 钱包" in chinese
    assert "付款码        881234********5678" in chinese


def test_a_long_identifier_is_cut_at_the_width_always_the_same() -> None:
    long_no = "T" + "0123456789" * 4  # 41 characters: longer than 32 columns
    receipt = build_receipt(replace(LONG, out_trade_no=long_no), CFG, "customer")
    shown = [line.text for line in layout_receipt(receipt, 32, "en") if line.role == "trade_no"]
    assert shown == ["Trade no.", long_no[:32], " " * 23 + long_no[32:]]
    assert layout_receipt(receipt, 32, "en") == layout_receipt(receipt, 32, "en")


def test_the_barcode_fits_the_paper() -> None:
    """A 23-character trade number in CODE128 is 288 modules: 2 dots each on 80 mm
    (576 dots across), 1 on 58 mm (384 dots)."""
    receipts = [build_receipt(LONG, CFG, "customer")]
    assert b"\x1dw\x01" in render_escpos(receipts, width=58)
    assert b"\x1dw\x02" in render_escpos(receipts, width=80)


def test_the_paper_width_comes_from_the_printer_configuration() -> None:
    assert columns_for(58) == 32 and columns_for(80) == 48
    with pytest.raises(TerminalError):
        columns_for(76)
    with pytest.raises(TerminalError):
        render_html(copies(LONG), "en", 76)


def test_a_long_zreport_difference_wraps_to_the_paper() -> None:
    totals = DayTotals(date(2026, 3, 14), "CNY", 1, 1234, 0, 0)
    z = build_zreport(
        CFG,
        totals,
        closed_by="s01",
        closed_at=1.77e9,
        matched=False,
        differences=[
            {"out_trade_no": "T0000014c9d-26120700001", "kind": "payment",
             "terminal": "SUCCESS 1234", "host": "PARTIALLY_REFUNDED 1234"},
        ],
    )  # fmt: skip
    for width, columns in ((58, 32), (80, 48)):
        for language in ("en", "zh-CN"):
            data = render_zreport_escpos(z, width=width, language=language)
            lines = printed_lines(data)
            assert all(fits(text, big, columns) for text, big in lines), lines
            assert any("T0000014c9d-26120700001" in text for text, _ in lines)


# Text a receipt may carry: ASCII, Chinese (two columns), full-width punctuation.
_CHINESE = "好运便利店上海两杯咖啡一杯茶不要糖余额不足张三"
_free = st.text(
    st.one_of(st.sampled_from(list(_CHINESE + "，。：（）")), st.sampled_from(string.printable)),
    max_size=90,
)
_identifier = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60)
_masked = st.builds(
    lambda scheme, digits: f"{scheme} {digits}",
    st.sampled_from(["scanpay", "alipay", "wechat", "emv"]),
    st.text("0123456789*", min_size=12, max_size=40),
)


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    return Receipt(
        copy=draw(st.sampled_from(["merchant", "customer"])),
        merchant_name=draw(_free),
        merchant_city=draw(_free),
        terminal_id=draw(_identifier),
        operator_id=draw(_identifier),
        out_trade_no=draw(_identifier),
        payment_id=draw(st.none() | _identifier),
        time="2026-03-14 10:20:30",
        amount=draw(st.integers(0, 10**12).map(lambda n: f"{n // 100}.{n % 100:02d}")),
        currency="CNY",
        wallet=draw(st.none() | st.sampled_from(["scanpay", "支付宝", "WeChat Pay"])),
        code=draw(st.none() | _masked),
        payer=draw(st.none() | _free),
        state=draw(st.sampled_from(list(SaleState))),
        result=Text(draw(_free), draw(_free)),
        result_code=draw(st.none() | st.sampled_from(["00", "51", "57"])),
        refunded=draw(st.none() | st.just("1.00")),
        note=draw(st.none() | _free),
        training=draw(st.booleans()),
        reprint=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(
    receipt=receipts(),
    paper=st.sampled_from([(58, 32), (80, 48)]),
    language=st.sampled_from(["en", "zh-CN"]),
)
def test_no_printed_line_exceeds_the_paper_nor_splits_an_identifier_that_fits(
    receipt: Receipt, paper: tuple[int, int], language: str
) -> None:
    width, columns = paper
    lines = printed_lines(render_escpos([receipt], width=width, language=language))
    assert all(fits(text, big, columns) for text, big in lines), lines
    texts = [text.strip() for text, _ in lines]
    identifiers = [receipt.terminal_id, receipt.operator_id, receipt.out_trade_no]
    identifiers += [receipt.payment_id] if receipt.payment_id else []
    identifiers += receipt.code.split() if receipt.code else []
    for identifier in identifiers:
        if text_width(identifier) <= columns:
            assert any(identifier in text for text in texts), (identifier, texts)
        else:  # cut at the width: whole lines of it, then the rest
            assert identifier[:columns] in texts, (identifier, texts)
