"""The day's settlement file (``fileType=00``), as ``fileTransReq.do`` hands it out.

``fileContent`` is base64 of the zlib-deflated bytes of a zip holding
``INN<yyMMdd>88ZM_<merId>``: the merchant's transaction details, one fixed-width GBK
line per consume, cancel and refund that moved money that Beijing day, in the layout
of the adapter's :func:`scanpay.networks.unionpay.bill.zm_line` (the published rule
this simulator writes and the adapter reads).

A day's file is made once the next Beijing day is past 09:00, or earlier by the admin
(``POST /sim/merchants/{merId}/bills/{day}``); it is kept as made, so later orders of
that day are not in it.
"""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from datetime import date, datetime, time, timedelta

from scanpay.networks.unionpay.bill import zm_line
from scanpay.sim.common.clock import BEIJING, day_bounds
from scanpay.sim.unionpay.store import Merchant, Order, Store
from scanpay.sim.unionpay.views import trace_time

__all__ = ["file_name", "make_file", "member_name", "published", "settle_day"]

_TXN_CODES = {"01": "S22", "31": "S31", "04": "S30"}
_SUB_TYPES = {"01": "06", "31": "00", "04": "00"}


def member_name(mer_id: str, day: date) -> str:
    """The ZM member's name in the zip."""
    return f"INN{day:%y%m%d}88ZM_{mer_id}"


def file_name(mer_id: str, day: date) -> str:
    """``fileName`` of the reply: the zip's name."""
    return f"{day:%Y%m%d}_{mer_id}.zip"


def settle_day(mmdd: str, now: datetime) -> date | None:
    """The day ``settleDate`` (MMDD) names: the latest such day not after today
    (Beijing); None when it is not a day."""
    if len(mmdd) != 4 or not mmdd.isdigit():
        return None
    today = now.astimezone(BEIJING).date()
    for year in (today.year, today.year - 1):
        try:
            day = date(year, int(mmdd[:2]), int(mmdd[2:]))
        except ValueError:
            continue
        if day <= today:
            return day
    return None


def _acc_no(store: Store, order: Order) -> str:
    wallet = store.wallet(order.wallet_id) if order.wallet_id is not None else None
    return wallet.acc_no[:6] + "******" + wallet.acc_no[-4:] if wallet else ""


def _line(store: Store, order: Order) -> str:
    return zm_line(
        {
            "txnCode": _TXN_CODES[order.txn_type],
            "acqInsCode": "00010000",
            "sendInsCode": "00010000",
            "traceNo": order.query_id[-6:],
            "traceTime": trace_time(order),
            "accNo": _acc_no(store, order),
            "txnAmt": f"{order.moved:012d}",
            "merCatCode": "5812",
            "termType": "08",
            "queryId": order.query_id,
            "orderId": order.order_id,
            "txnType": order.txn_type,
            "txnSubType": _SUB_TYPES[order.txn_type],
            "bizType": "000000",
            "origQryId": order.orig_query_id or "",
            "merId": order.mer_id,
        }
    )


def make_file(store: Store, merchant: Merchant, day: date) -> str:
    """The day's ``fileContent``."""
    start, end = day_bounds(day)
    lines = [_line(store, o) for o in store.done_between(merchant.mer_id, start, end)]
    text = "".join(line + "\r\n" for line in lines)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member_name(merchant.mer_id, day), text.encode("gbk"))
    return base64.b64encode(zlib.compress(packed.getvalue())).decode("ascii")


def published(store: Store, merchant: Merchant, day: date, now: datetime) -> str | None:
    """The day's file: as published, or made now when the next day is past 09:00
    Beijing (in the caller's transaction); None while it is not out yet."""
    found = store.bill(merchant.mer_id, day.isoformat())
    if found is not None:
        return found
    ready = datetime.combine(day + timedelta(days=1), time(9, 0), BEIJING)
    if now < ready:
        return None
    content = make_file(store, merchant, day)
    store.add_bill(merchant.mer_id, day.isoformat(), content, now)
    return content
