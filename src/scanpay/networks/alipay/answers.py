"""Alipay's verified answers to query, cancel, refund and refund query, in the port's terms.

The pay call's codes are :mod:`.codes`. The rule these share: only a verified reply
reaches here (anything else is UNKNOWN before), and a reply that does not say "done"
or "never" leaves the call to be made again.

Query (``alipay.trade.query``)::

    10000 WAIT_BUYER_PAY                       USER_PAYING
    10000 TRADE_SUCCESS, TRADE_FINISHED        PAID (amount, Alipay's trade_no)
    10000 TRADE_CLOSED, paid before            REVERSED  closed after a payment: a cancel
                                                         (action refund) or a full refund
    10000 TRADE_CLOSED, never paid             CLOSED
    40004 ACQ.TRADE_NOT_EXIST                  NOT_FOUND (yet: the pay call may be on its way)
    anything else                              UNKNOWN

Cancel (``alipay.trade.cancel``)::

    retry_flag Y (whatever the code)           AGAIN
    10000                                      DONE   (``action`` close/refund as network_code)
    40004 ACQ.TRADE_NOT_EXIST, TRADE_HAS_CLOSE DONE   nothing is held under the number
    40004 ACQ.SYSTEM_ERROR, 20000, none        UNKNOWN
    any other 40004, 4000x                     REFUSED (frozen, too old, status error…)

Refund (``alipay.trade.refund``, idempotent on ``out_request_no``): 10000 with
``fund_change=Y`` is SUCCESS. ``fund_change=N`` says this call moved no money: a
repeat of a refund already made, or one still under way. Alipay's guide says it is
not a failure and to ask the refund query, which the adapter does at once. A 40004
is FAILED (with why) but ``ACQ.SYSTEM_ERROR``; 20000 UNKNOWN.

Refund query (``alipay.trade.fastpay.refund.query``): ``refund_status``
REFUND_SUCCESS is SUCCESS. An answer without the refund is *not* a "no": Alipay's
documentation warns that a query made soon after the refund may find nothing, so it
is UNKNOWN (the same refund request settles it); only ACQ.TRADE_NOT_EXIST, no trade
at all, is FAILED.
"""

from __future__ import annotations

from typing import Any

from scanpay.i18n import Text
from scanpay.networks.alipay.codes import BUSINESS_FAILED, CONFIG_CODES, SUCCESS
from scanpay.networks.alipay.money import AmountError, to_fen
from scanpay.networks.port import (
    QueryAnswer,
    RefundAnswer,
    RefundStatus,
    ReverseAnswer,
    ReverseOutcome,
    TradeState,
)

__all__ = [
    "TRADE_STATES",
    "amount_of",
    "query_answer",
    "refund_answer",
    "refund_query_answer",
    "reverse_answer",
    "text_of",
]

SYSTEM_ERROR = "ACQ.SYSTEM_ERROR"
NOT_EXIST = "ACQ.TRADE_NOT_EXIST"

TRADE_STATES: dict[str, TradeState] = {
    "WAIT_BUYER_PAY": TradeState.USER_PAYING,
    "TRADE_SUCCESS": TradeState.PAID,
    "TRADE_FINISHED": TradeState.PAID,
    "TRADE_CLOSED": TradeState.CLOSED,
}
"""``trade_status`` as the port's trade state (TRADE_CLOSED after a payment: REVERSED)."""


def text_of(data: dict[str, Any], name: str) -> str | None:
    """The member ``name`` when it is a non-empty string."""
    value = data.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def amount_of(data: dict[str, Any], name: str) -> int | None:
    """The yuan member ``name`` in fen; None when absent or not an amount."""
    text = text_of(data, name)
    if text is None:
        return None
    try:
        return to_fen(text)
    except AmountError:
        return None


def _code(data: dict[str, Any]) -> tuple[str | None, str | None]:
    # Alipay writes ACQ codes in capitals: a lower-case one is the same code.
    sub = text_of(data, "sub_code")
    if sub and sub.upper().startswith("ACQ."):
        sub = sub.upper()
    return text_of(data, "code"), sub


_QUERY_TEXTS = {
    TradeState.CLOSED: Text("订单已关闭，请重新下单", "The order is closed; start a new sale"),
    TradeState.REVERSED: Text(
        "订单已撤销，款项已退回顾客", "The order was reversed; the money went back"
    ),
}


def query_answer(data: dict[str, Any], trade_no: str) -> QueryAnswer:
    """The trade's state from a verified query answer."""
    code, sub = _code(data)
    if code != SUCCESS:
        if code == BUSINESS_FAILED and sub == NOT_EXIST:
            return QueryAnswer(TradeState.NOT_FOUND, sub)
        return QueryAnswer.unknown(sub or code)
    if text_of(data, "out_trade_no") != trade_no:
        return QueryAnswer.unknown(code)  # another trade's answer settles nothing of ours
    word = (text_of(data, "trade_status") or "").upper()
    state = TRADE_STATES.get(word, TradeState.UNKNOWN)
    amount = amount_of(data, "total_amount")
    if state is TradeState.PAID and amount is None:
        return QueryAnswer.unknown(word)  # paid, but how much is not said: never approve it
    if state is TradeState.CLOSED and _was_paid(data):
        state = TradeState.REVERSED
    return QueryAnswer(
        state, word or None, text_of(data, "trade_no"), amount, _QUERY_TEXTS.get(state)
    )


def _was_paid(data: dict[str, Any]) -> bool:
    # Alipay says when it paid the seller (send_pay_date) and what the buyer paid; a
    # trade closed unpaid has neither.
    paid = amount_of(data, "buyer_pay_amount")
    return text_of(data, "send_pay_date") is not None or (paid is not None and paid > 0)


_DONE = {
    "close": Text("已撤销，订单已关闭，未扣款", "Reversed: the order is closed, nothing was taken"),
    "refund": Text("已撤销，款项已原路退回", "Reversed: the money went back to the customer"),
}
_DONE_OTHER = Text("已撤销，如已扣款将原路退回", "Reversed; any money taken goes back")
_NOTHING = Text("支付宝没有该订单，无需撤销", "Alipay has no such trade: nothing to reverse")
_AGAIN = Text("支付宝要求再次撤销", "Alipay asks for the reverse to be made again")
_UNKNOWN = Text("撤销结果未知，将再次撤销", "The reverse's result is not known; it is made again")
_REFUSED = Text("支付宝拒绝撤销（{code}）", "Alipay refused the reverse ({code})")
_EXPIRED = Text(
    "订单已超过可撤销期限，请改用退款", "The trade is too old to reverse; refund it instead"
)
_REVERSE_NOTHING = frozenset({NOT_EXIST, "ACQ.TRADE_HAS_CLOSE"})


def reverse_answer(data: dict[str, Any] | None) -> ReverseAnswer:
    """The answer to a cancel from its verified reply (None: no reply taken)."""
    if data is None:
        return ReverseAnswer(ReverseOutcome.UNKNOWN, None, _UNKNOWN)
    code, sub = _code(data)
    if (text_of(data, "retry_flag") or "").upper() == "Y":
        return ReverseAnswer(ReverseOutcome.AGAIN, sub or code, _AGAIN)
    if code == SUCCESS:
        action = (text_of(data, "action") or "").lower()
        return ReverseAnswer(ReverseOutcome.DONE, action or code, _DONE.get(action, _DONE_OTHER))
    if code == BUSINESS_FAILED and sub in _REVERSE_NOTHING:
        return ReverseAnswer(
            ReverseOutcome.DONE, sub, _NOTHING if sub == NOT_EXIST else _DONE_OTHER
        )
    if (code == BUSINESS_FAILED and sub and sub != SYSTEM_ERROR) or code in CONFIG_CODES:
        named = sub or code or ""
        text = _EXPIRED if "TIME_OUT" in named else _REFUSED.format(code=named)
        return ReverseAnswer(ReverseOutcome.REFUSED, named, text)
    return ReverseAnswer(ReverseOutcome.UNKNOWN, sub or code, _UNKNOWN)


_REFUND_REFUSED = Text("支付宝拒绝退款（{code}）", "Alipay refused the refund ({code})")
_REFUND_TEXTS = {
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": Text(
        "商户可用余额不足，暂时无法退款", "The merchant's balance is too low to refund now"
    ),
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": Text(
        "退款金额超出可退金额", "The refund is more than what is left to refund"
    ),
    "ACQ.DISCORDANT_REPEAT_REQUEST": Text(
        "退款号已用于另一笔金额不同的退款", "The refund number was used for another amount"
    ),
    "ACQ.TRADE_NOT_EXIST": Text("支付宝没有该订单", "Alipay has no such trade"),
    "ACQ.TRADE_STATUS_ERROR": Text(
        "订单状态不允许退款（未支付或已关闭）", "The trade cannot be refunded (not paid, or closed)"
    ),
    "ACQ.TRADE_HAS_FINISHED": Text(
        "订单已结束，不能再退款", "The trade is finished and cannot be refunded any more"
    ),
}


def refund_answer(data: dict[str, Any], refund_no: str, amount: int) -> RefundAnswer | None:
    """The refund's status from a verified refund answer; None when Alipay's answer asks
    for the refund query (``fund_change=N``)."""
    code, sub = _code(data)
    if code == SUCCESS:
        change = (text_of(data, "fund_change") or "").upper()
        if change == "Y":
            return RefundAnswer(RefundStatus.SUCCESS, refund_no, code, None, amount)
        return None
    if (code == BUSINESS_FAILED and sub and sub != SYSTEM_ERROR) or code in CONFIG_CODES:
        named = sub or code or ""
        text = _REFUND_TEXTS.get(named) or _REFUND_REFUSED.format(code=named)
        return RefundAnswer(RefundStatus.FAILED, refund_no, named, message=text)
    return RefundAnswer(RefundStatus.UNKNOWN, refund_no, sub or code)


_NOT_YET = Text(
    "支付宝尚无该退款的记录，请以同一退款号再次退款",
    "Alipay has no record of the refund yet; make it again under the same refund number",
)


def refund_query_answer(data: dict[str, Any], refund_no: str) -> RefundAnswer:
    """A refund's status from a verified refund-query answer."""
    code, sub = _code(data)
    if code != SUCCESS:
        if code == BUSINESS_FAILED and sub == NOT_EXIST:
            return RefundAnswer(RefundStatus.FAILED, refund_no, sub, message=_REFUND_TEXTS[sub])
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, sub or code)
    found = text_of(data, "out_request_no")
    status = (text_of(data, "refund_status") or "").upper()
    if found == refund_no and status == "REFUND_SUCCESS":
        amount = amount_of(data, "refund_amount")
        return RefundAnswer(RefundStatus.SUCCESS, refund_no, status, None, amount)
    return RefundAnswer(RefundStatus.UNKNOWN, refund_no, status or code, message=_NOT_YET)
