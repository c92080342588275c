"""Receipts and the Z-report: printable HTML and ESC/POS bytes for 58/80 mm paper.

A receipt is built from the journal's sale (:func:`build_receipt`, pure), then
rendered as HTML (both copies on one page, each cut from the next) and as
ESC/POS bytes (python-escpos's command builder). It shows the merchant, the
amount, the wallet and the code - masked -, the time, the terminal, the
operator, the trade number and the result. A sale that is not APPROVED says in
large letters that it is NOT PAID, so that no one hands over goods against a
slip from an unknown or reversed sale. Training receipts say TRAINING on every
copy. Reprints say REPRINT.

ESC/POS and Chinese: thermal printers sold in China print GB18030 in their
Chinese mode (``FS &``); with ``encoding="ascii"`` the receipt is English only.
Barcodes are sent as the printer's own CODE128 command (``GS k``), which every
ESC/POS printer has, rather than as a bitmap.
"""

from __future__ import annotations

import socket
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader

from scanpay.codes.names import masked_number, network_name
from scanpay.i18n import Text, normalize_language
from scanpay.money import format_amount
from scanpay.protocol.differences import describe_difference
from scanpay.protocol.result_codes import result_code
from scanpay.terminal.config import PrinterConfig, TerminalConfig
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.sale import Sale, SaleState
from scanpay.terminal.texts import STATE_LABELS, customer_timed_out, state_label
from scanpay.terminal.totals import DayTotals

__all__ = [
    "COLUMNS",
    "Layout",
    "Line",
    "Receipt",
    "ReceiptPrinter",
    "ZReport",
    "build_receipt",
    "build_zreport",
    "columns_for",
    "layout_receipt",
    "render_escpos",
    "render_html",
    "render_zreport_escpos",
    "render_zreport_html",
    "text_width",
    "wrap",
]

Copy = Literal["merchant", "customer"]

_L: dict[str, Text] = {
    "merchant_copy": Text("商户存根", "MERCHANT COPY"),
    "customer_copy": Text("顾客联", "CUSTOMER COPY"),
    "merchant": Text("商户", "Merchant"),
    "terminal": Text("终端", "Terminal"),
    "operator": Text("操作员", "Operator"),
    "trade_no": Text("订单号", "Trade no."),
    "payment_id": Text("支付单号", "Payment id"),
    "time": Text("时间", "Time"),
    "wallet": Text("钱包", "Wallet"),
    "code": Text("付款码", "Code"),
    "payer": Text("付款人", "Payer"),
    "amount": Text("金额", "Amount"),
    "refunded": Text("已退款", "Refunded"),
    "result": Text("结果", "Result"),
    "note": Text("备注", "Note"),
    "training": Text("培训模式 - 非真实交易", "TRAINING - NOT A REAL SALE"),
    "reprint": Text("重印", "REPRINT"),
    "not_paid": Text("未支付", "NOT PAID"),
    "not_confirmed": Text("交易未确认", "PAYMENT NOT CONFIRMED"),
    "zreport": Text("日结报表 (Z)", "Z-REPORT"),
    "date": Text("营业日", "Business day"),
    "payments": Text("收款", "Payments"),
    "refunds": Text("退款", "Refunds"),
    "net": Text("净额", "Net"),
    "declined": Text("失败", "Declined"),
    "cancelled": Text("取消", "Cancelled"),
    "reversed": Text("撤销", "Reversed"),
    "training_sales": Text("培训交易（不计入）", "Training (not counted)"),
    "host": Text("主机", "Host"),
    "matched": Text("与主机一致", "MATCHES THE HOST"),
    "unmatched": Text("与主机不一致", "DIFFERS FROM THE HOST"),
    "not_sent": Text("未能发送给主机", "NOT SENT TO THE HOST"),
    "differences": Text("差异", "Differences"),
    "closed_by": Text("日结操作员", "Closed by"),
}


def _t(key: str, lang: str) -> str:
    return _L[key].get(lang)


@dataclass(frozen=True, slots=True)
class Receipt:
    """Everything one receipt copy prints (no secrets: the code is masked)."""

    copy: Copy
    merchant_name: str
    merchant_city: str
    terminal_id: str
    operator_id: str
    out_trade_no: str
    payment_id: str | None
    time: str
    amount: str
    currency: str
    wallet: str | None
    code: str | None
    payer: str | None
    state: SaleState
    result: Text
    result_code: str | None
    refunded: str | None
    note: str | None
    training: bool
    reprint: bool

    @property
    def confirmed(self) -> bool:
        """Money was taken: only then is the slip proof of payment."""
        return self.state in (
            SaleState.APPROVED,
            SaleState.PARTIALLY_REFUNDED,
            SaleState.REFUNDED,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "copy": self.copy,
            "merchant_name": self.merchant_name,
            "terminal_id": self.terminal_id,
            "operator_id": self.operator_id,
            "out_trade_no": self.out_trade_no,
            "time": self.time,
            "amount": self.amount,
            "currency": self.currency,
            "wallet": self.wallet,
            "code": self.code,
            "state": self.state.value,
            "confirmed": self.confirmed,
            "training": self.training,
            "reprint": self.reprint,
        }


def _local_time(timestamp: float, zone: str) -> str:
    return datetime.fromtimestamp(timestamp, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def build_receipt(
    sale: Sale, config: TerminalConfig, copy: Copy, *, reprint: bool = False
) -> Receipt:
    """One copy of ``sale``'s receipt."""
    if customer_timed_out(sale):
        result = state_label(sale)
    elif sale.state == SaleState.DECLINED and sale.result:
        result = result_code(sale.result.code).message
    else:
        result = STATE_LABELS[sale.state]
    moment = sale.finished_at or sale.submitted_at or sale.created_at
    return Receipt(
        copy=copy,
        merchant_name=config.merchant_name,
        merchant_city=config.merchant_city,
        terminal_id=config.terminal_id,
        operator_id=sale.operator_id,
        out_trade_no=sale.out_trade_no,
        payment_id=sale.payment_id,
        time=_local_time(moment, config.timezone),
        amount=format_amount(sale.amount, sale.currency),
        currency=sale.currency,
        wallet=sale.wallet or (sale.code.scheme if sale.code else None),
        # The network is named on its own line: the code is its digits, masked.
        code=masked_number(sale.code.kind, sale.code.masked) if sale.code else None,
        payer=sale.payer,
        state=sale.state,
        result=result,
        result_code=sale.result.code if sale.result else None,
        refunded=(
            format_amount(sale.refunded_amount, sale.currency) if sale.refunded_amount else None
        ),
        note=sale.note,
        training=sale.training,
        reprint=reprint,
    )


# ----------------------------------------------------------------- layout

#: Characters a line holds on each paper width (mm), in the printers' standard font:
#: 58 mm paper prints 32 columns, 80 mm paper 48.
COLUMNS: dict[int, int] = {58: 32, 80: 48}

Align = Literal["left", "center", "right"]

# A line break may not come right before these (closing punctuation stays with
# the word it closes, as Chinese typesetting has it).
_NO_LINE_START = frozenset("，。、：；！？）」』】〉》,.:;!?)]}%")


def columns_for(width_mm: int) -> int:
    """The columns of ``width_mm`` paper (58 or 80); a typed error for any other."""
    if width_mm not in COLUMNS:
        raise TerminalError("bad_request", field="width", reason="58 or 80 (mm)")
    return COLUMNS[width_mm]


def _wide(ch: str) -> bool:
    # Ambiguous characters (é, ·, ×...) count as wide too: a printer in its Chinese
    # mode prints them from its double-byte font.
    return unicodedata.east_asian_width(ch) in ("W", "F", "A")


def text_width(text: str) -> int:
    """The columns ``text`` takes on paper: CJK (and other wide) characters two,
    combining marks none, everything else one."""
    return sum(0 if unicodedata.combining(ch) else 2 if _wide(ch) else 1 for ch in text)


def _clean(text: str) -> str:
    """One line of text: control characters (a note's line breaks) become spaces,
    runs of blanks one space."""
    return " ".join("".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).split())


def _segments(word: str) -> list[str]:
    """Where a word without spaces may break: next to a wide character only, so an
    identifier (a trade number, a masked code) is one segment and Chinese text
    breaks between its characters."""
    segments: list[str] = []
    previous_wide = False
    for ch in word:
        wide = _wide(ch)
        joins = segments and (ch in _NO_LINE_START or not (wide or previous_wide))
        if joins:
            segments[-1] += ch
        else:
            segments.append(ch)
        previous_wide = wide
    return segments


def _chunks(segment: str, columns: int) -> list[str]:
    """A segment longer than a line, cut at the line's width, always at the same places."""
    chunks = [""]
    for ch in segment:
        if chunks[-1] and text_width(chunks[-1] + ch) > columns:
            chunks.append("")
        chunks[-1] += ch
    return chunks


def wrap(text: str, columns: int) -> list[str]:
    """``text`` as lines of at most ``columns`` columns, broken at spaces (or between
    Chinese characters); a word is never split unless it is longer than a line."""
    lines: list[str] = []
    current = ""
    for word in _clean(text).split(" "):
        for index, segment in enumerate(_segments(word)):
            glue = " " if index == 0 and current else ""
            if text_width(current + glue + segment) <= columns:
                current += glue + segment
                continue
            if current:
                lines.append(current)
            *full, current = _chunks(segment, columns)
            lines.extend(full)
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line, laid out: ``text`` (its alignment made with spaces) fits the
    paper's columns, or half of them when ``big`` (double width and height)."""

    text: str
    bold: bool = False
    big: bool = False
    role: str = ""
    """What the line shows (``trade_no``, ``amount``, ``not-paid``...), for the HTML."""


class Layout:
    """Lines for paper ``columns`` wide, built up one text or label/value pair at a time."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[Line] = []

    def _add(self, lines: list[Line]) -> list[Line]:
        self.lines.extend(lines)
        return lines

    def text(
        self,
        text: str,
        *,
        align: Align = "left",
        bold: bool = False,
        big: bool = False,
        role: str = "",
    ) -> list[Line]:
        """``text`` wrapped to the line (half of it when ``big``) and aligned."""
        room = self.columns // 2 if big else self.columns
        return self._add(
            [Line(_aligned(part, room, align), bold, big, role) for part in wrap(text, room)]
        )

    def pair(self, label: str, value: str, *, role: str = "") -> list[Line]:
        """``label`` on the left, ``value`` on the right of one line; when both do not
        fit, the value goes on its own line(s), right-aligned, words kept whole."""
        label, value = _clean(label), _clean(value)
        gap = self.columns - text_width(label) - text_width(value)
        if gap >= 1:
            return self._add([Line(label + " " * gap + value, role=role)])
        return self.text(label, role=role) + self.text(value, align="right", role=role)

    def rule(self, char: str = "-") -> list[Line]:
        """A line across the paper."""
        return self._add([Line(char * (self.columns // text_width(char)))])


def _aligned(text: str, room: int, align: Align) -> str:
    gap = max(0, room - text_width(text))
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text
    return text


def layout_receipt(r: Receipt, columns: int, language: str) -> list[Line]:
    """One receipt copy as lines for paper ``columns`` wide, in ``language``: what
    both the printer (:func:`render_escpos`) and the HTML (:func:`render_html`) show."""
    lang = normalize_language(language)
    out = Layout(columns)
    out.text(r.merchant_name, align="center", bold=True, big=True, role="merchant")
    if r.merchant_city:
        out.text(r.merchant_city, align="center", role="city")
    head = _t(f"{r.copy}_copy", lang) + (f" / {_t('reprint', lang)}" if r.reprint else "")
    out.text(head, align="center", role="copy")
    if r.training:
        out.text(_t("training", lang), align="center", bold=True, role="training")
    if not r.confirmed:
        # In large letters, so that no one hands over goods against this slip.
        out.text(_t("not_paid", lang), align="center", bold=True, big=True, role="not_paid")
        out.text(_t("not_confirmed", lang), align="center", bold=True, role="not_paid")
    out.rule()
    out.pair(_t("terminal", lang), r.terminal_id, role="terminal")
    out.pair(_t("operator", lang), r.operator_id, role="operator")
    out.pair(_t("trade_no", lang), r.out_trade_no, role="trade_no")
    if r.payment_id:
        out.pair(_t("payment_id", lang), r.payment_id, role="payment_id")
    out.pair(_t("time", lang), r.time, role="time")
    if r.wallet:
        out.pair(_t("wallet", lang), network_name(r.wallet).get(lang), role="wallet")
    if r.code:
        out.pair(_t("code", lang), r.code, role="code")
    if r.payer:
        out.pair(_t("payer", lang), r.payer, role="payer")
    if r.note:
        out.pair(_t("note", lang), r.note, role="note")
    out.rule()
    out.text(f"{r.currency} {r.amount}", align="center", bold=True, big=True, role="amount")
    if r.refunded:
        out.pair(_t("refunded", lang), f"{r.currency} {r.refunded}", role="refunded")
    code = f" ({r.result_code})" if r.result_code else ""
    out.text(f"{_t('result', lang)}: {r.result.get(lang)}{code}", align="center", role="result")
    return out.lines


# ------------------------------------------------------------------- HTML

_ENV = Environment(
    loader=PackageLoader("scanpay.terminal", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

_RECEIPT_HTML = _ENV.get_template("receipt.html")


def render_html(receipts: list[Receipt], language: str = "zh-CN", width: int = 80) -> str:
    """Both copies (or any list of receipts) as one printable HTML page for ``width``
    mm paper: the printed lines (:func:`layout_receipt`), line for line."""
    lang = normalize_language(language)
    columns = columns_for(width)
    copies = [(r, layout_receipt(r, columns, lang)) for r in receipts]
    title = receipts[0].out_trade_no if receipts else "receipt"
    return _RECEIPT_HTML.render(copies=copies, lang=lang, width=width, columns=columns, title=title)


# ----------------------------------------------------------------- ESC/POS

_ESC = b"\x1b"
_GS = b"\x1d"
_FS = b"\x1c"


#: Dots across the printable width (203 dpi heads): 48 mm on 58 mm paper, 72 mm on 80 mm.
_DOTS = {58: 384, 80: 576}


class _Ticket:
    """A small line-based writer over python-escpos's command builder (Dummy); every
    text goes through a :class:`Layout`, so it fits the paper."""

    def __init__(self, width_mm: int, encoding: str) -> None:
        from escpos.printer import Dummy  # type: ignore[import-untyped]

        self.columns = columns_for(width_mm)
        self.dots = _DOTS[width_mm]
        self.layout = Layout(self.columns)
        self.encoding = encoding
        self.p = Dummy(profile="POS-5890" if width_mm == 58 else "TM-T20II")
        self.p.hw("INIT")
        if encoding == "gb18030":
            self.p._raw(_FS + b"&")  # the Chinese (GB18030) character mode

    def _bytes(self, text: str) -> bytes:
        if self.encoding == "gb18030":
            return text.encode("gb18030", errors="replace")
        return text.encode("ascii", errors="replace")

    def emit(self, lines: list[Line]) -> None:
        """Print laid-out lines (their alignment is in their spaces)."""
        for line in lines:
            big = line.big
            self.p.set(
                align="left",
                bold=line.bold,
                double_height=big,
                double_width=big,
                normal_textsize=not big,
            )
            self.p._raw(self._bytes(line.text) + b"\n")

    def line(
        self, text: str, *, align: Align = "left", bold: bool = False, big: bool = False
    ) -> None:
        self.emit(self.layout.text(text, align=align, bold=bold, big=big))

    def pair(self, label: str, value: str) -> None:
        self.emit(self.layout.pair(label, value))

    def rule(self, char: str = "-") -> None:
        self.emit(self.layout.rule(char))

    def barcode(self, data: str) -> None:
        # CODE128 code set B: GS h (height), GS w (module), GS H 2 (text below), GS k 73.
        body = b"{B" + data.encode("ascii", errors="replace")
        # 11 modules a character (start and check character included), 13 for the
        # stop; the quiet zone is in the paper's margins. Modules 2 dots wide when
        # that fits the printable width (a trade number does on 80 mm), else 1.
        modules = 11 * (len(data) + 2) + 13
        module = 2 if 2 * modules <= self.dots else 1
        self.p.set(align="center")
        self.p._raw(_GS + b"h\x50" + _GS + b"w" + bytes([module]) + _GS + b"H\x02")
        self.p._raw(_GS + b"k\x49" + bytes([len(body)]) + body + b"\n")

    def finish(self) -> bytes:
        if self.encoding == "gb18030":
            self.p._raw(_FS + b".")
        self.p.cut()
        return bytes(self.p.output)


def _lang_for(encoding: str, language: str) -> str:
    # A printer in ASCII mode cannot print Chinese: fall back to English there.
    return "en" if encoding == "ascii" else normalize_language(language)


def render_escpos(
    receipts: list[Receipt], *, width: int = 58, encoding: str = "gb18030", language: str = "zh-CN"
) -> bytes:
    """ESC/POS bytes for 58 or 80 mm paper (32 or 48 columns), each copy followed by
    a cut: the lines of :func:`layout_receipt`, then the trade number's barcode."""
    columns = columns_for(width)
    lang = _lang_for(encoding, language)
    out = b""
    for r in receipts:
        t = _Ticket(width, encoding)
        t.emit(layout_receipt(r, columns, lang))
        t.barcode(r.out_trade_no)
        out += t.finish()
    return out


# ---------------------------------------------------------------- Z-report


@dataclass(frozen=True, slots=True)
class ZReport:
    """The day's close as printed: the terminal's totals and the host's verdict."""

    merchant_name: str
    terminal_id: str
    closed_by: str
    closed_at: str
    totals: DayTotals
    matched: bool | None
    """True/False as the host answered; None when the batch could not be sent."""
    differences: tuple[dict[str, Any], ...] = ()


def build_zreport(
    config: TerminalConfig,
    totals: DayTotals,
    *,
    closed_by: str,
    closed_at: float,
    matched: bool | None,
    differences: list[dict[str, Any]] | None = None,
) -> ZReport:
    return ZReport(
        merchant_name=config.merchant_name,
        terminal_id=config.terminal_id,
        closed_by=closed_by,
        closed_at=_local_time(closed_at, config.timezone),
        totals=totals,
        matched=matched,
        differences=tuple(differences or ()),
    )


_Z_HTML = _ENV.get_template("zreport.html")


def render_zreport_html(z: ZReport, language: str = "zh-CN") -> str:
    lang = normalize_language(language)
    labels = {key: text.get(lang) for key, text in _L.items()}
    cur = z.totals.currency
    return _Z_HTML.render(
        z=z,
        L=labels,
        lang=lang,
        cur=cur,
        fmt=lambda minor: format_amount(minor, cur),
        wallet=lambda name: network_name(name).get(lang),
        difference=lambda d: describe_difference(d, cur).get(lang),
    )


def render_zreport_escpos(
    z: ZReport, *, width: int = 58, encoding: str = "gb18030", language: str = "zh-CN"
) -> bytes:
    lang = _lang_for(encoding, language)
    cur = z.totals.currency

    def fmt(minor: int) -> str:
        return f"{cur} {format_amount(minor, cur)}"

    t = _Ticket(width, encoding)
    t.line(_t("zreport", lang), align="center", bold=True, big=True)
    t.line(z.merchant_name, align="center")
    t.rule()
    t.pair(_t("terminal", lang), z.terminal_id)
    t.pair(_t("date", lang), z.totals.day.isoformat())
    t.pair(_t("closed_by", lang), z.closed_by)
    t.pair(_t("time", lang), z.closed_at)
    t.rule()
    t.pair(f"{_t('payments', lang)} x{z.totals.count}", fmt(z.totals.total))
    t.pair(f"{_t('refunds', lang)} x{z.totals.refund_count}", fmt(z.totals.refund_total))
    t.pair(_t("net", lang), fmt(z.totals.net))
    for w in z.totals.by_wallet:
        t.pair(f"  {network_name(w.wallet).get(lang)} x{w.count}", fmt(w.total))
    t.pair(_t("declined", lang), str(z.totals.declined))
    t.pair(_t("cancelled", lang), str(z.totals.cancelled))
    t.pair(_t("reversed", lang), str(z.totals.reversed))
    t.pair(_t("training_sales", lang), str(z.totals.training_count))
    t.rule()
    verdict = (
        _t("not_sent", lang)
        if z.matched is None
        else _t("matched", lang)
        if z.matched
        else _t("unmatched", lang)
    )
    t.line(verdict, align="center", bold=True)
    for d in z.differences:
        t.line(describe_difference(d, cur).get(lang))
    return t.finish()


# ----------------------------------------------------------------- output


class ReceiptPrinter:
    """Sends ESC/POS bytes where the configuration says, and keeps HTML copies."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config

    def send(self, data: bytes) -> None:
        """Print ``data``; :class:`TerminalError` (``printer_error``) when it cannot."""
        cfg = self.config
        try:
            if cfg.kind == "none":
                return
            if cfg.kind == "file":
                if not cfg.path:
                    raise TerminalError("printer_error", reason="no printer path configured")
                # Append: a receipt file (or a device node) collects every print job.
                with open(cfg.path, "ab") as device:
                    device.write(data)
                    device.flush()
                return
            if cfg.kind == "network":
                with socket.create_connection((cfg.host or "", cfg.port), timeout=10) as sock:
                    sock.sendall(data)
                return
            if cfg.kind == "usb":
                from escpos.printer import Usb

                if not Usb.is_usable():
                    raise TerminalError(
                        "printer_error",
                        reason="USB printing needs pyusb; or use kind=file with /dev/usb/lp0",
                    )
                usb = Usb(cfg.vendor_id or 0, cfg.product_id or 0)
                try:
                    usb._raw(data)
                finally:
                    usb.close()
                return
        except OSError as exc:
            raise TerminalError("printer_error", reason=f"{type(exc).__name__}: {exc}") from exc
        raise TerminalError("printer_error", reason=f"unknown printer kind {cfg.kind!r}")

    def keep_html(self, name: str, html: str) -> Path | None:
        """Write an HTML copy into ``html_dir`` when one is configured."""
        if not self.config.html_dir:
            return None
        folder = Path(self.config.html_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        return path
