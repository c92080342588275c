"""Risk decisions taken before the issuer is asked (the seam for issue 5's rules).

:func:`assess` runs an ordered list of rules over one :class:`RiskInput`;
the first rule that declines wins, flags are collected. With no rules every
payment is approved. Rules are pure callables, so issue 5's table-driven
limits, velocity and duplicate checks plug in here without touching the
payment service: the service builds the input (with counts it read from the
database) and acts on the decision (decline with the rule's code, usually 57).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["RiskDecision", "RiskInput", "RiskOutcome", "RiskRule", "assess"]


class RiskOutcome(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class RiskInput:
    """Everything a rule may look at for one payment."""

    merchant_id: str
    mcc: str
    terminal_id: str
    amount: int
    currency: str
    wallet: str
    payer: str
    training: bool
    now: datetime
    #: Counts and sums the service read for velocity and daily limits (issue 5).
    history: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The verdict: outcome, the result code when declined, and which rules said what."""

    outcome: RiskOutcome
    code: str = "00"
    reasons: tuple[str, ...] = ()


RiskRule = Callable[[RiskInput], RiskDecision]


def assess(payment: RiskInput, rules: Sequence[RiskRule] = ()) -> RiskDecision:
    """Run ``rules`` in order: the first decline decides, reviews are collected."""
    flagged: list[str] = []
    for rule in rules:
        decision = rule(payment)
        if decision.outcome is RiskOutcome.DECLINE:
            return decision
        if decision.outcome is RiskOutcome.REVIEW:
            flagged.extend(decision.reasons)
    if flagged:
        return RiskDecision(RiskOutcome.REVIEW, "00", tuple(flagged))
    return RiskDecision(RiskOutcome.APPROVE)
