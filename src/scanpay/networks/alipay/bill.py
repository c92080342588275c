"""Alipay's trade bill (``bill_type=trade``, 业务明细) read into statement lines.

``alipay.data.dataservice.bill.downloadurl.query`` names a zip holding two GBK CSV
files: the details (``…_业务明细.csv``) and a summary (``…_业务明细(汇总).csv``).
The details file opens and ends with ``#`` comment lines (account, period, totals,
export time); between them a header line, then one line per payment (业务类型
``交易``) and per refund (``退款``). Values may carry trailing tabs (Alipay's guard
against spreadsheets reading numbers); amounts are yuan, a refund's negative; times
are Beijing time. Columns are found by name, so added columns do not move them.

A payment's amount is its ``订单金额（元）``. A refund's, under its ``退款批次号/请求号``
(our refund number), is what went back: ``订单金额（元）`` when that is negative (the
refund), else ``商家实收（元）`` (negative), as exports differ in which carries it. The bill has no
currency column: Alipay's domestic bills are in yuan. ``服务费（元）`` is the fee, as
Alipay writes it from the merchant's side (negative: charged; positive: given back
with a refund), so a line's ``fee`` is its opposite.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from scanpay.networks.alipay.config import BEIJING
from scanpay.networks.alipay.money import AmountError, to_fen
from scanpay.networks.port import StatementKind, StatementLine

__all__ = ["BillError", "parse_bill", "read_zip"]

_TRANSACTION = "支付宝交易号"
_TRADE_NO = "商户订单号"
_TYPE = "业务类型"
_CREATED = "创建时间"
_FINISHED = "完成时间"
_AMOUNT = "订单金额（元）"
_RECEIVED = "商家实收（元）"
_REFUND_NO = "退款批次号/请求号"
_FEE = "服务费（元）"
_NEEDED = (_TRANSACTION, _TRADE_NO, _TYPE, _CREATED, _FINISHED, _AMOUNT, _RECEIVED, _REFUND_NO)
_KINDS = {"交易": StatementKind.PAYMENT, "退款": StatementKind.REFUND}
# The port's status words (WeChat Pay's): Alipay's bill holds only what was done, so a
# trade line is a charge and a refund line a refund; Alipay's own word is the kind.
_STATUSES = {StatementKind.PAYMENT: "SUCCESS", StatementKind.REFUND: "REFUND"}
_MAX_SIZE = 256 << 20


class BillError(ValueError):
    """The bill is not in Alipay's format."""


def _name(value: str) -> str:
    # Half-width brackets in some exports: one spelling for the lookup.
    return value.strip().replace("(", "（").replace(")", "）")


def _rows(text: str) -> tuple[dict[str, int], list[list[str]]]:
    header: dict[str, int] | None = None
    rows: list[list[str]] = []
    for line in text.lstrip("\ufeff").splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            if header is not None and rows:
                break  # the closing comments: the list has ended
            continue
        # Plain comma-separated as Alipay writes it; quoted values (a name with a comma)
        # read too.
        values = [v.strip() for v in next(csv.reader([line]))]
        if header is None:
            names = [_name(v) for v in values]
            if any(n not in names for n in _NEEDED):
                raise BillError("not a trade bill's header")
            header = {n: i for i, n in enumerate(names)}
            continue
        if len(values) < len(header):
            raise BillError("a line is short")
        rows.append(values)
    if header is None:
        raise BillError("no header")
    return header, rows


def _time(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise BillError(f"not a time: {text!r}") from None


def _fen(text: str) -> int:
    try:
        return to_fen(text)
    except AmountError as exc:
        raise BillError(str(exc)) from None


def parse_bill(text: str) -> list[StatementLine]:
    """The details file's lines (payments and refunds; other kinds of business are
    not trades); :class:`BillError` when it is not such a file."""
    column, rows = _rows(text)
    lines: list[StatementLine] = []
    for values in rows:

        def get(name: str, values: list[str] = values) -> str:
            return values[column[name]]

        kind = _KINDS.get(get(_TYPE))
        if kind is None:
            continue
        refund = kind is StatementKind.REFUND
        amount = _fen(get(_AMOUNT))
        if refund and amount >= 0:
            # This line's 订单金额 is the order's; what went back is 商家实收, negative.
            amount = _fen(get(_RECEIVED))
        lines.append(
            StatementLine(
                trade_no=get(_TRADE_NO),
                transaction_id=get(_TRANSACTION),
                kind=kind,
                amount=abs(amount),
                currency="CNY",
                status=_STATUSES[kind],
                time=_time(get(_FINISHED) or get(_CREATED)),
                refund_no=(get(_REFUND_NO) or None) if refund else None,
                fee=-_fen(get(_FEE) or "0") if _FEE in column else None,
            )
        )
    return lines


def read_zip(content: bytes) -> str:
    """The details file's text from the downloaded zip (the member with the details'
    header, whatever its name's encoding)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise BillError("not a zip") from None
    with archive:
        for info in archive.infolist():
            if info.file_size > _MAX_SIZE:
                raise BillError("a member is too large")
            try:
                text = archive.read(info).decode("gbk")
            except (UnicodeDecodeError, zipfile.BadZipFile, OSError):
                continue
            try:
                _rows(text)
            except BillError:
                continue  # the summary, or anything else
            return text
    raise BillError("no details file in the zip")
