"""UnionPay's settlement file (``fileType=00``) read into statement lines.

``fileTransReq.do`` (``txnType=76``) answers with ``fileContent``: base64 of the
zlib-deflated bytes of a zip (UnionPay's SDKs: base64-decode, inflate, write under
``fileName``). In the zip, the merchant's general transaction details are the member
named ``INN<yyMMdd>88ZM_<merId>`` (``…ZM_…``): one fixed-width line per
transaction, fields separated by one blank, in this order (widths per UnionPay's
file specification; only the first 28 are read, further ones are ignored)::

    txnCode 3, acqInsCode 11, sendInsCode 11, traceNo 6, traceTime 10 (MMDDhhmmss),
    accNo 19, txnAmt 12 (fen, zero-padded), merCatCode 4, termType 2, queryId 21,
    oldPayType 2, orderId 32, payCardType 2, origTraceNo 6, origTime 10,
    merCharge 13, settleAmt 13, payType 4, groupMerId 15, txnType 2, txnSubType 2,
    bizType 6, accType 2, billType 4, billNo 32, interactMode 1, origQryId 21, merId 15

Lines: ``txnType`` 01 (consume) PAYMENT, status ``SUCCESS`` (the file lists only
what moved money); 31 (cancel) and 04 (refund) REFUND, status ``REFUND``, whose
``trade_no`` is the orderId of the consume its ``origQryId`` names (in this file, or
in ``known``; "" when neither knows it). A refund's ``refund_no`` is its own orderId
(the host's refund number); a cancel's is ``REVERSE`` and its queryId, the number the
host knows a reverse's refund by (as WeChat Pay's): a cancel's orderId is the
adapter's own, which no refund of the host's takes. Other types are not trades. The
year, absent from ``traceTime``, is the statement day's (the year before for a
December line in a January file).
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
import zlib
from collections.abc import Mapping
from datetime import date, datetime

from scanpay.networks.port import StatementKind, StatementLine
from scanpay.networks.unionpay.config import BEIJING
from scanpay.networks.unionpay.money import AmountError, to_fen

__all__ = ["WIDTHS", "BillError", "decode_file", "parse_zm", "zm_line"]

WIDTHS: tuple[tuple[str, int], ...] = (
    ("txnCode", 3),
    ("acqInsCode", 11),
    ("sendInsCode", 11),
    ("traceNo", 6),
    ("traceTime", 10),
    ("accNo", 19),
    ("txnAmt", 12),
    ("merCatCode", 4),
    ("termType", 2),
    ("queryId", 21),
    ("oldPayType", 2),
    ("orderId", 32),
    ("payCardType", 2),
    ("origTraceNo", 6),
    ("origTime", 10),
    ("merCharge", 13),
    ("settleAmt", 13),
    ("payType", 4),
    ("groupMerId", 15),
    ("txnType", 2),
    ("txnSubType", 2),
    ("bizType", 6),
    ("accType", 2),
    ("billType", 4),
    ("billNo", 32),
    ("interactMode", 1),
    ("origQryId", 21),
    ("merId", 15),
)
"""The ZM file's leading fields and their widths (one blank between fields)."""
_LENGTH = sum(w for _, w in WIDTHS) + len(WIDTHS) - 1
_KINDS = {"01": StatementKind.PAYMENT, "31": StatementKind.REFUND, "04": StatementKind.REFUND}
_STATUSES = {StatementKind.PAYMENT: "SUCCESS", StatementKind.REFUND: "REFUND"}
_REVERSAL = "REVERSE"
_MAX_SIZE = 256 << 20


class BillError(ValueError):
    """The file is not in UnionPay's format."""


def zm_line(values: Mapping[str, str]) -> str:
    """One ZM line from ``values`` (absent fields blank): what the file holds; for tests
    and a simulator."""
    return " ".join(values.get(name, "").ljust(width)[:width] for name, width in WIDTHS)


def _fields(line: str) -> dict[str, str]:
    if len(line) < _LENGTH:
        raise BillError("a line is short")
    found: dict[str, str] = {}
    at = 0
    for name, width in WIDTHS:
        found[name] = line[at : at + width].strip()
        at += width + 1
    return found


def _time(text: str, day: date) -> datetime:
    try:
        month = int(text[:2])
        year = day.year - 1 if month > day.month else day.year
        return datetime.strptime(f"{year}{text}", "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise BillError(f"not a time: {text!r}") from None


def parse_zm(text: str, day: date, known: Mapping[str, str] | None = None) -> list[StatementLine]:
    """The ZM file's consumes, cancels and refunds; ``known`` maps a consume's queryId
    to its orderId (for a refund of an earlier day's consume)."""
    rows = [_fields(line) for line in text.splitlines() if line.strip()]
    trades = {r["queryId"]: r["orderId"] for r in rows if r["txnType"] == "01"}
    lines: list[StatementLine] = []
    for row in rows:
        kind = _KINDS.get(row["txnType"])
        if kind is None:
            continue
        try:
            amount = to_fen(row["txnAmt"])
        except AmountError as exc:
            raise BillError(str(exc)) from None
        refund = kind is StatementKind.REFUND
        orig = row["origQryId"]
        trade_no = (trades.get(orig) or (known or {}).get(orig, "")) if refund else row["orderId"]
        refund_no = None
        if refund:
            cancel = row["txnType"] == "31"
            refund_no = _REVERSAL + row["queryId"] if cancel else row["orderId"]
        lines.append(
            StatementLine(
                trade_no=trade_no,
                transaction_id=row["queryId"],
                kind=kind,
                amount=amount,
                currency="CNY",
                status=_STATUSES[kind],
                time=_time(row["traceTime"], day),
                refund_no=refund_no,
            )
        )
    return lines


def decode_file(content: str) -> str:
    """The ZM member's text from a reply's ``fileContent``."""
    try:
        packed = zlib.decompress(base64.b64decode(content, validate=True))
        archive = zipfile.ZipFile(io.BytesIO(packed))
    except (binascii.Error, ValueError, zlib.error, zipfile.BadZipFile):
        raise BillError("fileContent is not a deflated zip") from None
    with archive:
        for info in archive.infolist():
            if "ZM_" not in info.filename:
                continue
            if info.file_size > _MAX_SIZE:
                raise BillError("the file is too large")
            try:
                return archive.read(info).decode("gbk")
            except (UnicodeDecodeError, zipfile.BadZipFile, OSError):
                raise BillError("the ZM file is unreadable") from None
    raise BillError("no ZM file in the zip")
