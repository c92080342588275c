"""What the host does by itself about a reconciliation break (pure).

A break is a disagreement between a network's statement and the host's books. Some
have one right answer the host can find or carry out itself; the rest are an
operator's to decide. The policy, by kind:

- ``network_only`` — the network charged a trade the host has *failed* or reversed:
  **reverse it at the network** (the customer's money goes back; a reverse is
  idempotent). One the host has still waiting is left to its leg; one the host never
  made is the operator's (a sale of the shop's elsewhere, or worse).
- ``host_only`` — the host captured a trade the statement lacks: **query** the network.
  Paid there: its statement lacks the line, resolved. Not paid: the operator's.
- ``refund_host_only`` — the host's refund the statement lacks: **query the refund**.
  Done there: resolved. Otherwise the operator's.
- every other kind (amounts, currencies, refunds made outside the host, duplicate or
  unknown lines) is the operator's.

A break the policy resolves is resolved as an operator's would be, audited, with the
network's answer in words (:data:`RESOLUTIONS`).
"""

from __future__ import annotations

from enum import StrEnum

from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.reconciliation import BreakKind
from scanpay.i18n import Text
from scanpay.networks.port import RefundStatus, ReverseOutcome, TradeState

__all__ = [
    "RESOLUTIONS",
    "PolicyAction",
    "action_for",
    "after_query",
    "after_refund_query",
    "after_reverse",
]


class PolicyAction(StrEnum):
    """What the policy does about one break."""

    REVERSE = "reverse"
    QUERY = "query"
    QUERY_REFUND = "query_refund"
    WAIT = "wait"
    """Nothing yet: the payment's own leg is still at work."""
    OPERATOR = "operator"
    """Nothing: an operator decides."""


#: How a break the policy resolved is resolved (its ``resolution``, in both languages).
RESOLUTIONS: dict[str, Text] = {
    "reversed": Text(
        "策略：已在支付网络撤销，款项退回顾客", "policy: reversed at the network, money back"
    ),
    "paid_at_network": Text(
        "策略：查询确认网络已扣款，对账单缺该笔", "policy: the network's query confirms the charge"
    ),
    "refunded_at_network": Text(
        "策略：退款查询确认网络已退款", "policy: the network's refund query confirms it"
    ),
}

_NOT_CAPTURED = frozenset({PaymentState.FAILED.value, PaymentState.REVERSED.value})


def action_for(kind: BreakKind, host_status: str | None) -> PolicyAction:
    """The policy's action on a break of ``kind`` whose host payment is in
    ``host_status`` (None: the host has no such payment)."""
    if kind is BreakKind.NETWORK_ONLY:
        if host_status is None:
            return PolicyAction.OPERATOR
        if host_status == PaymentState.USER_PAYING.value:
            return PolicyAction.WAIT
        return PolicyAction.REVERSE if host_status in _NOT_CAPTURED else PolicyAction.OPERATOR
    if kind is BreakKind.HOST_ONLY and host_status is not None:
        return PolicyAction.QUERY
    if kind is BreakKind.REFUND_HOST_ONLY and host_status is not None:
        return PolicyAction.QUERY_REFUND
    return PolicyAction.OPERATOR


def after_reverse(outcome: ReverseOutcome) -> str | None:
    """The resolution a reverse's answer earns (None: the break stays open)."""
    return "reversed" if outcome is ReverseOutcome.DONE else None


def after_query(state: TradeState) -> str | None:
    """The resolution a query's answer earns (None: the break stays open)."""
    return "paid_at_network" if state in (TradeState.PAID, TradeState.REFUNDED) else None


def after_refund_query(status: RefundStatus) -> str | None:
    """The resolution a refund query's answer earns (None: the break stays open)."""
    return "refunded_at_network" if status is RefundStatus.SUCCESS else None
