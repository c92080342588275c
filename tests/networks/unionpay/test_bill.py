"""The settlement file: base64 of a deflated zip holding the ZM file, read into lines."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from datetime import date, datetime

import pytest

from scanpay.networks import StatementKind
from scanpay.networks.unionpay.bill import BillError, decode_file, parse_zm, zm_line
from scanpay.networks.unionpay.config import BEIJING


def _line(txn_type: str, order: str, query_id: str, amount: int, when: str, orig: str = "") -> str:
    return (
        zm_line(
            {
                "txnCode": "S22" if txn_type == "01" else "S30",
                "acqInsCode": "00010000",
                "traceNo": "123456",
                "traceTime": when,
                "accNo": "6216********1234",
                "txnAmt": f"{amount:012d}",
                "queryId": query_id,
                "orderId": order,
                "txnType": txn_type,
                "txnSubType": "06" if txn_type == "01" else "00",
                "bizType": "000000",
                "origQryId": orig,
                "merId": "777290058110048",
            }
        )
        + " 00000000000000000000"
    )  # later fields are ignored


ZM = "\r\n".join(
    [
        _line("01", "20261208101500T0001", "Q1", 1230, "1208101502"),
        _line("31", "20261208101500T0001C101600", "Q2", 1230, "1208101601", "Q1"),
        _line("04", "R20261208A", "Q3", 100, "1208110000", "Q0"),
        _line("04", "R20261208B", "Q4", 50, "1208110500", "Q9"),
        _line("71", "X0000001", "Q5", 1, "1208120000"),  # not a trade
    ]
)


def pack(text: str, name: str = "INN26120888ZM_777290058110048") -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("INN26120801ZZ_777290058110048", "summary")
        archive.writestr(name, text.encode("gbk"))
    return base64.b64encode(zlib.compress(buffer.getvalue())).decode()


def test_the_file_read() -> None:
    lines = parse_zm(decode_file(pack(ZM)), date(2026, 12, 8), {"Q0": "20261207T0009"})
    assert [(x.kind, x.trade_no, x.refund_no, x.amount, x.status) for x in lines] == [
        (StatementKind.PAYMENT, "20261208101500T0001", None, 1230, "SUCCESS"),
        # A cancel's refund is numbered as the host numbers a reverse's: REVERSE + queryId.
        (StatementKind.REFUND, "20261208101500T0001", "REVERSEQ2", 1230, "REFUND"),
        (StatementKind.REFUND, "20261207T0009", "R20261208A", 100, "REFUND"),
        (StatementKind.REFUND, "", "R20261208B", 50, "REFUND"),  # its consume is known nowhere
    ]
    assert lines[0].transaction_id == "Q1" and lines[0].currency == "CNY"
    assert lines[0].time == datetime(2026, 12, 8, 10, 15, 2, tzinfo=BEIJING)


def test_a_december_line_in_a_january_file() -> None:
    (line,) = parse_zm(_line("01", "T0000001", "Q1", 1, "1231235959"), date(2027, 1, 1))
    assert line.time.year == 2026


@pytest.mark.parametrize(
    "content",
    [
        "!!",
        base64.b64encode(b"not deflated").decode(),
        base64.b64encode(zlib.compress(b"not a zip")).decode(),
        pack(ZM, name="INN26120801ZZ_only_summary"),
    ],
)
def test_not_the_file(content: str) -> None:
    with pytest.raises(BillError):
        decode_file(content)


def test_a_bad_line() -> None:
    with pytest.raises(BillError):
        parse_zm("S22 short line", date(2026, 12, 8))
    bad_amount = _line("01", "T0000001", "Q1", 1, "1208101502").replace(
        "000000000001", "00000000000x"
    )
    with pytest.raises(BillError):
        parse_zm(bad_amount, date(2026, 12, 8))
    with pytest.raises(BillError):
        parse_zm(_line("01", "T0000001", "Q1", 1, "1399999999"), date(2026, 12, 8))
