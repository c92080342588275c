"""WeChat Pay's trade bill (交易账单, ``bill_type=ALL``) read into statement lines.

The bill is CSV without quoting: a header line, one line per payment and per
refund (a reverse's refund too), then a summary header and its line. Every
value of a data line starts with a backtick; amounts are yuan with two
decimals; times are Beijing time (``yyyy-MM-dd HH:mm:ss``). The same layout in
API v2 and v3. Columns are found by their names, so added columns do not move them.

A line with a refund number (``微信退款单号`` other than empty or ``0``) is a
refund of ``申请退款金额``; any other line is a payment of ``订单金额`` (bills
without those columns: ``退款金额``, ``应结订单金额``). ``手续费`` is the line's fee in
yuan to five decimals (negative on a refund that gives some back), rounded half up to
the fen as WeChat Pay settles it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from scanpay.networks.port import StatementKind, StatementLine

__all__ = ["BEIJING", "BillError", "parse_bill"]

BEIJING = timezone(timedelta(hours=8), "CST")

_TIME = "交易时间"
_TRANSACTION = "微信订单号"
_TRADE_NO = "商户订单号"
_STATUS = "交易状态"
_CURRENCY = "货币种类"
_REFUND_ID = "微信退款单号"
_REFUND_NO = "商户退款单号"
# The amount asked (order, refund); older bills have only what settled.
_PAYMENT_AMOUNTS = ("订单金额", "应结订单金额")
_REFUND_AMOUNTS = ("申请退款金额", "退款金额")
_NEEDED = (_TIME, _TRANSACTION, _TRADE_NO, _STATUS, _CURRENCY, _REFUND_ID, _REFUND_NO)
_SUMMARY = "总交易单数"
_FEE = "手续费"


class BillError(ValueError):
    """The bill is not in WeChat Pay's format."""


def _fen(text: str) -> int:
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise BillError(f"not an amount: {text!r}") from None
    if value != value.to_integral_value() or value < 0:
        raise BillError(f"not an amount in fen: {text!r}")
    return int(value)


def _fee(text: str) -> int:
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        raise BillError(f"not a fee: {text!r}") from None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _values(line: str) -> list[str]:
    return [v[1:] if v.startswith("`") else v for v in line.split(",")]


def _getter(values: list[str], column: dict[str, int]) -> Callable[[str], str]:
    return lambda name: values[column[name]].strip()


def parse_bill(text: str) -> list[StatementLine]:
    """The bill's lines; :class:`BillError` when it is not a bill."""
    rows = [row for row in text.lstrip("\ufeff").splitlines() if row.strip()]
    if not rows:
        raise BillError("empty")
    names = [n.strip() for n in rows[0].split(",")]
    if any(n not in names for n in _NEEDED):
        raise BillError("not a trade bill's header")
    column = {n: i for i, n in enumerate(names)}
    paid_column = next((n for n in _PAYMENT_AMOUNTS if n in column), None)
    refund_column = next((n for n in _REFUND_AMOUNTS if n in column), None)
    if paid_column is None or refund_column is None:
        raise BillError("no amount column")
    lines: list[StatementLine] = []
    for row in rows[1:]:
        if row.startswith(_SUMMARY):
            break
        values = _values(row)
        if len(values) < len(names):
            raise BillError("a line is short")
        get = _getter(values, column)

        try:
            booked = datetime.strptime(get(_TIME), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            raise BillError("not a time") from None
        refund_id = get(_REFUND_ID)
        refund = refund_id not in ("", "0")
        amount_column = refund_column if refund else paid_column
        lines.append(
            StatementLine(
                trade_no=get(_TRADE_NO),
                transaction_id=get(_TRANSACTION),
                kind=StatementKind.REFUND if refund else StatementKind.PAYMENT,
                amount=_fen(get(amount_column)),
                currency=get(_CURRENCY),
                status=get(_STATUS),
                time=booked,
                refund_no=get(_REFUND_NO) if refund else None,
                fee=_fee(get(_FEE)) if _FEE in column else None,
            )
        )
    return lines
