"""Refund rules: how much may go back, and what the payment becomes.

A refund returns part or all of a captured payment to the payer. The total
refunded never exceeds what was paid; each refund is identified by the
terminal's ``out_refund_no`` (a retry with the same number and body returns
the stored refund, with another body it is refused with 95, like payments).

- a payment in SUCCESS or PARTIALLY_REFUNDED can be refunded, up to what is
  left: it becomes PARTIALLY_REFUNDED, or REFUNDED when nothing is left;
- more than what is left is bad input: refused with 13, nothing stored;
- a payment that never captured money (FAILED, USER_PAYING) or was reversed
  cannot be refunded: the refund is stored as FAILED with 12, so that its
  number keeps that answer.

Pure: the service locks the payment row, asks :func:`plan_refund`, and runs
the plan (ledger entry, states) in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanpay.host.domain.payment_state import (
    IllegalTransition,
    PaymentState,
    Refund,
    transition,
)

__all__ = ["RefundPlan", "RefundRefusal", "plan_refund", "refundable"]

_REFUNDABLE = frozenset({PaymentState.SUCCESS, PaymentState.PARTIALLY_REFUNDED})


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """The refund can go ahead: the payment's next state and its new refunded total."""

    payment_state: PaymentState
    refunded_total: int


@dataclass(frozen=True, slots=True)
class RefundRefusal:
    """The refund cannot go ahead: ``code`` 13 (too much: an error, nothing stored) or
    12 (the payment cannot be refunded: a stored FAILED refund); ``reason`` is stable."""

    code: str
    reason: str

    @property
    def stored(self) -> bool:
        """Whether the refusal is kept as a FAILED refund (a decline) or only answered."""
        return self.code != "13"


def refundable(state: PaymentState, paid: int, refunded: int) -> int:
    """How much of a payment can still be refunded."""
    return paid - refunded if state in _REFUNDABLE else 0


def plan_refund(
    state: PaymentState, paid: int, refunded: int, amount: int
) -> RefundPlan | RefundRefusal:
    """What a refund of ``amount`` does to a payment of ``paid`` with ``refunded`` returned."""
    if amount <= 0:
        return RefundRefusal("13", "bad_amount")
    if state is PaymentState.REFUNDED or (state in _REFUNDABLE and amount > paid - refunded):
        return RefundRefusal("13", "exceeds_paid")
    if state not in _REFUNDABLE:
        return RefundRefusal("12", "not_refundable")
    try:
        step = transition(state, Refund(amount=amount, paid=paid, refunded=refunded))
    except IllegalTransition as exc:  # pragma: no cover - guarded above
        return RefundRefusal(exc.code, "exceeds_paid")
    return RefundPlan(step.state, refunded + amount)
