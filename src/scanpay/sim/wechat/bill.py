"""The day's trade bill (交易账单), in WeChat Pay's CSV format.

A header line, one line per payment made that Beijing day and per refund made that
day (a reverse's refund included), then the summary: its header and one line. Every
value of a data or summary line starts with a backtick (so spreadsheet programs keep
long numbers as text), amounts are yuan with two decimals, the fee five; lines end
with CRLF. A payment's line keeps its state as paid (``SUCCESS``): a later refund is
a line of its own (``REFUND``) on the day it was made, with the order's amount in
``订单金额`` and nothing in ``应结订单金额``. The simulator charges no fee.

bill_type ``ALL`` (both kinds), ``SUCCESS`` (payments only) or ``REFUND`` (refunds only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scanpay.sim.common.clock import bill_time, day_bounds
from scanpay.sim.common.money import yuan
from scanpay.sim.wechat.store import Merchant, Order, Refund, Store

__all__ = ["BILL_TYPES", "HEADER", "SUMMARY_HEADER", "Bill", "make_bill"]

BILL_TYPES = ("ALL", "SUCCESS", "REFUND")
HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
_FEE = "0.00000"
_RATE = "0.00%"


def _line(values: list[str]) -> str:
    # WeChat writes no quoting: a comma inside a value is replaced, as it does.
    return ",".join(
        "`" + v.replace(",", "，").replace("\r", " ").replace("\n", " ") for v in values
    )


@dataclass(frozen=True)
class Bill:
    text: str
    payments: int  # lines
    refunds: int
    paid: int  # fen: 应结订单总金额
    refunded: int  # fen: 退款总金额

    @property
    def data(self) -> bytes:
        return self.text.encode()


def _ids(order: Order) -> tuple[str, str, str]:
    """(公众账号ID, 商户号, 特约商户号) as the bill writes them."""
    if order.sp_mchid is None:
        return order.appid, order.mchid, "0"
    return order.appid, order.sp_mchid, order.mchid


def make_bill(
    store: Store, merchant: Merchant, day: date, bill_type: str, sub_mchid: str | None = None
) -> Bill:
    """The bill of ``merchant`` (a service provider: all its sub-merchants, or ``sub_mchid``)."""
    start, end = day_bounds(day)

    def mine(order: Order) -> bool:
        if merchant.kind == "partner":
            return order.sp_mchid == merchant.mchid and sub_mchid in (None, order.mchid)
        return order.mchid == merchant.mchid and order.sp_mchid is None

    lines = [HEADER]
    payments = refunds = paid = refunded = ordered = asked = 0
    if bill_type in ("ALL", "SUCCESS"):
        for order in store.paid_between(start, end):
            if not mine(order):
                continue
            assert order.success_time is not None
            appid, mchid, sub = _ids(order)
            lines.append(
                _line(
                    [
                        bill_time(order.success_time),
                        appid,
                        mchid,
                        sub,
                        order.device or "",
                        order.transaction_id,
                        order.out_trade_no,
                        order.openid or "",
                        "MICROPAY",
                        "SUCCESS",
                        "OTHERS",
                        order.currency,
                        yuan(order.total),
                        "0.00",
                        "0",
                        "0",
                        "0.00",
                        "0.00",
                        "",
                        "",
                        order.description,
                        order.attach or "",
                        _FEE,
                        _RATE,
                        yuan(order.total),
                        "0.00",
                        "",
                    ]
                )
            )
            payments += 1
            paid += order.total
            ordered += order.total
    if bill_type in ("ALL", "REFUND"):
        for made in store.refunds_between(start, end):
            refunded_order = store.order_by_id(made.transaction_id)
            if refunded_order is None or not mine(refunded_order):
                continue
            appid, mchid, sub = _ids(refunded_order)
            lines.append(_refund_line(refunded_order, made, appid, mchid, sub))
            refunds += 1
            refunded += made.amount
            asked += made.amount
            ordered += refunded_order.total
    lines.append(SUMMARY_HEADER)
    lines.append(
        _line(
            [
                str(payments + refunds),
                yuan(paid),
                yuan(refunded),
                "0.00",
                _FEE,
                yuan(ordered),
                yuan(asked),
            ]
        )
    )
    return Bill("\r\n".join(lines) + "\r\n", payments, refunds, paid, refunded)


def _refund_line(order: Order, made: Refund, appid: str, mchid: str, sub: str) -> str:
    return _line(
        [
            bill_time(made.created_at),
            appid,
            mchid,
            sub,
            order.device or "",
            order.transaction_id,
            order.out_trade_no,
            order.openid or "",
            "MICROPAY",
            "REFUND",
            "OTHERS",
            order.currency,
            "0.00",
            "0.00",
            made.refund_id,
            made.out_refund_no,
            yuan(made.amount),
            "0.00",
            "ORIGINAL",
            made.status,
            order.description,
            order.attach or "",
            _FEE,
            _RATE,
            yuan(order.total),
            yuan(made.amount),
            "",
        ]
    )
