"""What goes into the network leg (events) and what comes out (actions).

The vocabulary of :mod:`scanpay.networks.leg`, which re-exports all of it: the
leg's statuses, the events the adapter feeds it (answers carry the port's
answer types, times are passed in), and the actions it asks the adapter to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Literal

from scanpay.i18n import Text
from scanpay.networks.port import PayAnswer, QueryAnswer, ReverseAnswer

__all__ = [
    "FINAL_STATUSES",
    "IN_DOUBT_STATUSES",
    "Action",
    "Call",
    "CallPay",
    "CallQuery",
    "CallReverse",
    "Event",
    "LegStatus",
    "NoAnswer",
    "PayAnswered",
    "QueryAnswered",
    "Record",
    "Recovered",
    "ReverseAnswered",
    "ReverseRequested",
    "Sent",
    "Tick",
]


class LegStatus(StrEnum):
    PENDING = "PENDING"
    """Recorded; the pay call may or may not have left."""
    SENT = "SENT"
    """The pay call left; no answer yet."""
    USER_PAYING = "USER_PAYING"
    UNKNOWN = "UNKNOWN"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REVERSING = "REVERSING"
    REVERSED = "REVERSED"


IN_DOUBT_STATUSES = frozenset({LegStatus.SENT, LegStatus.USER_PAYING, LegStatus.UNKNOWN})
"""Sent, outcome not known: the deadline applies."""
FINAL_STATUSES = frozenset({LegStatus.APPROVED, LegStatus.DECLINED, LegStatus.REVERSED})
"""Settled (only a reverse request leads out of APPROVED)."""

Call = Literal["pay", "query", "reverse"]


# ----------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class _Event:
    name: ClassVar[str] = "event"
    now: float


@dataclass(frozen=True, slots=True)
class Sent(_Event):
    """The host is about to make the pay call (the leg answers with :class:`CallPay`)."""

    name: ClassVar[str] = "sent"


@dataclass(frozen=True, slots=True)
class PayAnswered(_Event):
    """The pay call's answer (the adapter's ``PayAnswer``)."""

    name: ClassVar[str] = "pay_answered"
    answer: PayAnswer


@dataclass(frozen=True, slots=True)
class QueryAnswered(_Event):
    """A query's answer (the adapter's ``QueryAnswer``)."""

    name: ClassVar[str] = "query_answered"
    answer: QueryAnswer


@dataclass(frozen=True, slots=True)
class ReverseAnswered(_Event):
    """A reverse call's answer (the adapter's ``ReverseAnswer``)."""

    name: ClassVar[str] = "reverse_answered"
    answer: ReverseAnswer


@dataclass(frozen=True, slots=True)
class NoAnswer(_Event):
    """The ``call`` got no answer at all (timeout, lost reply, the adapter failed)."""

    name: ClassVar[str] = "no_answer"
    call: Call


@dataclass(frozen=True, slots=True)
class Tick(_Event):
    """Time passed; ``now`` decides whether the deadline is reached."""

    name: ClassVar[str] = "tick"


@dataclass(frozen=True, slots=True)
class ReverseRequested(_Event):
    """The terminal reversed the payment, or the host's sweeper gave up on it."""

    name: ClassVar[str] = "reverse_requested"


@dataclass(frozen=True, slots=True)
class Recovered(_Event):
    """The host (re)started, or its sweeper passed, and found this leg unsettled.

    Only for a leg no live process drives (found at start, or unchanged for longer
    than any call can take): whatever call was in flight is taken as lost, and the
    leg asks again (a second driver would double its calls)."""

    name: ClassVar[str] = "recovered"


Event = (
    Sent
    | PayAnswered
    | QueryAnswered
    | ReverseAnswered
    | NoAnswer
    | Tick
    | ReverseRequested
    | Recovered
)

# ---------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class CallPay:
    """Make the pay call now (the host holds the code in memory only)."""

    trade_no: str


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Query the trade at ``at`` (not before)."""

    trade_no: str
    at: float


@dataclass(frozen=True, slots=True)
class CallReverse:
    """Reverse the trade at ``at`` (not before); ``attempt`` counts from 1."""

    trade_no: str
    at: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Record:
    """The leg reached a final status: record it (in the transaction that journals the leg)."""

    trade_no: str
    outcome: LegStatus
    result_code: str
    network_code: str | None = None
    transaction_id: str | None = None
    message: Text | None = None


Action = CallPay | CallQuery | CallReverse | Record
