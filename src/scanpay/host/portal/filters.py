"""The transactions list's filters, sort and cursor: parsed from the query string, pure.

A filter is what the merchant typed in the form above the list (dates are
business days in the host's timezone, amounts decimal text in the merchant's
currency); :meth:`TxnFilter.to_params` writes it back for links and exports,
so the next page and the export see exactly the same set. Anything that does
not parse is dropped with a message for the page, never an error page; the
filter remembers what it dropped (:attr:`TxnFilter.problems`), so that an
export, which has no page to say so on, refuses rather than hand over another
set than the one asked for. Dates outside the calendar's sane span
(:mod:`scanpay.host.domain.periods`) are dropped the same way.

Pages are keyset pages: a :class:`Cursor` carries the sort key and id of the
row a page ends (or starts) at, so a page costs the same at row 50 and at row
99,950, and rows arriving meanwhile do not shift what comes next.

>>> f, errors = parse_filters({"status": "SUCCESS", "amount_min": "10", "sort": "amount"},
...                           currency="CNY")
>>> f.status, f.amount_min, f.sort, f.descending, errors
('SUCCESS', 1000, 'amount', True, {})
>>> f.to_params("CNY")
{'status': 'SUCCESS', 'amount_min': '10.00', 'sort': 'amount', 'dir': 'desc'}
>>> c = Cursor("amount", True, 1000, 42)
>>> decode_cursor(encode_cursor(c)) == c
True
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scanpay.host.domain import periods
from scanpay.i18n import Text
from scanpay.money import MoneyError, format_amount, read_amount

__all__ = [
    "PAGE_SIZES",
    "SORTS",
    "STATUSES",
    "Cursor",
    "TxnFilter",
    "day_range_utc",
    "decode_cursor",
    "encode_cursor",
    "parse_filters",
]

#: Payment states a merchant can filter by.
STATUSES = ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED", "USER_PAYING", "FAILED", "REVERSED")
#: What the list can be sorted by.
SORTS = ("created_at", "amount")
PAGE_SIZES = (20, 50, 100)

_TERMINAL = re.compile(r"T[0-9]{6,15}")
_WALLET = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TRADE_NO = re.compile(r"[A-Za-z0-9_\-]{1,32}")


@dataclass(frozen=True, slots=True)
class TxnFilter:
    """What the merchant asked for; every field optional."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    terminal: str | None = None
    wallet: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    trade_no: str | None = None
    sort: str = "created_at"
    descending: bool = True
    page_size: int = 50
    #: The fields the merchant gave that could not be used (left out of this filter).
    problems: tuple[str, ...] = ()

    def to_params(self, currency: str) -> dict[str, str]:
        """The query parameters that give this filter back (defaults left out)."""
        out: dict[str, str] = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        for name in ("status", "terminal", "wallet", "trade_no"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.amount_min is not None:
            out["amount_min"] = format_amount(self.amount_min, currency)
        if self.amount_max is not None:
            out["amount_max"] = format_amount(self.amount_max, currency)
        if self.sort != "created_at" or not self.descending:
            out["sort"] = self.sort
            out["dir"] = "desc" if self.descending else "asc"
        if self.page_size != 50:
            out["size"] = str(self.page_size)
        return out

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """``date_from`` (inclusive) and ``date_to`` (inclusive) as a UTC half-open range."""
        start = day_range_utc(self.date_from, zone)[0] if self.date_from else None
        end = day_range_utc(self.date_to, zone)[1] if self.date_to else None
        return start, end

    @property
    def is_empty(self) -> bool:
        return self == replace(
            TxnFilter(),
            sort=self.sort,
            descending=self.descending,
            page_size=self.page_size,
            problems=self.problems,
        )


def day_range_utc(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A business day in ``zone`` as a UTC half-open range [start, end)."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_filters(
    params: Mapping[str, str], *, currency: str, language: str = "en"
) -> tuple[TxnFilter, dict[str, Text]]:
    """The filter in ``params`` (a query string's fields), and what could not be used.
    Amounts are read as a person of ``language`` types them (:func:`read_amount`)."""
    errors: dict[str, Text] = {}

    def get(name: str) -> str:
        return (params.get(name) or "").strip()

    date_from, date_to = _date(get("from")), _date(get("to"))
    if get("from") and date_from is None:
        errors["from"] = Text("开始日期格式应为 YYYY-MM-DD", "the start date is YYYY-MM-DD")
    if get("to") and date_to is None:
        errors["to"] = Text("结束日期格式应为 YYYY-MM-DD", "the end date is YYYY-MM-DD")
    # A day at the edge of the calendar (0001-01-01, 9999-12-31) has no UTC bounds.
    if date_from is not None and not periods.in_range(date_from):
        errors["from"], date_from = periods.out_of_range("from").text, None
    if date_to is not None and not periods.in_range(date_to):
        errors["to"], date_to = periods.out_of_range("to").text, None
    if date_from and date_to and date_from > date_to:
        errors["to"] = Text("结束日期早于开始日期", "the end date is before the start date")
        date_to = None
    status = get("status").upper() or None
    if status is not None and status not in STATUSES:
        errors["status"] = Text("未知的交易状态", "unknown status")
        status = None
    terminal = get("terminal").upper() or None
    if terminal is not None and not _TERMINAL.fullmatch(terminal):
        errors["terminal"] = Text("终端号格式应为 T000001", "a terminal id looks like T000001")
        terminal = None
    wallet = get("wallet").lower() or None
    if wallet is not None and not _WALLET.fullmatch(wallet):
        errors["wallet"] = Text("未知的钱包", "unknown wallet")
        wallet = None
    trade_no = get("trade_no") or None
    if trade_no is not None and not _TRADE_NO.fullmatch(trade_no):
        errors["trade_no"] = Text(
            "商户订单号为 1-32 位字母、数字、- 或 _",
            "a trade number is 1-32 letters, digits, - or _",
        )
        trade_no = None
    amounts: dict[str, int | None] = {}
    for name in ("amount_min", "amount_max"):
        text = get(name)
        amounts[name] = None
        if text:
            try:
                amounts[name] = read_amount(
                    text, currency, locale=language, allow_zero=True, field=name
                )
            except MoneyError as exc:
                errors[name] = exc.text
    low, high = amounts["amount_min"], amounts["amount_max"]
    if low is not None and high is not None and low > high:
        errors["amount_max"] = Text("最高金额小于最低金额", "the maximum is below the minimum")
        high = None
    sort = get("sort") or "created_at"
    if sort not in SORTS:
        sort = "created_at"
    descending = get("dir") != "asc"
    size_text = get("size")
    size = int(size_text) if size_text.isdigit() and int(size_text) in PAGE_SIZES else 50
    return (
        TxnFilter(
            date_from,
            date_to,
            status,
            terminal,
            wallet,
            low,
            high,
            trade_no,
            sort,
            descending,
            size,
            tuple(errors),
        ),
        errors,
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ends: the sort key and id of its last row (``backward``: where the
    page after the wanted one starts, for a "previous" link)."""

    sort: str
    descending: bool
    key: int | str  # an amount, or created_at in ISO 8601 (UTC)
    pk: int
    backward: bool = False

    def key_time(self) -> datetime:
        """The key as the time it is (sort by created_at)."""
        assert isinstance(self.key, str)
        return datetime.fromisoformat(self.key)


def encode_cursor(cursor: Cursor) -> str:
    """The cursor as URL-safe text."""
    raw = json.dumps(
        [cursor.sort, int(cursor.descending), cursor.key, cursor.pk, int(cursor.backward)],
        separators=(",", ":"),
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor | None:
    """A cursor from :func:`encode_cursor`'s text; None when it is not one."""
    if not text or len(text) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        sort, descending, key, pk, backward = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        return None
    if sort not in SORTS or not isinstance(pk, int) or isinstance(pk, bool):
        return None
    if descending not in (0, 1) or backward not in (0, 1):
        return None
    if sort == "amount" and (not isinstance(key, int) or isinstance(key, bool)):
        return None
    if sort == "created_at":
        if not isinstance(key, str):
            return None
        try:
            when = datetime.fromisoformat(key)
        except ValueError:
            return None
        # A made-up time at the edge of the calendar would overflow on its way to UTC.
        if when.tzinfo is None or not periods.in_range(when.date()):
            return None
    return Cursor(sort, bool(descending), key, pk, bool(backward))
