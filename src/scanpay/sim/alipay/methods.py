"""The gateway's methods: each reads its ``biz_content`` and asks the network.

Business parameters Alipay refuses answer 40004 ACQ.INVALID_PARAMETER (sub_msg naming
the parameter), as Alipay's acquiring APIs do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from scanpay.sim.alipay import returns
from scanpay.sim.alipay.bills_api import bill_url
from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.money import parse_yuan
from scanpay.sim.alipay.outcomes import Chosen
from scanpay.sim.alipay.store import App
from scanpay.sim.alipay.trades import PayRequest, Result
from scanpay.sim.alipay.views import query_fields
from scanpay.sim.alipay.wire import Answer, failed, success
from scanpay.sim.common.clock import BEIJING

__all__ = ["METHODS", "Call"]

_OUT_NO = re.compile(r"[0-9A-Za-z_]{1,64}")
_TIMEOUT = re.compile(r"([1-9][0-9]{0,4})([mhd])|1c")
_DEFAULT_TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Call:
    """One gateway request: who, its common parameters, its business content."""

    sim: Sim
    app: App
    params: Mapping[str, str]
    biz: Mapping[str, Any]
    chosen: Chosen | None
    base_url: str


def _bad(name: str) -> Answer:
    return failed("ACQ.INVALID_PARAMETER", f"参数无效：{name}")


def _text(biz: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = biz.get(name)
    if value is None or value == "":
        return None
    text = str(value)
    return text if len(text) <= limit else None


def _timeout(text: str | None, now: datetime) -> timedelta | None:
    if not text:
        return _DEFAULT_TIMEOUT
    match = _TIMEOUT.fullmatch(text)
    if match is None:
        return None
    if text == "1c":  # the end of the Beijing day
        local = now.astimezone(BEIJING)
        return (
            datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), BEIJING) - local
        )
    unit = {"m": 60, "h": 3600, "d": 86400}[match.group(2)]
    seconds = int(match.group(1)) * unit
    return timedelta(seconds=seconds) if 60 <= seconds <= 15 * 86400 else None


def _pay(call: Call) -> Result:
    biz = call.biz
    out_trade_no = str(biz.get("out_trade_no") or "")
    if not _OUT_NO.fullmatch(out_trade_no):
        return Result(_bad("out_trade_no"))
    if biz.get("scene") not in ("bar_code", "security_code"):
        return Result(_bad("scene"))
    auth_code = str(biz.get("auth_code") or "")
    if not auth_code:
        return Result(_bad("auth_code"))
    subject = _text(biz, "subject", 256)
    if subject is None:
        return Result(_bad("subject"))
    total = parse_yuan(biz.get("total_amount"))
    if total is None:
        return Result(_bad("total_amount"))
    timeout = _timeout(_text(biz, "timeout_express", 6), call.sim.network.clock.now())
    if timeout is None:
        return Result(_bad("timeout_express"))
    notify_url = call.params.get("notify_url") or None
    if notify_url is not None and len(notify_url) > 256:
        return Result(_bad("notify_url"))
    request = PayRequest(
        app=call.app,
        out_trade_no=out_trade_no,
        auth_code=auth_code,
        total=total,
        subject=subject,
        store_id=_text(biz, "store_id", 32),
        operator_id=_text(biz, "operator_id", 28),
        terminal_id=_text(biz, "terminal_id", 32),
        notify_url=notify_url,
        timeout=timeout,
    )
    return call.sim.network.pay(request, call.chosen)


def _ids(biz: Mapping[str, Any]) -> tuple[str | None, str | None] | None:
    out_trade_no = _text(biz, "out_trade_no", 64)
    trade_no = _text(biz, "trade_no", 64)
    if out_trade_no is None and trade_no is None:
        return None
    return out_trade_no, trade_no


def _query(call: Call) -> Result:
    ids = _ids(call.biz)
    if ids is None:
        return Result(_bad("out_trade_no/trade_no"))
    network = call.sim.network
    with network.store.transaction():
        found = network.find(call.app.app_id, *ids)
        if isinstance(found, Answer):
            return Result(found)
        wallet = network.store.wallet(found.wallet_id) if found.wallet_id is not None else None
        return Result(success(**query_fields(found, wallet)))


def _cancel(call: Call) -> Result:
    ids = _ids(call.biz)
    if ids is None:
        return Result(_bad("out_trade_no/trade_no"))
    return Result(returns.cancel(call.sim.network, call.app, *ids, call.chosen))


def _refund(call: Call) -> Result:
    ids = _ids(call.biz)
    if ids is None:
        return Result(_bad("out_trade_no/trade_no"))
    amount = parse_yuan(call.biz.get("refund_amount"))
    if amount is None:
        return Result(_bad("refund_amount"))
    request_no = call.biz.get("out_request_no")
    if request_no is not None and not _OUT_NO.fullmatch(str(request_no)):
        return Result(_bad("out_request_no"))
    reason = _text(call.biz, "refund_reason", 256)
    answer = returns.refund(
        call.sim.network, call.app, *ids, amount, str(request_no) if request_no else None, reason
    )
    return Result(answer)


def _refund_query(call: Call) -> Result:
    ids = _ids(call.biz)
    request_no = _text(call.biz, "out_request_no", 64)
    if ids is None or request_no is None:
        return Result(_bad("out_trade_no/trade_no, out_request_no"))
    return Result(returns.refund_query(call.sim.network, call.app, *ids, request_no))


def _bill(call: Call) -> Result:
    if call.biz.get("bill_type") != "trade":
        return Result(_bad("bill_type"))
    try:
        day = date.fromisoformat(str(call.biz.get("bill_date") or ""))
    except ValueError:
        return Result(_bad("bill_date"))
    url = bill_url(call.sim, call.app, day, call.base_url)
    if url is None:
        return Result(failed("isp.bill_not_exist", "账单不存在"))
    return Result(success(bill_download_url=url))


METHODS: dict[str, Callable[[Call], Result]] = {
    "alipay.trade.pay": _pay,
    "alipay.trade.query": _query,
    "alipay.trade.cancel": _cancel,
    "alipay.trade.refund": _refund,
    "alipay.trade.fastpay.refund.query": _refund_query,
    "alipay.data.dataservice.bill.downloadurl.query": _bill,
}
