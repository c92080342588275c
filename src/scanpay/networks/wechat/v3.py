"""API v3 code pay and the rest, answered in the port's terms.

Each call goes through :class:`~scanpay.networks.wechat.v3client.V3Client` (the
``wechatpayv3`` builders), which hands back verified replies only: anything
else (a timeout, a reset, a reply not signed by the network) is ``NoReply``,
and the answer is UNKNOWN. A reply is then read by its HTTP status:

- pay: 200 with ``trade_state`` SUCCESS (for our trade number and amount) is
  APPROVED; 202 (``trade_state`` USERPAYING) USER_PAYING; a 4xx error's
  ``code`` goes through ``results.wechat_pay_answer`` (v2 names and v3
  spellings alike; a ``PARAM_ERROR`` about ``/payer/auth_code`` is the v2
  ``AUTH_CODE_ERROR``); any 5xx is UNKNOWN whatever its code.
- query: 200 gives the ``trade_state``; 404 ``ORDER_NOT_EXIST`` NOT_FOUND.
- reverse, refunds: :mod:`.answers`.
- statement: the trade bill, its SHA-1 checked against the signed reply.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from scanpay.networks.port import (
    Channel,
    ChannelMode,
    Outcome,
    PayAnswer,
    PayRequest,
    QueryAnswer,
    RefundAnswer,
    RefundRequest,
    RefundStatus,
    ReverseAnswer,
    Statement,
    TradeState,
)
from scanpay.networks.results import wechat_pay_answer, wechat_trade_state
from scanpay.networks.wechat.answers import (
    REFUND_STATES,
    is_retry,
    norm,
    query_message,
    refund_failed,
    reverse_answer,
)
from scanpay.networks.wechat.bill import BillError, parse_bill
from scanpay.networks.wechat.config import WeChatSettings
from scanpay.networks.wechat.v3client import CODEPAY, NoReply, V3Client, V3Reply

__all__ = ["pay", "query", "refund", "refund_query", "reverse", "statement"]

log = logging.getLogger("scanpay.networks.wechat")


def _ask(
    client: V3Client,
    seconds: float,
    settings: WeChatSettings,
    what: str,
    make: Callable[[Any], Any],
) -> V3Reply | None:
    try:
        return client.call(seconds, settings.timeouts.connect, make)
    except NoReply as no:
        log.warning("wechat v3 %s: no answer taken: %s", what, no)
        return None


def _sub(channel: Channel, *, appid: bool = True) -> dict[str, str]:
    if channel.mode is not ChannelMode.SERVICE_PROVIDER:
        return {}
    assert channel.sub_mch_id is not None  # Channel checks it
    sub = {"sub_mchid": channel.sub_mch_id}
    if appid and channel.sub_app_id:
        sub["sub_appid"] = channel.sub_app_id
    return sub


def _path_no(no: str) -> str:
    # A trade number goes into a URL path; "|" would be escaped by the transport after
    # the package signed it unescaped: escape it before, so what is signed is what is sent.
    return quote(no, safe="")


def _total(data: dict[str, Any]) -> int | None:
    amount = data.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def pay(client: V3Client, request: PayRequest, settings: WeChatSettings) -> PayAnswer:
    channel = request.channel
    scene: dict[str, Any] = {
        "device_ip": request.device_ip or settings.device_ip,
        # The client drops an empty scene_info, which code pay requires: the store is
        # always named (the merchant's own id when the request names no store).
        "store_info": {"out_id": (request.store_id or channel.sub_mch_id or channel.mch_id)[:32]},
    }
    reply = _ask(
        client,
        settings.timeouts.pay,
        settings,
        f"pay {request.trade_no}",
        lambda api: api.pay(
            description=request.description[:127],
            out_trade_no=request.trade_no,
            amount={"total": request.amount, "currency": request.currency},
            payer={"auth_code": request.auth_code},
            scene_info=scene,
            pay_type=CODEPAY,  # 2.0.4 asks for a notify_url unless told
            **_sub(channel),
        ),
    )
    if reply is None:
        return PayAnswer.unknown()
    data = reply.data or {}
    if reply.status in (200, 202):
        state = _text(data, "trade_state") or ""
        trade_no = _text(data, "out_trade_no")
        if trade_no is not None and trade_no != request.trade_no:
            log.warning("wechat v3 pay %s: reply for another trade", request.trade_no)
            return PayAnswer.unknown()
        if state == "SUCCESS":
            if trade_no is None or _total(data) not in (None, request.amount):
                log.warning("wechat v3 pay %s: paid, not as asked", request.trade_no)
                return PayAnswer.unknown(state)
            return wechat_pay_answer(state, _text(data, "transaction_id"))
        if state == "USERPAYING":
            return wechat_pay_answer(state, _text(data, "transaction_id"))
        return PayAnswer.unknown(state or None)
    code = reply.code
    if reply.status >= 500 or not 400 <= reply.status < 500 or code is None:
        return PayAnswer.unknown(code)
    detail = data.get("detail")
    field = str(detail.get("field", "")).strip("/") if isinstance(detail, dict) else ""
    if norm(code) == "PARAMERROR" and field == "payer/auth_code":
        code = "AUTH_CODE_ERROR"  # v3 says PARAM_ERROR for v2's malformed code
    answer = wechat_pay_answer(code)
    if answer.outcome is Outcome.APPROVED:
        return PayAnswer.unknown(code)  # an error status that says SUCCESS settles nothing
    return answer


def query(
    client: V3Client, channel: Channel, trade_no: str, settings: WeChatSettings
) -> QueryAnswer:
    reply = _ask(
        client,
        settings.timeouts.query,
        settings,
        f"query {trade_no}",
        lambda api: api.query(out_trade_no=_path_no(trade_no), **_sub(channel, appid=False)),
    )
    if reply is None:
        return QueryAnswer.unknown()
    data = reply.data or {}
    if reply.status == 200:
        if _text(data, "out_trade_no") != trade_no:
            log.warning("wechat v3 query %s: reply for another trade", trade_no)
            return QueryAnswer.unknown()
        word = _text(data, "trade_state") or ""
        state = wechat_trade_state(word)
        return QueryAnswer(
            state,
            word or None,
            _text(data, "transaction_id"),
            _total(data),
            query_message(state),
        )
    code = reply.code
    if reply.status == 404 and wechat_trade_state(code or "") is TradeState.NOT_FOUND:
        return QueryAnswer(TradeState.NOT_FOUND, code)
    return QueryAnswer.unknown(code)


def reverse(
    client: V3Client, channel: Channel, trade_no: str, settings: WeChatSettings
) -> ReverseAnswer:
    reply = _ask(
        client,
        settings.timeouts.reverse,
        settings,
        f"reverse {trade_no}",
        lambda api: api.codepay_reverse(out_trade_no=_path_no(trade_no), **_sub(channel)),
    )
    if reply is None:
        return reverse_answer(None, unknown=True)
    if 200 <= reply.status < 300:
        return reverse_answer(None, done=True)
    code = reply.code
    if reply.status >= 500:
        # v3's recall=Y: SYSTEM_ERROR, "call again with the same parameters".
        return reverse_answer(code, again=is_retry(code), unknown=not is_retry(code))
    return reverse_answer(code)


def _refund_answer(data: dict[str, Any], refund_no: str) -> RefundAnswer:
    if _text(data, "out_refund_no") != refund_no:
        log.warning("wechat v3 refund %s: reply for another refund", refund_no)
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no)
    word = _text(data, "status") or ""
    status = REFUND_STATES.get(word, RefundStatus.UNKNOWN)
    amount = data.get("amount")
    refunded = amount.get("refund") if isinstance(amount, dict) else None
    return RefundAnswer(
        status,
        refund_no,
        word or None,
        _text(data, "refund_id"),
        refunded if isinstance(refunded, int) and not isinstance(refunded, bool) else None,
    )


def refund(client: V3Client, request: RefundRequest, settings: WeChatSettings) -> RefundAnswer:
    extra: dict[str, Any] = {"reason": request.reason[:80]} if request.reason else {}
    callback = settings.callback_url(request.channel)
    if callback is not None:
        extra["notify_url"] = callback  # the host hears when a PROCESSING one is done
    reply = _ask(
        client,
        settings.timeouts.refund,
        settings,
        f"refund {request.refund_no}",
        lambda api: api.refund(
            out_refund_no=request.refund_no,
            amount={"refund": request.amount, "total": request.total, "currency": request.currency},
            out_trade_no=request.trade_no,
            **extra,
            **_sub(request.channel, appid=False),
        ),
    )
    if reply is None:
        return RefundAnswer(RefundStatus.UNKNOWN, request.refund_no)
    if reply.status == 200:
        return _refund_answer(reply.data or {}, request.refund_no)
    if reply.status >= 500:
        return RefundAnswer(RefundStatus.UNKNOWN, request.refund_no, reply.code)
    return refund_failed(request.refund_no, reply.code)


def refund_query(
    client: V3Client, channel: Channel, refund_no: str, settings: WeChatSettings
) -> RefundAnswer:
    reply = _ask(
        client,
        settings.timeouts.query,
        settings,
        f"refund query {refund_no}",
        lambda api: api.query_refund(
            out_refund_no=_path_no(refund_no), **_sub(channel, appid=False)
        ),
    )
    if reply is None:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no)
    if reply.status == 200:
        return _refund_answer(reply.data or {}, refund_no)
    # Not found (404 RESOURCE_NOT_EXISTS) included: it may not have arrived yet.
    return RefundAnswer(RefundStatus.UNKNOWN, refund_no, reply.code)


def statement(client: V3Client, channel: Channel, day: date, settings: WeChatSettings) -> Statement:
    seconds = settings.timeouts.statement
    what = f"statement {day.isoformat()}"
    reply = _ask(
        client,
        seconds,
        settings,
        what,
        lambda api: api.trade_bill(
            bill_date=day.isoformat(),
            bill_type="ALL",
            tar_type="GZIP",
            **_sub(channel, appid=False),
        ),
    )
    if reply is None:
        return Statement(day, False)
    data = reply.data or {}
    if reply.status != 200:
        if norm(reply.code) == "NOSTATEMENTEXIST":
            return Statement(day, True, (), reply.code)  # no trade that day
        return Statement(day, False, (), reply.code)
    url = _text(data, "download_url") or ""
    expected = (_text(data, "hash_value") or "").lower()
    if not url.startswith(client.gateway + "/") or _text(data, "hash_type") != "SHA1":
        log.warning("wechat v3 %s: a download link or hash not taken", what)
        return Statement(day, False)
    # The file is not signed (WeChat does not sign it): the signed reply's hash checks it.
    download = _ask(client, seconds, settings, what, lambda api: api.download_bill(url))
    if download is None or download.status != 200:
        return Statement(day, False)
    try:
        content = gzip.decompress(download.raw)
    except (OSError, EOFError, zlib.error):
        content = download.raw  # not compressed after all: the hash decides
    if hashlib.sha1(content).hexdigest() != expected:
        log.warning("wechat v3 %s: the bill does not match its hash", what)
        return Statement(day, False)
    try:
        lines = parse_bill(content.decode("utf-8"))
    except (UnicodeDecodeError, BillError) as exc:
        log.warning("wechat v3 %s: the bill cannot be read: %s", what, exc)
        return Statement(day, False)
    return Statement(day, True, tuple(lines))
