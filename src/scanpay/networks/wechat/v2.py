"""API v2 micropay and the rest, answered in the port's terms.

A reply reaches this module only signed and checked (:mod:`.v2wire`); anything
else is UNKNOWN. Then ``result_code`` SUCCESS is the call's success and FAIL
hands over ``err_code``:

- micropay: SUCCESS (for our trade number and amount) APPROVED; FAIL's
  ``err_code`` through ``results.wechat_pay_answer`` (USERPAYING, SYSTEMERROR,
  NOTENOUGH...).
- orderquery: ``trade_state``; ``err_code`` ORDERNOTEXIST is NOT_FOUND.
- reverse: ``recall`` Y is AGAIN whatever else the reply says; the rest as
  :mod:`.answers` says.
- refund: SUCCESS means *accepted* in v2 ("退款申请接收成功"), so it is
  PROCESSING; refundquery says when it is SUCCESS.
- refundquery (by ``out_refund_no``): ``refund_status_$n`` of our refund.
"""

from __future__ import annotations

import logging

from scanpay.i18n import Text
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
    TradeState,
)
from scanpay.networks.results import wechat_pay_answer, wechat_trade_state
from scanpay.networks.wechat.answers import (
    REFUND_STATES,
    query_message,
    refund_failed,
    reverse_answer,
)
from scanpay.networks.wechat.config import WeChatSettings
from scanpay.networks.wechat.v2wire import V2Client, V2Fail
from scanpay.networks.wechat.v3client import NoReply

__all__ = ["pay", "query", "refund", "refund_query", "reverse"]

log = logging.getLogger("scanpay.networks.wechat")

_NOT_TAKEN = Text(
    "微信支付未受理请求（{msg}），正在查询结果",
    "WeChat Pay did not take the call ({msg}). Querying the result.",
)


class _Asked:
    """One call's reply, or why there is none (``fail``: the network's return_msg)."""

    def __init__(self, reply: dict[str, str] | None, fail: str | None = None) -> None:
        self.reply = reply
        self.fail = fail


def _ask(
    client: V2Client, path: str, params: dict[str, str], seconds: float, settings: WeChatSettings
) -> _Asked:
    try:
        return _Asked(client.call(path, params, seconds, settings.timeouts.connect))
    except V2Fail as fail:
        log.warning("wechat v2 %s: %s", path, fail)
        return _Asked(None, fail.message)
    except NoReply as no:
        log.warning("wechat v2 %s: no answer taken: %s", path, no)
        return _Asked(None)


def _sub(channel: Channel) -> dict[str, str]:
    if channel.mode is not ChannelMode.SERVICE_PROVIDER:
        return {}
    assert channel.sub_mch_id is not None  # Channel checks it
    return {"sub_mch_id": channel.sub_mch_id, "sub_appid": channel.sub_app_id or ""}


def _fen(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def pay(client: V2Client, request: PayRequest, settings: WeChatSettings) -> PayAnswer:
    params = {
        "body": request.description[:128],
        "out_trade_no": request.trade_no,
        "total_fee": str(request.amount),
        "fee_type": request.currency,
        "spbill_create_ip": request.device_ip or settings.device_ip,
        "auth_code": request.auth_code,
        "device_info": (request.store_id or "")[:32],
        **_sub(request.channel),
    }
    asked = _ask(client, "/pay/micropay", params, settings.timeouts.pay, settings)
    reply = asked.reply
    if reply is None:
        if asked.fail is not None:
            return PayAnswer.unknown(None, _NOT_TAKEN.format(msg=asked.fail))
        return PayAnswer.unknown()
    if reply.get("result_code") == "SUCCESS":
        if reply.get("out_trade_no") != request.trade_no or _fen(reply.get("total_fee")) not in (
            None,
            request.amount,
        ):
            log.warning("wechat v2 pay %s: paid, not as asked", request.trade_no)
            return PayAnswer.unknown("SUCCESS")
        return wechat_pay_answer("SUCCESS", reply.get("transaction_id") or None)
    code = reply.get("err_code") or ""
    if not code:
        return PayAnswer.unknown()
    answer = wechat_pay_answer(code)
    if answer.outcome is Outcome.APPROVED:
        return PayAnswer.unknown(code)  # result_code FAIL that says SUCCESS settles nothing
    return answer


def query(
    client: V2Client, channel: Channel, trade_no: str, settings: WeChatSettings
) -> QueryAnswer:
    params = {"out_trade_no": trade_no, **_sub(channel)}
    reply = _ask(client, "/pay/orderquery", params, settings.timeouts.query, settings).reply
    if reply is None:
        return QueryAnswer.unknown()
    if reply.get("result_code") == "SUCCESS":
        if reply.get("out_trade_no") != trade_no:
            log.warning("wechat v2 query %s: reply for another trade", trade_no)
            return QueryAnswer.unknown()
        word = reply.get("trade_state") or ""
        state = wechat_trade_state(word)
        return QueryAnswer(
            state,
            word or None,
            reply.get("transaction_id") or None,
            _fen(reply.get("total_fee")),
            query_message(state),
        )
    code = reply.get("err_code") or None
    if wechat_trade_state(code or "") is TradeState.NOT_FOUND:
        return QueryAnswer(TradeState.NOT_FOUND, code)
    return QueryAnswer.unknown(code)


def reverse(
    client: V2Client, channel: Channel, trade_no: str, settings: WeChatSettings
) -> ReverseAnswer:
    params = {"out_trade_no": trade_no, **_sub(channel)}
    reply = _ask(client, "/secapi/pay/reverse", params, settings.timeouts.reverse, settings).reply
    if reply is None:
        return reverse_answer(None, unknown=True)
    code = reply.get("err_code") or None
    if reply.get("recall") == "Y":
        return reverse_answer(code, again=True)
    if reply.get("result_code") == "SUCCESS":
        return reverse_answer(None, done=True)
    return reverse_answer(code)


def refund(client: V2Client, request: RefundRequest, settings: WeChatSettings) -> RefundAnswer:
    params = {
        "out_trade_no": request.trade_no,
        "out_refund_no": request.refund_no,
        "total_fee": str(request.total),
        "refund_fee": str(request.amount),
        "refund_fee_type": request.currency,
        "refund_desc": (request.reason or "")[:80],
        **_sub(request.channel),
    }
    reply = _ask(client, "/secapi/pay/refund", params, settings.timeouts.refund, settings).reply
    if reply is None:
        return RefundAnswer(RefundStatus.UNKNOWN, request.refund_no)
    if reply.get("result_code") != "SUCCESS":
        return refund_failed(request.refund_no, reply.get("err_code") or None)
    if reply.get("out_refund_no") != request.refund_no:
        log.warning("wechat v2 refund %s: reply for another refund", request.refund_no)
        return RefundAnswer(RefundStatus.UNKNOWN, request.refund_no)
    return RefundAnswer(
        RefundStatus.PROCESSING,
        request.refund_no,
        "SUCCESS",
        reply.get("refund_id") or None,
        _fen(reply.get("refund_fee")),
    )


def refund_query(
    client: V2Client, channel: Channel, refund_no: str, settings: WeChatSettings
) -> RefundAnswer:
    params = {"out_refund_no": refund_no, **_sub(channel)}
    reply = _ask(client, "/pay/refundquery", params, settings.timeouts.query, settings).reply
    if reply is None:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no)
    if reply.get("result_code") != "SUCCESS":
        # REFUNDNOTEXIST included: it may not have arrived; the same refund settles it.
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, reply.get("err_code") or None)
    count = _fen(reply.get("refund_count")) or 0
    for n in range(count):
        if reply.get(f"out_refund_no_{n}") != refund_no:
            continue
        word = reply.get(f"refund_status_{n}") or ""
        return RefundAnswer(
            REFUND_STATES.get(word, RefundStatus.UNKNOWN),
            refund_no,
            word or None,
            reply.get(f"refund_id_{n}") or None,
            _fen(reply.get(f"refund_fee_{n}")),
        )
    log.warning("wechat v2 refund query %s: our refund is not in the reply", refund_no)
    return RefundAnswer(RefundStatus.UNKNOWN, refund_no)
