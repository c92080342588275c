"""The day's trade bill (``bill_type=trade``): a zip of two GBK CSV files, as Alipay's.

``{account}_{yyyyMMdd}_业务明细.csv``: ``#`` header lines, the column line, one line per
payment made that Beijing day (业务类型 交易) and per refund made that day (退款),
then ``#`` footer lines with the counts and sums. ``…_业务明细(汇总).csv``: the same
by store, with a 合计 line. Amounts are yuan with two decimals. The service fee
(服务费) is negative on a payment (taken from the seller) and positive on a refund
(given back); 商家实收 is the amount on a payment and minus the refund on a refund.

A day's bill is published once the next Beijing day is past 09:00 (as Alipay's is),
or earlier by the admin (``POST /sim/apps/{app_id}/bills/{day}``); it is kept as
published, so later trades of that day are not in it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scanpay.sim.alipay.notify import mask_logon
from scanpay.sim.alipay.store import App, Store, Trade
from scanpay.sim.common.clock import BEIJING, bill_time, day_bounds
from scanpay.sim.common.money import yuan

__all__ = ["COLUMNS", "SUMMARY_COLUMNS", "account", "make_bill", "published", "zip_name"]

COLUMNS = [
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号",
    "门店名称", "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）",
    "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）",
    "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号", "服务费（元）",
    "分润（元）", "备注",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）",
    "支付宝优惠（元）", "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）",
    "实收净额（元）",
]  # fmt: skip
_ZERO = "0.00"
_RULE = "#-----------------------------------------"


def account(app: App) -> str:
    """The bill's account: the seller's id with its product suffix, as in Alipay's names."""
    return app.pid + "0156"


def zip_name(app: App, day: date) -> str:
    return f"{account(app)}_{day:%Y%m%d}.csv.zip"


def _stamp(when: datetime) -> str:
    return when.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M:%S")


@dataclass
class _Store:
    trades: int = 0
    refunds: int = 0
    ordered: int = 0
    received: int = 0
    fees: int = 0


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _line(
    store: Store, trade: Trade, kind: str, done: datetime, received: int, request_no: str, fee: int
) -> list[str]:
    wallet = store.wallet(trade.wallet_id) if trade.wallet_id is not None else None
    return [
        trade.trade_no, trade.out_trade_no, kind, trade.subject, bill_time(trade.created_at),
        bill_time(done), trade.store_id or "", "", trade.operator_id or "", trade.terminal_id or "",
        mask_logon(wallet.logon_id) if wallet else "", yuan(trade.total), yuan(received),
        _ZERO, _ZERO, _ZERO, _ZERO, _ZERO, "", _ZERO, _ZERO, request_no, yuan(fee), _ZERO, "",
    ]  # fmt: skip


def _frame(title: str, app: App, day: date, what: str) -> list[list[str]]:
    start, end = day_bounds(day)
    return [
        [title],
        [f"#账号：[{account(app)}]"],
        [f"#起始日期：[{_stamp(start)}]   终止日期：[{_stamp(end)}]"],
        [f"{_RULE}{what}----------------------------------------"],
    ]


def make_bill(store: Store, app: App, day: date, now: datetime) -> bytes:
    """The zip of ``app``'s bill for the Beijing day ``day``, as at ``now``."""
    start, end = day_bounds(day)
    lines: list[list[str]] = []
    by_store: dict[str, _Store] = {}
    paid = _Store()
    back = _Store()
    for trade in store.paid_between(app.app_id, start, end):
        assert trade.paid_at is not None
        lines.append(_line(store, trade, "交易", trade.paid_at, trade.total, "", -trade.fee))
        for tally in (by_store.setdefault(trade.store_id or "", _Store()), paid):
            tally.trades += 1
            tally.ordered += trade.total
            tally.received += trade.total
            tally.fees -= trade.fee
    for made in store.refunds_between(app.app_id, start, end):
        refunded = store.trade_by_no(made.trade_no)
        assert refunded is not None
        lines.append(
            _line(
                store,
                refunded,
                "退款",
                made.created_at,
                -made.amount,
                made.out_request_no,
                made.fee,
            )
        )
        for tally in (by_store.setdefault(refunded.store_id or "", _Store()), back):
            tally.refunds += 1
            tally.ordered += refunded.total
            tally.received -= made.amount
            tally.fees += made.fee
    exported = [f"#导出时间：[{_stamp(now)}]"]
    detail = [
        *_frame("#支付宝业务明细查询", app, day, "业务明细列表"),
        COLUMNS,
        *lines,
        [f"{_RULE}业务明细列表结束------------------------------------"],
        [f"#交易合计：{paid.trades}笔，商家实收共{yuan(paid.received)}元，商家优惠共0.00元"],
        [
            f"#退款合计：{back.refunds}笔，商家实收退款共{yuan(back.received)}元，商家优惠退款共0.00元"
        ],
        exported,
    ]
    total = _Store(
        paid.trades, back.refunds, paid.ordered + back.ordered, paid.received + back.received,
        paid.fees + back.fees,
    )  # fmt: skip
    summary = [
        *_frame("#支付宝业务汇总查询", app, day, "业务汇总列表"),
        SUMMARY_COLUMNS,
        *(_summary_row(code, tally) for code, tally in sorted(by_store.items())),
        _summary_row("合计", total),
        [f"{_RULE}业务汇总列表结束------------------------------------"],
        exported,
    ]
    name = f"{account(app)}_{day:%Y%m%d}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}_业务明细.csv", _csv(detail).encode("gbk", "replace"))
        archive.writestr(f"{name}_业务明细(汇总).csv", _csv(summary).encode("gbk", "replace"))
    return out.getvalue()


def _summary_row(code: str, tally: _Store) -> list[str]:
    return [
        code, "", str(tally.trades), str(tally.refunds),
        yuan(tally.ordered), yuan(tally.received), _ZERO, _ZERO, _ZERO, yuan(tally.fees), _ZERO,
        yuan(tally.received + tally.fees),
    ]  # fmt: skip


def published(store: Store, app: App, day: date, now: datetime) -> bytes | None:
    """The day's published bill; published now if the day is done and it is past 09:00
    Beijing the next day; None when not yet published."""
    found = store.bill(app.app_id, day.isoformat())
    if found is not None:
        return found
    ready = datetime.combine(day + timedelta(days=1), time(9, 0), BEIJING)
    if now < ready:
        return None
    data = make_bill(store, app, day, now)
    store.add_bill(app.app_id, day.isoformat(), data, now)
    return data
