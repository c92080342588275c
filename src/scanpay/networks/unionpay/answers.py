"""UnionPay's verified answers to query, cancel and refund, in the port's terms (pure).

Query (``txnType=00``, the original's ``orderId`` and ``txnTime``)::

    respCode 00, origRespCode 00            PAID (txnAmt, queryId)
    respCode 00, origRespCode 05            USER_PAYING (accepted, not finished)
    respCode 00, origRespCode 03, 04        UNKNOWN
    respCode 00, origRespCode a decline     PAY_ERROR (the table's message)
    respCode 00, origRespCode "query it"    UNKNOWN (06, 12, 37, 42, 74, 75, 83…)
    respCode 34                             NOT_FOUND (yet: the consume may be on its way)
    anything else                           UNKNOWN

A consume UnionPay cancelled still queries ``origRespCode=00``: the cancel is another
transaction, so the query cannot say REVERSED.

Cancel (``txnType=31``, ``origQryId``): 00 DONE (accepted; UnionPay's guide treats a
same-day cancel as immediate and sends the result to ``backUrl``), 45 and 46 DONE
(already cancelled, refunded or reversed), 02–06, 12, 37 UNKNOWN, any other REFUSED
(35: the original's state allows no cancel, e.g. after the day's cut-off: refund it).

Refund (``txnType=04``): 00 with origRespCode 00 SUCCESS, 00 otherwise PROCESSING
(accepted: the refund query says more), 12 (the refund's order id exists: a repeat)
asks the refund query, 02–06 and 37 UNKNOWN, others FAILED. Refund query: the query
of the refund's own order: origRespCode 00 SUCCESS, 03/04/05 PROCESSING, a decline
FAILED, 34 UNKNOWN (not arrived: make it again under the same refund number).
"""

from __future__ import annotations

from collections.abc import Mapping

from scanpay.i18n import Text
from scanpay.networks.port import (
    Outcome,
    QueryAnswer,
    RefundAnswer,
    RefundStatus,
    ReverseAnswer,
    ReverseOutcome,
    TradeState,
)
from scanpay.networks.unionpay.codes import IN_DOUBT, NOT_FOUND, SUCCESS, code_rule
from scanpay.networks.unionpay.money import AmountError, to_fen

__all__ = [
    "amount_of",
    "query_answer",
    "refund_answer",
    "refund_query_answer",
    "reverse_answer",
    "text_of",
]

_AGAIN_CODES = frozenset({"02", "03", "04", "05", "06", "37"})


def text_of(fields: Mapping[str, str], name: str) -> str | None:
    """The field ``name`` when it is not blank."""
    value = fields.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def amount_of(fields: Mapping[str, str], name: str = "txnAmt") -> int | None:
    """The fen field ``name``; None when absent or not an amount."""
    text = text_of(fields, name)
    if text is None:
        return None
    try:
        return to_fen(text)
    except AmountError:
        return None


def query_answer(fields: Mapping[str, str], order_id: str) -> QueryAnswer:
    """The trade's state from a verified query reply about ``order_id``."""
    code = text_of(fields, "respCode")
    if code == NOT_FOUND:
        return QueryAnswer(TradeState.NOT_FOUND, code)
    if code != SUCCESS or text_of(fields, "orderId") != order_id:
        return QueryAnswer.unknown(code)  # another order's answer settles nothing of ours
    orig = text_of(fields, "origRespCode")
    query_id = text_of(fields, "queryId")
    amount = amount_of(fields)
    if orig == SUCCESS:
        if amount is None:
            return QueryAnswer.unknown(orig)  # paid, but how much is not said: never approve
        return QueryAnswer(TradeState.PAID, orig, query_id, amount)
    if orig is None or orig in ("03", "04"):
        return QueryAnswer(TradeState.UNKNOWN, orig, query_id, amount)
    if orig == "05":
        return QueryAnswer(TradeState.USER_PAYING, orig, query_id, amount)
    rule = code_rule(orig)
    state = {
        Outcome.DECLINED: TradeState.PAY_ERROR,
        Outcome.USER_PAYING: TradeState.USER_PAYING,
    }.get(rule.outcome, TradeState.UNKNOWN)
    return QueryAnswer(state, orig, query_id, amount, rule.message)


_DONE = Text("已撤销，款项将原路退回", "Reversed: any money taken goes back")
_DONE_BEFORE = Text("该交易已被撤销或退货", "The payment was already reversed or refunded")
_UNKNOWN = Text("撤销结果未知，将再次撤销", "The reverse's result is not known; it is made again")
_REFUSED = Text("银联拒绝撤销（{code}）", "UnionPay refused the reverse ({code})")
_LATE = Text(
    "交易已不能撤销（已过当日撤销时限），请改用退款", "Too late to reverse; refund it instead"
)


def reverse_answer(fields: Mapping[str, str] | None) -> ReverseAnswer:
    """The answer to a cancel from its verified reply (None: no reply taken)."""
    code = None if fields is None else text_of(fields, "respCode")
    if code is None or code in _AGAIN_CODES or code == "12":
        return ReverseAnswer(ReverseOutcome.UNKNOWN, code, _UNKNOWN)
    if code == SUCCESS:
        return ReverseAnswer(ReverseOutcome.DONE, code, _DONE)
    if code in ("45", "46"):
        return ReverseAnswer(ReverseOutcome.DONE, code, _DONE_BEFORE)
    text = _LATE if code == "35" else _REFUSED.format(code=code)
    return ReverseAnswer(ReverseOutcome.REFUSED, code, text)


_REFUND_REFUSED = Text("银联拒绝退款（{code}）：{zh}", "UnionPay refused the refund ({code}): {en}")


def refund_answer(fields: Mapping[str, str], refund_no: str, amount: int) -> RefundAnswer | None:
    """The refund's status from a verified refund reply; None when it asks for the
    refund query (12: the refund's order id has a refund already)."""
    code = text_of(fields, "respCode")
    query_id = text_of(fields, "queryId")
    if code == SUCCESS:
        if text_of(fields, "origRespCode") == SUCCESS:
            return RefundAnswer(RefundStatus.SUCCESS, refund_no, code, query_id, amount)
        return RefundAnswer(RefundStatus.PROCESSING, refund_no, code, query_id, amount)
    if code == "12":
        return None
    if code is None or code in _AGAIN_CODES:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, code)
    why = code_rule(code).message
    message = _REFUND_REFUSED.format(code=code, zh=why.zh_cn, en=why.en)
    return RefundAnswer(RefundStatus.FAILED, refund_no, code, message=message)


_NOT_YET = Text(
    "银联尚无该退款的记录，请以同一退款号再次退款",
    "UnionPay has no record of the refund yet; make it again under the same refund number",
)


def refund_query_answer(fields: Mapping[str, str], refund_no: str) -> RefundAnswer:
    """A refund's status from the verified query of the refund's own order."""
    code = text_of(fields, "respCode")
    if code == NOT_FOUND:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, code, message=_NOT_YET)
    if code != SUCCESS or text_of(fields, "orderId") != refund_no:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, code)
    orig = text_of(fields, "origRespCode")
    query_id = text_of(fields, "queryId")
    if orig == SUCCESS:
        return RefundAnswer(RefundStatus.SUCCESS, refund_no, orig, query_id, amount_of(fields))
    if orig is None or orig in IN_DOUBT:
        return RefundAnswer(RefundStatus.PROCESSING, refund_no, orig, query_id)
    rule = code_rule(orig)
    if rule.outcome is not Outcome.DECLINED:
        return RefundAnswer(RefundStatus.UNKNOWN, refund_no, orig, query_id)
    return RefundAnswer(RefundStatus.FAILED, refund_no, orig, query_id, message=rule.message)
