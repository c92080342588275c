"""Alipay's trade bill (业务明细) read: a GBK CSV in a zip, as Alipay writes it, with its
comment lines, trailing tabs, negative refunds and Beijing times."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scanpay.networks import StatementKind
from scanpay.networks.alipay.bill import BillError, parse_bill, read_zip

HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
    "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def _line(*values: str) -> str:
    return ",".join(v + "\t" for v in values)  # Alipay's tab after each value


PAYMENT = _line(
    "2026120822001400001", "T1", "交易", "Lily's tea", "2026-12-08 09:59:58",
    "2026-12-08 10:00:03", "S1", "Lily", "", "", "buy***@example.com", "12.30", "12.30",
    "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "", "-0.07", "0.00", "",
)  # fmt: skip
REFUND = _line(
    "2026120822001400001", "T1", "退款", "Lily's tea", "2026-12-08 11:00:00",
    "2026-12-08 11:00:01", "S1", "Lily", "", "", "buy***@example.com", "-5.00", "-5.00",
    "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "R1", "0.03", "0.00", "",
)  # fmt: skip
OTHER = _line(
    "2026120822001400009", "T9", "冻结", "", "2026-12-08 12:00:00", "", "", "", "", "",
    "", "1.00", "1.00", "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", "",
    "0.00", "0.00", "",
)  # fmt: skip


def details(*lines: str) -> str:
    return "\r\n".join(
        [
            "#支付宝业务明细查询",
            "#账号：[20880000000000010156]",
            "#起始日期：[2026年12月08日 00:00:00]   终止日期：[2026年12月09日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            HEADER,
            *lines,
            "#-----------------------------------------业务明细列表结束------------------------------------",
            "#交易合计：1笔，商家实收共：12.30元，商家优惠共：0.00元",
            "#退款合计：1笔，商家实收退款共：-5.00元，商家优惠退款共：0.00元",
            "#导出时间：[2026年12月09日 09:47:43]",
            "",
        ]
    )


SUMMARY = "\r\n".join(
    [
        "#支付宝业务汇总查询",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
        "S1\t,Lily\t,1\t,1\t,7.30\t,7.30\t",
        "#导出时间：[2026年12月09日 09:47:43]",
    ]
)


def bill_zip(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # Alipay names the members in GBK without the UTF-8 flag.
        archive.writestr("20880000000000010156_20261208_业务明细(汇总).csv", SUMMARY.encode("gbk"))
        archive.writestr("20880000000000010156_20261208_业务明细.csv", text.encode("gbk"))
    return out.getvalue()


def test_payments_and_refunds() -> None:
    lines = parse_bill(read_zip(bill_zip(details(PAYMENT, REFUND, OTHER))))
    assert len(lines) == 2  # 冻结 is not a trade
    paid, refund = lines
    assert (paid.kind, paid.trade_no, paid.transaction_id) == (
        StatementKind.PAYMENT,
        "T1",
        "2026120822001400001",
    )
    assert (paid.amount, paid.currency, paid.refund_no, paid.status) == (
        1230,
        "CNY",
        None,
        "SUCCESS",
    )
    assert paid.time.utcoffset() == timedelta(hours=8)
    assert paid.time.astimezone(UTC) == datetime(2026, 12, 8, 2, 0, 3, tzinfo=UTC)
    assert (refund.kind, refund.amount, refund.refund_no) == (StatementKind.REFUND, 500, "R1")
    assert refund.time == datetime(2026, 12, 8, 11, 0, 1, tzinfo=timezone(timedelta(hours=8)))


def test_a_refund_line_that_names_the_orders_amount() -> None:
    # Some exports keep the order's amount on a refund line: what went back is 商家实收.
    order_total = REFUND.replace("-5.00\t", "12.30\t", 1)
    (line,) = parse_bill(details(order_total))
    assert (line.kind, line.amount, line.refund_no) == (StatementKind.REFUND, 500, "R1")


def test_fees_by_line() -> None:
    # 服务费 as Alipay writes it (the merchant's side): -0.07 charged, 0.03 given back.
    fees = {
        (line.trade_no, line.refund_no): line.fee for line in parse_bill(details(PAYMENT, REFUND))
    }
    assert fees == {("T1", None): 7, ("T1", "R1"): -3}


def test_a_day_without_trades() -> None:
    assert parse_bill(details()) == []


def test_an_unfinished_line_is_booked_when_created() -> None:
    created_only = PAYMENT.replace("2026-12-08 10:00:03", "")
    (line,) = parse_bill(details(created_only))
    assert line.time.hour == 9 and line.time.second == 58


@pytest.mark.parametrize(
    "text",
    [
        "",
        SUMMARY,
        details(PAYMENT.replace("12.30", "12.305", 1)),
        details(PAYMENT.replace("2026-12-08 10:00:03", "08/12/2026")),
        details(",".join(PAYMENT.split(",")[:10])),
        details(PAYMENT).replace("商户订单号", "订单号"),
    ],
)
def test_what_is_not_a_bill(text: str) -> None:
    with pytest.raises(BillError):
        parse_bill(text)


def test_a_zip_without_details() -> None:
    with pytest.raises(BillError):
        read_zip(b"not a zip")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("summary.csv", SUMMARY.encode("gbk"))
    with pytest.raises(BillError):
        read_zip(out.getvalue())
