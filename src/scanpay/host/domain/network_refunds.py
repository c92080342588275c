"""A refund at a payment network: what its answer means and what to do next (pure).

A refund of a payment taken through a network goes back through that network,
under the refund's own number (the host refund's id), which the network keeps
idempotent: the same refund asked again is the same refund, never a second one.
So the rule is short, and nothing is ever assumed from silence::

    SENT -> SUCCESS | FAILED                     the network's word, final
         -> PROCESSING -> (query) -> ...         accepted, paid back later
         -> UNKNOWN    -> (the same call again)  no answer, or none that settles it

A refund with no answer is asked again with the same call: the refund itself
(which the network answers with the refund it already has, or makes it now) or,
once the network said PROCESSING, a query. Calls back off from 5 s to 5 min and
never stop until the network gives a final word: the customer's money is at
stake either way, and the operator sees every refund still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scanpay.networks.port import RefundStatus

__all__ = ["BACKOFF", "NextCall", "RefundCall", "RefundLegStatus", "after_answer"]


class RefundLegStatus(StrEnum):
    """Where a refund stands at its network, as the host knows it."""

    SENT = "SENT"
    """Journaled, the refund call made or about to be: no answer yet."""
    PROCESSING = "PROCESSING"
    UNKNOWN = "UNKNOWN"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class RefundCall(StrEnum):
    REFUND = "refund"
    QUERY = "query"


#: Seconds before the n-th call again (the last repeats): soon at first, since most
#: refunds settle in seconds, then no busier than a query every five minutes.
BACKOFF: tuple[float, ...] = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True, slots=True)
class NextCall:
    """The refund's status after an answer, and the call to make ``after`` seconds on
    (``call`` None: final, nothing more to do)."""

    status: RefundLegStatus
    call: RefundCall | None
    after: float | None

    @property
    def final(self) -> bool:
        return self.call is None


def _delay(tries: int, cap: float) -> float:
    return min(BACKOFF[min(max(tries, 1), len(BACKOFF)) - 1], cap)


def after_answer(
    call: RefundCall, status: RefundStatus, tries: int, cap: float = BACKOFF[-1]
) -> NextCall:
    """What the network's ``status`` in answer to ``call`` (the ``tries``-th call made)
    means: final, or which call next and when (never later than ``cap`` seconds)."""
    if status is RefundStatus.SUCCESS:
        return NextCall(RefundLegStatus.SUCCESS, None, None)
    if status is RefundStatus.FAILED:
        return NextCall(RefundLegStatus.FAILED, None, None)
    if status is RefundStatus.PROCESSING:
        return NextCall(RefundLegStatus.PROCESSING, RefundCall.QUERY, _delay(tries, cap))
    # No answer: the same call again. A refund asked again cannot refund twice (its
    # number), and a query that found nothing yet may find it next time.
    return NextCall(RefundLegStatus.UNKNOWN, call, _delay(tries, cap))
