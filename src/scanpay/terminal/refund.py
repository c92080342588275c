"""A refund's own small state machine (pure).

A refund is keyed by the terminal's ``out_refund_no`` and is idempotent on
the host, so the rule is simpler than a sale's: there is no deadline and no
reversal. A refund whose answer is lost is sent again, with the same number
and body, with backoff, until the host gives a definite answer::

    PENDING -> SUCCESS | FAILED
            -> FAILED (the first send provably never left: not sent)
            -> UNKNOWN -> (send again) -> SUCCESS | FAILED

A refund of a payment taken through a payment network may answer PROCESSING (sent
back through the network, not final there yet): it is asked again like a lost answer.

A refund whose only send provably never reached the host (:class:`RefundNotSent`:
the host's certificate refused in the TLS handshake, or the connection refused,
before the request's first byte) is not in doubt: nothing on the host carries its
number and nothing ever will, so it ends FAILED at once with the terminal's reason,
and is not sent again. The cashier fixes what stopped it (the trust, the host) and
refunds again, under a new number. Any later send may follow a copy that did reach
the host, so there a send not sent counts as no answer.

Before a refund is created, :func:`check_refund` applies the rules that need
no host: only a paid sale, never more than what is left to refund.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

from scanpay.i18n import Text
from scanpay.money import format_amount
from scanpay.protocol.signing import REFUSED_COPY_MAY_HAVE_PASSED
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.sale import HostResult, Sale

__all__ = [
    "OutsideRefund",
    "RefundEvent",
    "RefundNoAnswer",
    "RefundNotSent",
    "RefundRecord",
    "RefundRecovered",
    "RefundRefused",
    "RefundReplied",
    "RefundState",
    "RefundStep",
    "RefundTick",
    "SendRefund",
    "advance_refund",
    "check_refund",
    "open_refund",
]


class RefundState(StrEnum):
    PENDING = "PENDING"
    UNKNOWN = "UNKNOWN"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """One refund of one sale."""

    out_refund_no: str
    out_trade_no: str
    amount: int
    currency: str
    operator_id: str
    approved_by: str
    created_at: float
    reason: str | None = None
    training: bool = False
    state: RefundState = RefundState.PENDING
    attempts: int = 1
    wake_at: float | None = None
    result: HostResult | None = None
    refund_id: str | None = None
    finished_at: float | None = None
    version: int = 0

    @property
    def settled(self) -> bool:
        return self.state in (RefundState.SUCCESS, RefundState.FAILED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["result"] = self.result.to_dict() if self.result else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefundRecord:
        values = dict(data)
        values["state"] = RefundState(values["state"])
        result = values.get("result")
        values["result"] = HostResult.from_dict(result) if result else None
        return cls(**values)


@dataclass(frozen=True, slots=True)
class OutsideRefund:
    """A refund of one of this terminal's payments that the terminal did not make (in the
    merchant's portal, by the acquirer's operator), as the host reported it. It counts
    in the day's totals like the terminal's own refunds, on the day it was made."""

    out_refund_no: str
    out_trade_no: str
    amount: int
    currency: str
    refunded_at: float
    """When the host made it (unix seconds): the business day it belongs to."""
    refund_id: str | None = None
    reason: str | None = None
    training: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutsideRefund:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class _RefundEvent:
    name: ClassVar[str] = "refund_event"
    now: float


@dataclass(frozen=True, slots=True)
class RefundReplied(_RefundEvent):
    """A signed, verified refund body."""

    name: ClassVar[str] = "refund_replied"
    status: str
    code: str
    message: Text | None = None
    refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRefused(_RefundEvent):
    """A signed 4xx: definite, nothing changed - unless it was refused for its nonce
    (replayed) or timestamp (late): see :func:`advance_refund`."""

    name: ClassVar[str] = "refund_refused"
    code: str
    message: Text | None = None
    field: str | None = None
    """The request field the host objected to (a header name for signature errors)."""


@dataclass(frozen=True, slots=True)
class RefundNoAnswer(_RefundEvent):
    name: ClassVar[str] = "refund_no_answer"
    reason: str


@dataclass(frozen=True, slots=True)
class RefundNotSent(_RefundEvent):
    """The request provably never reached the host (the TLS handshake refused the
    host's certificate, or the host refused the connection, before anything was
    written); ``code`` is the terminal's error code (``host_untrusted``,
    ``host_pin_mismatch``, ``host_connection_refused``)."""

    name: ClassVar[str] = "refund_not_sent"
    code: str
    message: Text | None = None


@dataclass(frozen=True, slots=True)
class RefundTick(_RefundEvent):
    name: ClassVar[str] = "refund_tick"


@dataclass(frozen=True, slots=True)
class RefundRecovered(_RefundEvent):
    name: ClassVar[str] = "refund_recovered"


RefundEvent = (
    RefundReplied | RefundRefused | RefundNoAnswer | RefundNotSent | RefundTick | RefundRecovered
)


@dataclass(frozen=True, slots=True)
class SendRefund:
    """POST the refund (same number, same body, every time)."""

    out_refund_no: str
    attempt: int


@dataclass(frozen=True, slots=True)
class RefundStep:
    refund: RefundRecord
    commands: tuple[SendRefund, ...] = ()
    ignored: str | None = None


_BACKOFF = Backoff(1.0, 2.0, 30.0)


def open_refund(
    sale: Sale,
    out_refund_no: str,
    amount: int,
    *,
    operator_id: str,
    approved_by: str,
    now: float,
    reason: str | None = None,
    pending: bool = False,
) -> RefundStep:
    """A new PENDING refund of ``sale`` and the command to send it.

    Raises :class:`TerminalError` for a refund the host would refuse anyway
    (see :func:`check_refund`).
    """
    check_refund(sale, amount, pending)
    refund = RefundRecord(
        out_refund_no=out_refund_no,
        out_trade_no=sale.out_trade_no,
        amount=amount,
        currency=sale.currency,
        operator_id=operator_id,
        approved_by=approved_by,
        created_at=now,
        reason=reason,
        training=sale.training,
    )
    return RefundStep(refund, (SendRefund(out_refund_no, 1),))


def advance_refund(
    refund: RefundRecord, event: RefundEvent, backoff: Backoff = _BACKOFF
) -> RefundStep:
    """The next refund record and whether to send it (again)."""
    policy = backoff
    if refund.settled:
        return RefundStep(refund, (), f"{refund.state.value}: {event.name} ignored")
    bump = refund.version + 1
    if isinstance(event, RefundReplied):
        if event.status == "PROCESSING":
            # A payment network's refund not yet final there: ask the host again later
            # (same number, same body) until it has the network's last word.
            return advance_refund(refund, RefundNoAnswer(event.now, "processing"), policy)
        if event.status not in ("SUCCESS", "FAILED"):
            return advance_refund(refund, RefundNoAnswer(event.now, f"status {event.status!r}"))
        return RefundStep(
            replace(
                refund,
                state=RefundState(event.status),
                result=HostResult(event.code, event.status, event.message),
                refund_id=event.refund_id,
                wake_at=None,
                finished_at=event.now,
                version=bump,
            )
        )
    if isinstance(event, RefundRefused) and event.field in REFUSED_COPY_MAY_HAVE_PASSED:
        # Refused as a replayed nonce or a late timestamp: a duplicating network may
        # have delivered another copy of these very bytes first, and the host may have
        # paid it. Not a "no": send again (same number, same body) and take the stored
        # answer, as after a lost reply.
        reason = f"refused: {event.code} {event.field}"
        return advance_refund(refund, RefundNoAnswer(event.now, reason), policy)
    if isinstance(event, RefundRefused):
        return RefundStep(
            replace(
                refund,
                state=RefundState.FAILED,
                result=HostResult(event.code, None, event.message),
                wake_at=None,
                finished_at=event.now,
                version=bump,
            )
        )
    if isinstance(event, RefundNotSent):
        if refund.state == RefundState.PENDING and refund.attempts == 1:
            # The first and only send never left (PENDING: no send has gone unanswered,
            # and a recovered refund is UNKNOWN): the host has no trace of this number,
            # and nothing sends it again, so there is nothing to ask about.
            return RefundStep(
                replace(
                    refund,
                    state=RefundState.FAILED,
                    result=HostResult(event.code, None, event.message),
                    wake_at=None,
                    finished_at=event.now,
                    version=bump,
                )
            )
        # A re-send not sent says nothing about the copies before it: keep sending.
        reason = f"not sent: {event.code}"
        return advance_refund(refund, RefundNoAnswer(event.now, reason), policy)
    if isinstance(event, RefundNoAnswer):
        wake = event.now + policy.delay(refund.attempts - 1)
        return RefundStep(replace(refund, state=RefundState.UNKNOWN, wake_at=wake, version=bump))
    if isinstance(event, RefundRecovered):
        return RefundStep(
            replace(refund, state=RefundState.UNKNOWN, wake_at=event.now, version=bump)
        )
    # RefundTick
    if refund.wake_at is None or event.now < refund.wake_at:
        return RefundStep(refund, (), "nothing due")
    attempt = refund.attempts + 1
    return RefundStep(
        replace(refund, attempts=attempt, wake_at=None, version=bump),
        (SendRefund(refund.out_refund_no, attempt),),
    )


def check_refund(sale: Sale, amount: int, pending: bool = False) -> None:
    """Refuse a refund the host would refuse anyway, before anything is written.

    ``pending``: another refund of this sale has no definite outcome yet. It may
    still succeed, so a second one waits rather than risk refunding too much.
    """
    if not sale.captured:
        raise TerminalError("not_refundable", state=sale.state.value)
    if pending:
        raise TerminalError("refund_pending")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise TerminalError("bad_request", field="amount", reason="amount must be > 0")
    if amount > sale.refundable:
        # Said as money ("CNY 4.34"), never in minor units: the cashier reads it.
        left = f"{sale.currency} {format_amount(sale.refundable, sale.currency)}"
        raise TerminalError("refund_too_much", field="amount", refundable=left)
