"""WeChat Pay's words for query, reverse and refund, in the port's terms (both APIs).

The pay call's codes are :mod:`scanpay.networks.results`'s table. These are the
rest, with the rule they share: only a verified reply can settle anything, and
a code that does not say "done" or "never" leaves the call to be made again.

Reverse (v2 ``recall``/``err_code``, v3 HTTP status and ``code``)::

    v2 result SUCCESS, recall N; v3 204          DONE
    v2 recall Y (whatever else it says)         AGAIN   the network's "call reverse again"
    v3 5xx SYSTEM_ERROR / BANK_ERROR (verified) AGAIN   v3's spelling of recall=Y
    v3 any other 5xx                            UNKNOWN a server error is never a refusal
    ORDERNOTEXIST, ORDERREVERSED, ORDERCLOSED   DONE    nothing is held under the number
    SYSTEMERROR (recall N), FREQUENCY_LIMITED   UNKNOWN call again
    anything else (REVERSE_EXPIRE, NO_AUTH...)  REFUSED nothing was reversed

ORDERNOTEXIST on a reverse is DONE: the network has no trade under the number,
so it holds no money under it. The leg reverses no sooner than 15 s after the
pay call left (past the pay call's own timeout), and a query that finds
nothing (``NOT_FOUND``) is not final: it keeps the leg querying until its
deadline, when it reverses. Reconciliation with the day's statement catches a
pay request the network would book after that.

Refunds: SUCCESS, PROCESSING (v2 ``CHANGE`` and v3 ``ABNORMAL``: stuck at the
bank, the merchant acts: still PROCESSING, with that code), ``CLOSED`` /
``REFUNDCLOSE`` FAILED. A refused refund is FAILED, except SYSTEMERROR and its
kin (UNKNOWN: the same refund again is safe, it is idempotent on its number).
A refund the network does not know (``REFUNDNOTEXIST``) is UNKNOWN when
queried: it may not have arrived; the same refund request settles it.
"""

from __future__ import annotations

from scanpay.i18n import Text
from scanpay.networks.port import (
    RefundAnswer,
    RefundStatus,
    ReverseAnswer,
    ReverseOutcome,
    TradeState,
)

__all__ = [
    "REFUND_STATES",
    "is_retry",
    "norm",
    "query_message",
    "refund_failed",
    "reverse_answer",
]


def norm(code: str | None) -> str:
    """A code as compared here: upper case, underscores dropped (v3's ``ORDER_NOT_EXIST``
    is v2's ``ORDERNOTEXIST``)."""
    return (code or "").strip().upper().replace("_", "")


_REVERSE_DONE = frozenset({"ORDERNOTEXIST", "ORDERREVERSED", "ORDERCLOSED"})
_RETRY = frozenset(
    {"SYSTEMERROR", "BANKERROR", "FREQUENCYLIMITED", "BIZERRNEEDRETRY", "RATELIMITED"}
)


def is_retry(code: str | None) -> bool:
    """The network's "try again": the call settled nothing."""
    return norm(code) in _RETRY


_DONE = Text("已撤销，如已扣款将原路退回", "Reversed; any money taken goes back to the customer")
_NOTHING = Text(
    "微信支付没有该订单，无需退款", "WeChat Pay has no such trade: nothing to give back"
)
_AGAIN = Text("微信支付要求再次撤销", "WeChat Pay asks for the reverse to be made again")
_UNKNOWN = Text("撤销结果未知，将再次撤销", "The reverse's result is not known; it is made again")
_REFUSED = Text("微信支付拒绝撤销（{code}）", "WeChat Pay refused the reverse ({code})")
_EXPIRED = Text(
    "订单已超过可撤销期限，请改用退款", "The trade is too old to reverse; refund it instead"
)


def reverse_answer(
    code: str | None, *, done: bool = False, again: bool = False, unknown: bool = False
) -> ReverseAnswer:
    """The answer to a reverse the network replied to (verified) with ``code``; ``done``,
    ``again`` or ``unknown`` when the reply's form already says which."""
    key = norm(code)
    if done:
        return ReverseAnswer(ReverseOutcome.DONE, code, _DONE)
    if again:
        return ReverseAnswer(ReverseOutcome.AGAIN, code, _AGAIN)
    if unknown:
        return ReverseAnswer(ReverseOutcome.UNKNOWN, code, _UNKNOWN)
    if key in _REVERSE_DONE:
        text = _NOTHING if key == "ORDERNOTEXIST" else _DONE
        return ReverseAnswer(ReverseOutcome.DONE, code, text)
    if not key or key in _RETRY:
        return ReverseAnswer(ReverseOutcome.UNKNOWN, code, _UNKNOWN)
    text = _EXPIRED if key == "REVERSEEXPIRE" else _REFUSED.format(code=code)
    return ReverseAnswer(ReverseOutcome.REFUSED, code, text)


REFUND_STATES: dict[str, RefundStatus] = {
    "SUCCESS": RefundStatus.SUCCESS,
    "PROCESSING": RefundStatus.PROCESSING,
    "ABNORMAL": RefundStatus.PROCESSING,
    "CHANGE": RefundStatus.PROCESSING,
    "CLOSED": RefundStatus.FAILED,
    "REFUNDCLOSE": RefundStatus.FAILED,
}
"""A refund's status word (v3 ``status``, v2 ``refund_status_$n``) as the port's."""

_REFUND_REFUSED = Text("微信支付拒绝退款（{code}）", "WeChat Pay refused the refund ({code})")
_REFUND_TEXTS = {
    "NOTENOUGH": Text(
        "商户可用余额不足，暂时无法退款", "The merchant's balance is too low to refund now"
    ),
    "INVALIDREQUEST": Text(
        "退款请求无效（超出可退金额、订单未支付或退款号已用于其他金额）",
        "The refund is not valid (over what is left, the trade is not paid, or the refund "
        "number was used for another amount)",
    ),
    "ORDERNOTEXIST": Text("微信支付没有该订单", "WeChat Pay has no such trade"),
}


def refund_failed(refund_no: str, code: str | None) -> RefundAnswer:
    """A verified refusal of a refund: FAILED, or UNKNOWN for the network's "try again"."""
    if not code or is_retry(code):
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, code)
    text = _REFUND_TEXTS.get(norm(code)) or _REFUND_REFUSED.format(code=code)
    return RefundAnswer(RefundStatus.FAILED, refund_no, code, message=text)


_QUERY_TEXTS = {
    TradeState.PAY_ERROR: Text(
        "支付失败（顾客取消或银行拒绝），请重新收款",
        "The payment failed (cancelled by the customer or refused by the bank); start again",
    ),
    TradeState.CLOSED: Text("订单已关闭，请重新下单", "The order is closed; start a new sale"),
    TradeState.REVERSED: Text("订单已撤销", "The order was reversed"),
}


def query_message(state: TradeState) -> Text | None:
    """What a cashier reads for a trade found closed for good."""
    return _QUERY_TEXTS.get(state)
