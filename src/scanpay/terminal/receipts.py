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

from scanpay.i18n import Text, normalize_language
from scanpay.money import format_amount
from scanpay.protocol.result_codes import result_code
from scanpay.terminal.config import PrinterConfig, TerminalConfig
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.sale import Sale, SaleState
from scanpay.terminal.texts import STATE_LABELS
from scanpay.terminal.totals import DayTotals

__all__ = [
    "Receipt",
    "ReceiptPrinter",
    "ZReport",
    "build_receipt",
    "build_zreport",
    "render_escpos",
    "render_html",
    "render_zreport_escpos",
    "render_zreport_html",
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
    "not_paid": Text("未支付 - 交易未确认", "NOT PAID - PAYMENT NOT CONFIRMED"),
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
    if sale.state == SaleState.DECLINED and sale.result:
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
        code=sale.code.masked if sale.code else None,
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


# ------------------------------------------------------------------- HTML

_ENV = Environment(
    loader=PackageLoader("scanpay.terminal", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

_RECEIPT_HTML = _ENV.get_template("receipt.html")


def render_html(receipts: list[Receipt], language: str = "zh-CN", width: int = 80) -> str:
    """Both copies (or any list of receipts) as one printable HTML page."""
    lang = normalize_language(language)
    labels = {key: text.get(lang) for key, text in _L.items()}
    title = receipts[0].out_trade_no if receipts else "receipt"
    return _RECEIPT_HTML.render(receipts=receipts, L=labels, lang=lang, width=width, title=title)


# ----------------------------------------------------------------- ESC/POS

_ESC = b"\x1b"
_GS = b"\x1d"
_FS = b"\x1c"


def _width(text: str) -> int:
    """Printed columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Ticket:
    """A small line-based writer over python-escpos's command builder (Dummy)."""

    def __init__(self, width_mm: int, encoding: str) -> None:
        from escpos.printer import Dummy  # type: ignore[import-untyped]

        self.columns = 32 if width_mm == 58 else 48
        self.encoding = encoding
        self.p = Dummy(profile="POS-5890" if width_mm == 58 else "TM-T20II")
        self.p.hw("INIT")
        if encoding == "gb18030":
            self.p._raw(_FS + b"&")  # the Chinese (GB18030) character mode

    def _bytes(self, text: str) -> bytes:
        if self.encoding == "gb18030":
            return text.encode("gb18030", errors="replace")
        return text.encode("ascii", errors="replace")

    def line(
        self, text: str = "", *, align: str = "left", bold: bool = False, big: bool = False
    ) -> None:
        self.p.set(
            align=align, bold=bold, double_height=big, double_width=big, normal_textsize=not big
        )
        self.p._raw(self._bytes(text) + b"\n")

    def pair(self, label: str, value: str) -> None:
        room = self.columns - _width(label) - _width(value)
        if room >= 1:
            self.line(label + " " * room + value)
        else:
            self.line(label)
            self.line(value, align="right")

    def rule(self, char: str = "-") -> None:
        self.line(char * self.columns)

    def barcode(self, data: str) -> None:
        # CODE128 code set B: GS h (height), GS w (module), GS H 2 (text below), GS k 73.
        body = b"{B" + data.encode("ascii", errors="replace")
        self.p.set(align="center")
        self.p._raw(_GS + b"h\x50" + _GS + b"w\x02" + _GS + b"H\x02")
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
    """ESC/POS bytes for 58 or 80 mm paper, each copy followed by a cut."""
    if width not in (58, 80):
        raise TerminalError("bad_request", field="width", reason="58 or 80 (mm)")
    lang = _lang_for(encoding, language)
    out = b""
    for r in receipts:
        t = _Ticket(width, encoding)
        t.line(r.merchant_name, align="center", bold=True, big=True)
        if r.merchant_city:
            t.line(r.merchant_city, align="center")
        head = _t(f"{r.copy}_copy", lang) + (f" / {_t('reprint', lang)}" if r.reprint else "")
        t.line(head, align="center")
        if r.training:
            t.line("*** " + _t("training", lang) + " ***", align="center", bold=True)
        if not r.confirmed:
            t.line("*** " + _t("not_paid", lang) + " ***", align="center", bold=True, big=True)
        t.rule()
        t.pair(_t("terminal", lang), r.terminal_id)
        t.pair(_t("operator", lang), r.operator_id)
        t.pair(_t("trade_no", lang), r.out_trade_no)
        if r.payment_id:
            t.pair(_t("payment_id", lang), r.payment_id)
        t.pair(_t("time", lang), r.time)
        if r.wallet:
            t.pair(_t("wallet", lang), r.wallet)
        if r.code:
            t.pair(_t("code", lang), r.code)
        if r.payer:
            t.pair(_t("payer", lang), r.payer)
        if r.note:
            t.pair(_t("note", lang), r.note)
        t.rule()
        t.line(f"{r.currency} {r.amount}", align="center", bold=True, big=True)
        if r.refunded:
            t.pair(_t("refunded", lang), f"{r.currency} {r.refunded}")
        code = f" ({r.result_code})" if r.result_code else ""
        t.line(f"{_t('result', lang)}: {r.result.get(lang)}{code}", align="center")
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
        z=z, L=labels, lang=lang, cur=cur, fmt=lambda minor: format_amount(minor, cur)
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
        t.pair(f"  {w.wallet} x{w.count}", fmt(w.total))
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
        t.line(f"{d.get('out_trade_no')} {d.get('kind')}")
        t.line(f"  {d.get('terminal') or '-'} / {d.get('host') or '-'}")
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
