"""Export rows: what one transaction becomes in the CSV and XLSX files. Pure.

The columns are stable machine names (the CSV is for spreadsheets and
accounting imports); times are local to the host's timezone with their offset;
amounts are decimal text in the currency. A text cell that a spreadsheet
would run as a formula gets a leading apostrophe (CSV injection, see
:func:`csv_safe`). Payers are already masked when stored.

>>> csv_safe("=HYPERLINK(1)"), csv_safe("T1-0001")
("'=HYPERLINK(1)", 'T1-0001')
>>> csv_safe("＝1+1"), csv_safe("\\ufeff@SUM(1)") == "'\\ufeff@SUM(1)"
("'＝1+1", True)
>>> csv_line(["a", 'say "hi" now', "x,y"])
'a,"say ""hi"" now","x,y"\\r\\n'
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from scanpay.i18n import Text
from scanpay.money import format_amount

__all__ = [
    "COLUMNS",
    "ExportRecord",
    "Exportable",
    "csv_line",
    "csv_safe",
    "export_values",
    "local_time",
]

#: (column name, header shown in the XLSX file).
COLUMNS: tuple[tuple[str, Text], ...] = (
    ("payment_id", Text("支付单号", "Payment id")),
    ("out_trade_no", Text("商户订单号", "Trade number")),
    ("created_at", Text("创建时间", "Created")),
    ("paid_at", Text("支付时间", "Paid")),
    ("terminal_id", Text("终端", "Terminal")),
    ("status", Text("状态", "Status")),
    ("code", Text("结果码", "Code")),
    ("amount", Text("金额", "Amount")),
    ("refunded", Text("已退款", "Refunded")),
    ("currency", Text("币种", "Currency")),
    ("wallet", Text("钱包", "Wallet")),
    ("payer", Text("付款人（已遮蔽）", "Payer (masked)")),
    ("description", Text("描述", "Description")),
)

#: What a formula starts with once normalised (NFKC makes the full-width ``＝ ＋ － ＠``,
#: the small forms and super/subscripts plain), and the minus sign U+2212.
_FORMULA_START = ("=", "+", "-", "@", "\u2212")


class Exportable(Protocol):
    """What an exported row needs (an :class:`ExportRecord`, or the list's own rows)."""

    @property
    def payment_id(self) -> str: ...
    @property
    def out_trade_no(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def paid_at(self) -> datetime | None: ...
    @property
    def terminal_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def refunded(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def wallet(self) -> str | None: ...
    @property
    def payer(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One payment as the export sees it."""

    payment_id: str
    out_trade_no: str
    created_at: datetime
    paid_at: datetime | None
    terminal_id: str
    status: str
    code: str
    amount: int
    refunded: int
    currency: str
    wallet: str | None
    payer: str | None
    description: str | None


def local_time(when: datetime | None, zone: ZoneInfo) -> str:
    """ISO 8601 in ``zone`` to the second, with its offset ('' for None)."""
    if when is None:
        return ""
    return when.astimezone(zone).replace(microsecond=0).isoformat()


def csv_safe(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading apostrophe when it starts with a tab
    or carriage return (OWASP), or when its first character after any blanks (spaces,
    no-break and ideographic spaces, a byte-order mark, zero-width and control
    characters, which spreadsheets skip) is ``= + - @`` in any width."""
    if text.startswith(("\t", "\r")):
        return "'" + text
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs"):
            continue
        formula = unicodedata.normalize("NFKC", char).startswith(_FORMULA_START)
        return "'" + text if formula else text
    return text


def export_values(record: Exportable, zone: ZoneInfo, *, guard: bool = True) -> list[str]:
    """The record's cells, in :data:`COLUMNS` order, as text. ``guard``: made safe for a
    spreadsheet that would run formulas (CSV); an XLSX string cell never runs one."""
    safe = csv_safe if guard else str
    return [
        safe(record.payment_id),
        safe(record.out_trade_no),
        local_time(record.created_at, zone),
        local_time(record.paid_at, zone),
        record.terminal_id,
        record.status,
        record.code,
        format_amount(record.amount, record.currency),
        format_amount(record.refunded, record.currency),
        record.currency,
        safe(record.wallet or ""),
        safe(record.payer or ""),
        safe(record.description or ""),
    ]


def csv_line(values: Sequence[str]) -> str:
    """One CSV line (RFC 4180 quoting, CRLF ending)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()
