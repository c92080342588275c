"""The sale state machine (pure: no I/O, no clock, no randomness).

A sale is the terminal's record of one attempt to take a payment by scanning
the customer's code. :func:`advance` takes the sale and one event (a cashier
action, a host answer, the absence of one, or a clock tick with the time passed
in) and returns the next sale plus the commands the agent must run: send the
payment, query it, reverse it, print, show. The agent journals the returned
sale *before* it runs a single command, so a crash at any point leaves a
journal from which :class:`Recovered` picks up (the sans-I/O pattern of httpx's
auth flows: the machine decides, the adapter does).

::

    NEW -> CODE_READ -> CONFIRMED -> SUBMITTED -+-> APPROVED
                                                +-> DECLINED (reason code)
                                                +-> USER_PAYING -> APPROVED | DECLINED
                                                |     (deadline, cancel) -> REVERSING -> CANCELLED
                                                +-> UNKNOWN -> (query) -> APPROVED | DECLINED
                                                      (deadline) -> REVERSING -> REVERSED
     any state before SUBMITTED -> CANCELLED
     APPROVED -> PARTIALLY_REFUNDED -> REFUNDED

Rules the machine keeps (DESIGN.md, research-payments.md §8):

- No answer is not a "no": a timeout, a 5xx, an unsigned or unreadable reply
  makes the sale UNKNOWN - and so does a send refused as a replay or as too
  late, because a duplicating network may have delivered an accepted copy
  first. It is queried with backoff, and past the deadline it is reversed. A
  query that finds nothing may re-send the *same* request (same
  ``out_trade_no``, same body) while the code is still in memory; otherwise
  the sale is reversed, which leaves a tombstone on the host so that a late
  copy of the request cannot succeed.
- A payment that provably never left (:class:`NotSent`: the host's
  certificate failed verification in the TLS handshake, before the request's
  first byte) is neither in doubt nor declined: the first send of a SUBMITTED
  sale ends CANCELLED at once, with the terminal's reason as its result, and
  nothing is reversed (the host has nothing to reverse). Any later send may
  follow a copy that did reach the host, so there it counts as no answer.
- A definite answer that is processed before the deadline tick wins, even if
  it arrived late; once REVERSING is journaled, a late success is ignored and
  the reversal returns the money (the reverse crosses the late success).
- USER_PAYING is polled every ``poll_interval`` until the customer deadline,
  then cancelled through a reversal; a confirmation processed before that tick
  approves the sale. The customer deadline is the host's (its reply says how many
  seconds are left): the terminal never gives up before the host does, since a
  reversal then would undo a payment the customer may still confirm. At the
  host's deadline it asks once more (the host answers FAILED, code 12: the sale
  is declined as timed out) and reverses only ``customer_grace`` later, when no
  answer came. A host that names no deadline leaves the terminal's own
  ``customer_deadline``, reversed at once.
- The full payment code never enters the sale: only its kind, wallet and a
  masked form (the agent holds the code in memory for the send).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Literal

from scanpay.errors import ScanpayError
from scanpay.i18n import Text
from scanpay.money import get_currency
from scanpay.protocol.signing import REFUSED_COPY_MAY_HAVE_PASSED
from scanpay.terminal.backoff import Backoff

__all__ = [
    "FINAL_STATES",
    "IN_DOUBT_STATES",
    "OPEN_STATES",
    "CancelRequested",
    "CodeScanned",
    "CodeSummary",
    "Command",
    "Confirmed",
    "Event",
    "HostResult",
    "NoAnswer",
    "NotFound",
    "NotSent",
    "PaymentReplied",
    "Print",
    "Query",
    "Recovered",
    "RefundApplied",
    "Refused",
    "RescanRequested",
    "ReversalAcknowledged",
    "ReversalReason",
    "Reverse",
    "Sale",
    "SaleError",
    "SaleState",
    "Send",
    "Show",
    "Step",
    "Submitted",
    "Tick",
    "Timings",
    "advance",
    "agrees_with_host",
]


class SaleState(StrEnum):
    """Where a sale is. The names are the journal's and the API's."""

    NEW = "NEW"
    CODE_READ = "CODE_READ"
    CONFIRMED = "CONFIRMED"
    SUBMITTED = "SUBMITTED"
    USER_PAYING = "USER_PAYING"
    UNKNOWN = "UNKNOWN"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REVERSING = "REVERSING"
    REVERSED = "REVERSED"
    CANCELLED = "CANCELLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


OPEN_STATES = frozenset({SaleState.NEW, SaleState.CODE_READ, SaleState.CONFIRMED})
"""Nothing has been sent: the cashier may still change or cancel the sale."""
IN_DOUBT_STATES = frozenset({SaleState.SUBMITTED, SaleState.UNKNOWN, SaleState.USER_PAYING})
"""Sent, outcome not known yet: the agent must resolve these before a new sale."""
FINAL_STATES = frozenset(
    {
        SaleState.APPROVED,
        SaleState.DECLINED,
        SaleState.REVERSED,
        SaleState.CANCELLED,
        SaleState.PARTIALLY_REFUNDED,
        SaleState.REFUNDED,
    }
)
"""Settled: only the refund chain leads out of APPROVED and PARTIALLY_REFUNDED."""

_CAPTURED = frozenset({SaleState.APPROVED, SaleState.PARTIALLY_REFUNDED, SaleState.REFUNDED})
# The host's payment status for each captured state.
_HOST_STATUS = {
    SaleState.APPROVED: "SUCCESS",
    SaleState.PARTIALLY_REFUNDED: "PARTIALLY_REFUNDED",
    SaleState.REFUNDED: "REFUNDED",
}


class ReversalReason(StrEnum):
    """Why a sale is being reversed; decides whether it ends REVERSED or CANCELLED."""

    TIMEOUT = "timeout"
    """The outcome stayed unknown until the deadline."""
    NOT_FOUND = "not_found"
    """The host had no trace of the payment and it could not be re-sent."""
    CUSTOMER_TIMEOUT = "customer_timeout"
    """The customer did not confirm on their phone in time."""
    CASHIER_CANCEL = "cashier_cancel"
    """The cashier cancelled after the payment was sent."""


# Reversals the cashier or the customer asked for end CANCELLED (DESIGN: USER_PAYING ->
# CANCELLED); reversals of an unknown outcome end REVERSED.
_ENDS_CANCELLED = frozenset({ReversalReason.CUSTOMER_TIMEOUT, ReversalReason.CASHIER_CANCEL})


class SaleError(ScanpayError):
    """A cashier action that the sale's state does not allow, or a bad sale."""


@dataclass(frozen=True, slots=True)
class Timings:
    """The machine's clock rules, in seconds (configurable; tests shrink them)."""

    unknown_deadline: float = 45.0
    """From submission: an outcome still unknown then is reversed."""
    customer_deadline: float = 45.0
    """From submission: a customer who has not confirmed by then is cancelled (only
    when the host names no PIN deadline of its own)."""
    customer_grace: float = 13.0
    """After the host's PIN deadline: time for the last query's answer before the
    terminal reverses (a poll interval and a request timeout)."""
    poll_interval: float = 3.0
    """Between USER_PAYING polls."""
    query_backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 2.0, 8.0))
    """Between queries of an unknown outcome."""
    max_sends: int = 3
    """How often one request may be sent in all (first send plus re-sends)."""


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """What a sale keeps of a scanned code: never the code itself."""

    kind: str
    """``wallet`` or ``emv_cpm`` (merchant-presented codes are never charged)."""
    scheme: str | None
    masked: str
    """At most the first 6 and last 4 characters (``scanpay.codes.mask``)."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "scheme": self.scheme, "masked": self.masked}


@dataclass(frozen=True, slots=True)
class HostResult:
    """The host's word on a sale: its result code and, for a payment, its status."""

    code: str
    status: str | None = None
    message: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "message": self.message.as_dict() if self.message else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostResult:
        msg = data.get("message")
        text = Text(msg["zh-CN"], msg["en"]) if msg else None
        return cls(str(data["code"]), data.get("status"), text)


# ----------------------------------------------------------------------- events

Source = Literal["send", "query"]


@dataclass(frozen=True, slots=True)
class _Event:
    name: ClassVar[str] = "event"
    now: float


@dataclass(frozen=True, slots=True)
class CodeScanned(_Event):
    """The cashier scanned a payment code that parsed (scanning again replaces it)."""

    name: ClassVar[str] = "code_scanned"
    code: CodeSummary


@dataclass(frozen=True, slots=True)
class RescanRequested(_Event):
    """The cashier wants to scan again: the code is dropped."""

    name: ClassVar[str] = "rescan"


@dataclass(frozen=True, slots=True)
class Confirmed(_Event):
    """The cashier checked amount and code and pressed confirm."""

    name: ClassVar[str] = "confirmed"


@dataclass(frozen=True, slots=True)
class Submitted(_Event):
    """The agent is about to send the payment (journaled before the first byte)."""

    name: ClassVar[str] = "submitted"


@dataclass(frozen=True, slots=True)
class CancelRequested(_Event):
    """The cashier cancels (before sending: locally; after: through a reversal)."""

    name: ClassVar[str] = "cancel"


@dataclass(frozen=True, slots=True)
class PaymentReplied(_Event):
    """A signed, verified payment body from the host (send or query)."""

    name: ClassVar[str] = "payment_replied"
    source: Source
    status: str
    code: str
    message: Text | None = None
    payment_id: str | None = None
    wallet: str | None = None
    payer: str | None = None
    paid_at: str | None = None
    refunded_amount: int = 0
    pin_expires_in: float | None = None
    """USER_PAYING: the host's seconds left until it stops waiting for the PIN."""


@dataclass(frozen=True, slots=True)
class Refused(_Event):
    """A signed 4xx error body: this request changed nothing on the host."""

    name: ClassVar[str] = "refused"
    source: Source
    code: str
    message: Text | None = None
    field: str | None = None
    """The request field the host objected to (a header name for signature errors)."""


@dataclass(frozen=True, slots=True)
class NoAnswer(_Event):
    """Timeout, reset, 5xx, unsigned, badly signed or unreadable reply."""

    name: ClassVar[str] = "no_answer"
    source: Source
    reason: str


@dataclass(frozen=True, slots=True)
class NotSent(_Event):
    """The request provably never reached the host (the TLS handshake refused the
    host's certificate before anything was written); ``code`` is the terminal's
    error code (``host_untrusted``, ``host_pin_mismatch``)."""

    name: ClassVar[str] = "not_sent"
    source: Source
    code: str
    message: Text | None = None


@dataclass(frozen=True, slots=True)
class NotFound(_Event):
    """A query found no such payment on the host (404, code 25)."""

    name: ClassVar[str] = "not_found"
    can_resend: bool
    """True while the agent still holds the payment code in memory."""


@dataclass(frozen=True, slots=True)
class Tick(_Event):
    """Time passed; ``now`` decides whether a query, poll or deadline is due."""

    name: ClassVar[str] = "tick"


@dataclass(frozen=True, slots=True)
class ReversalAcknowledged(_Event):
    """The host acknowledged the reversal (the payment is REVERSED, or FAILED)."""

    name: ClassVar[str] = "reversal_acknowledged"
    status: str
    code: str
    message: Text | None = None


@dataclass(frozen=True, slots=True)
class RefundApplied(_Event):
    """A refund of this sale succeeded; ``refunded_total`` is the sum of all of them."""

    name: ClassVar[str] = "refund_applied"
    refunded_total: int


@dataclass(frozen=True, slots=True)
class Recovered(_Event):
    """The agent (re)started and found this sale in its journal."""

    name: ClassVar[str] = "recovered"


Event = (
    CodeScanned
    | RescanRequested
    | Confirmed
    | Submitted
    | CancelRequested
    | PaymentReplied
    | Refused
    | NoAnswer
    | NotSent
    | NotFound
    | Tick
    | ReversalAcknowledged
    | RefundApplied
    | Recovered
)


# --------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Send:
    """POST the payment (the same body every time: the key is ``out_trade_no``)."""

    out_trade_no: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Query:
    """GET the payment: to resolve an unknown outcome or to poll USER_PAYING."""

    out_trade_no: str
    purpose: Literal["unknown", "user_paying"]


@dataclass(frozen=True, slots=True)
class Reverse:
    """Put the reversal in the store-and-forward queue (idempotent)."""

    out_trade_no: str
    reason: ReversalReason


@dataclass(frozen=True, slots=True)
class Print:
    """Print the receipts of a settled sale."""

    out_trade_no: str


@dataclass(frozen=True, slots=True)
class Show:
    """Tell the screen that the sale changed and which screen fits it now."""

    out_trade_no: str
    state: SaleState


Command = Send | Query | Reverse | Print | Show

# ------------------------------------------------------------------------- sale


@dataclass(frozen=True, slots=True)
class Sale:
    """One sale. Immutable: :func:`advance` returns a new one."""

    out_trade_no: str
    amount: int
    currency: str
    operator_id: str
    created_at: float
    training: bool = False
    note: str | None = None
    state: SaleState = SaleState.NEW
    code: CodeSummary | None = None
    submitted_at: float | None = None
    deadline_at: float | None = None
    customer_deadline_at: float | None = None
    """When the customer's time to confirm ends (the host's deadline, on this clock)."""
    host_deadline: bool = False
    """``customer_deadline_at`` is the host's (else the terminal's own setting)."""
    customer_timed_out: bool = False
    """Declined because the customer did not confirm before the host's deadline."""
    wake_at: float | None = None
    """When the sale next needs a :class:`Tick` (None: it waits for an answer or nothing)."""
    in_flight: Source | None = None
    """A request whose answer is awaited."""
    sends: int = 0
    queries: int = 0
    """Unanswered queries in a row: the backoff index."""
    result: HostResult | None = None
    payment_id: str | None = None
    wallet: str | None = None
    payer: str | None = None
    paid_at: str | None = None
    reversal_reason: ReversalReason | None = None
    refunded_amount: int = 0
    finished_at: float | None = None
    version: int = 0

    @classmethod
    def open(
        cls,
        out_trade_no: str,
        amount: int,
        currency: str,
        *,
        operator_id: str,
        now: float,
        training: bool = False,
        note: str | None = None,
    ) -> Sale:
        """A NEW sale. The amount is positive integer minor units of a known currency."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise SaleError(
                "bad_amount",
                Text("金额必须是正的整数（最小单位）", "the amount must be positive minor units"),
                field="amount",
            )
        return cls(
            out_trade_no=out_trade_no,
            amount=amount,
            currency=get_currency(currency).alpha,
            operator_id=operator_id,
            created_at=now,
            training=training,
            note=note,
        )

    @property
    def in_doubt(self) -> bool:
        """Sent, and the outcome is not known yet."""
        return self.state in IN_DOUBT_STATES

    @property
    def captured(self) -> bool:
        """The money was taken (and possibly partly or fully refunded since)."""
        return self.state in _CAPTURED

    @property
    def refundable(self) -> int:
        """How much may still be refunded."""
        return self.amount - self.refunded_amount if self.captured else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; :meth:`from_dict` restores it exactly (the journal's snapshot)."""
        data = asdict(self)
        data["state"] = self.state.value
        data["code"] = self.code.to_dict() if self.code else None
        data["result"] = self.result.to_dict() if self.result else None
        data["reversal_reason"] = self.reversal_reason.value if self.reversal_reason else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sale:
        values = dict(data)
        values["state"] = SaleState(values["state"])
        code = values.get("code")
        values["code"] = CodeSummary(**code) if code else None
        result = values.get("result")
        values["result"] = HostResult.from_dict(result) if result else None
        reason = values.get("reversal_reason")
        values["reversal_reason"] = ReversalReason(reason) if reason else None
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Step:
    """What :func:`advance` decided: the new sale, the commands, and why nothing
    happened when nothing did (``ignored``: a late answer, a tick with nothing due)."""

    sale: Sale
    commands: tuple[Command, ...] = ()
    ignored: str | None = None

    @property
    def changed(self) -> bool:
        return self.ignored is None


_NOT_ALLOWED = Text(
    "当前状态下不能执行此操作：{action}（{state}）", "{action} is not possible now ({state})"
)


def _refuse(sale: Sale, action: str) -> SaleError:
    return SaleError(
        "action_not_allowed", _NOT_ALLOWED.format(action=action, state=sale.state.value)
    )


def _with(sale: Sale, state: SaleState, commands: tuple[Command, ...], **changes: Any) -> Step:
    new = replace(sale, state=state, version=sale.version + 1, **changes)
    shown: tuple[Command, ...] = (Show(sale.out_trade_no, state),) if state != sale.state else ()
    return Step(new, commands + shown)


def _ignore(sale: Sale, why: str) -> Step:
    return Step(sale, (), why)


def _reverse(sale: Sale, now: float, reason: ReversalReason) -> Step:
    return _with(
        sale,
        SaleState.REVERSING,
        (Reverse(sale.out_trade_no, reason),),
        reversal_reason=reason,
        wake_at=None,
        in_flight=None,
    )


def _finish(sale: Sale, state: SaleState, now: float, **changes: Any) -> Step:
    # Only an approval prints by itself; every other receipt is printed on request.
    commands: tuple[Command, ...] = (
        (Print(sale.out_trade_no),) if state == SaleState.APPROVED else ()
    )
    return _with(sale, state, commands, finished_at=now, wake_at=None, in_flight=None, **changes)


def _past(now: float, moment: float | None) -> bool:
    """At or past ``moment``: a deadline is reached when the clock reads it."""
    return moment is not None and now >= moment


# ---------------------------------------------------------------------- advance


def advance(sale: Sale, event: Event, timings: Timings | None = None) -> Step:
    """The next sale and the commands to run, for one event.

    Cashier actions that the state does not allow raise :class:`SaleError`
    (``action_not_allowed``); host answers and ticks that come too late or too
    early change nothing and say so in :attr:`Step.ignored`.
    """
    t = timings or Timings()
    state = sale.state
    if isinstance(event, Recovered):
        return _recover(sale, event)
    if isinstance(event, CodeScanned | RescanRequested | Confirmed | Submitted | CancelRequested):
        return _cashier(sale, event, t)
    if state == SaleState.REVERSING:
        if isinstance(event, ReversalAcknowledged):
            final = (
                SaleState.CANCELLED
                if sale.reversal_reason in _ENDS_CANCELLED
                else SaleState.REVERSED
            )
            result = HostResult(event.code, event.status, event.message)
            return _finish(sale, final, event.now, result=result)
        # The reversal was journaled: a late success is refunded by it, never shown.
        return _ignore(sale, f"reversing: {event.name} ignored")
    if isinstance(event, RefundApplied):
        return _refund(sale, event)
    if state not in IN_DOUBT_STATES:
        return _ignore(sale, f"{state.value}: {event.name} ignored")
    if isinstance(event, PaymentReplied):
        return _payment(sale, event, t)
    if isinstance(event, Refused):
        if event.source == "send" and event.field not in REFUSED_COPY_MAY_HAVE_PASSED:
            # 4xx on the payment itself is definite: the host changed nothing, and
            # any copy of these very bytes would have been refused the same way.
            result = HostResult(event.code, None, event.message)
            return _finish(sale, SaleState.DECLINED, event.now, result=result)
        # A refused query says nothing about the payment; a send refused for its
        # nonce (replayed) or timestamp (late) means a copy of it may have been
        # accepted first. Either way: keep asking, never decline.
        reason = f"{event.source} refused: {event.code} {event.field or ''}".strip()
        return _no_answer(sale, NoAnswer(event.now, event.source, reason), t)
    if isinstance(event, NoAnswer):
        return _no_answer(sale, event, t)
    if isinstance(event, NotSent):
        if event.source == "send" and state == SaleState.SUBMITTED and sale.sends == 1:
            # The only send never left: the host has no trace and never will, so
            # there is nothing to ask about and nothing to reverse.
            result = HostResult(event.code, None, event.message)
            return _finish(sale, SaleState.CANCELLED, event.now, result=result)
        # A re-send (or a query) not sent says nothing about the copies before it.
        reason = f"{event.source} not sent: {event.code}"
        return _no_answer(sale, NoAnswer(event.now, event.source, reason), t)
    if isinstance(event, NotFound):
        return _not_found(sale, event, t)
    if isinstance(event, Tick):
        return _tick(sale, event, t)
    return _ignore(sale, f"{state.value}: {event.name} ignored")  # pragma: no cover


def _cashier(
    sale: Sale,
    event: CodeScanned | RescanRequested | Confirmed | Submitted | CancelRequested,
    t: Timings,
) -> Step:
    state = sale.state
    if isinstance(event, CodeScanned):
        if state not in (SaleState.NEW, SaleState.CODE_READ):
            raise _refuse(sale, "scan")
        if event.code.kind == "emv_mpm":
            raise SaleError(
                "merchant_code",
                Text(
                    "这是商户收款码，不能用来扣款",
                    "This is a merchant's code; it cannot be charged",
                ),
            )
        return _with(sale, SaleState.CODE_READ, (), code=event.code)
    if isinstance(event, RescanRequested):
        if state not in (SaleState.CODE_READ, SaleState.CONFIRMED):
            raise _refuse(sale, "rescan")
        return _with(sale, SaleState.NEW, (), code=None)
    if isinstance(event, Confirmed):
        if state != SaleState.CODE_READ:
            raise _refuse(sale, "confirm")
        return _with(sale, SaleState.CONFIRMED, ())
    if isinstance(event, Submitted):
        if state != SaleState.CONFIRMED:
            raise _refuse(sale, "submit")
        deadline = event.now + t.unknown_deadline
        return _with(
            sale,
            SaleState.SUBMITTED,
            (Send(sale.out_trade_no, 1),),
            submitted_at=event.now,
            deadline_at=deadline,
            customer_deadline_at=event.now + t.customer_deadline,
            # Even if the send never returns, the deadline tick still comes.
            wake_at=deadline,
            in_flight="send",
            sends=1,
        )
    # CancelRequested
    if state in OPEN_STATES:
        return _finish(sale, SaleState.CANCELLED, event.now)
    if state in IN_DOUBT_STATES:
        return _reverse(sale, event.now, ReversalReason.CASHIER_CANCEL)
    raise _refuse(sale, "cancel")


def _payment(sale: Sale, event: PaymentReplied, t: Timings) -> Step:
    now = event.now
    result = HostResult(event.code, event.status, event.message)
    facts: dict[str, Any] = {
        "result": result,
        "payment_id": event.payment_id or sale.payment_id,
        "wallet": event.wallet or sale.wallet,
        "payer": event.payer or sale.payer,
    }
    status = event.status
    if status == "SUCCESS":
        return _finish(sale, SaleState.APPROVED, now, paid_at=event.paid_at, **facts)
    if status == "USER_PAYING":
        waiting = _host_deadline(sale, event)
        if _past(now, _give_up_at(waiting, t)):
            return _reverse(waiting, now, ReversalReason.CUSTOMER_TIMEOUT)
        return _with(
            waiting,
            SaleState.USER_PAYING,
            (),
            wake_at=_next_poll(waiting, now, t),
            in_flight=None,
            queries=0,
            **facts,
        )
    if status == "FAILED":
        # Code 12 for a payment that was waiting for the PIN: the host's deadline passed.
        timed_out = sale.state == SaleState.USER_PAYING and event.code == "12"
        return _finish(sale, SaleState.DECLINED, now, customer_timed_out=timed_out, **facts)
    if status == "REVERSED":
        # Reversed by someone before us (an earlier reversal's tombstone): no money moved.
        return _finish(sale, SaleState.REVERSED, now, **facts)
    if status in ("REFUNDED", "PARTIALLY_REFUNDED"):
        return _finish(
            sale,
            SaleState(status),
            now,
            paid_at=event.paid_at,
            refunded_amount=event.refunded_amount,
            **facts,
        )
    return _no_answer(sale, NoAnswer(now, event.source, f"unknown status {status!r}"), t)


def _host_deadline(sale: Sale, event: PaymentReplied) -> Sale:
    """``sale`` with the customer deadline the host's reply names, if it names one.

    The host's seconds left, counted from when the reply arrived, end at or after
    the host's own deadline (the reply was on its way meanwhile): of several
    replies the earliest end is the closest, and never before the host gives up.
    """
    if event.pin_expires_in is None:
        return sale
    ends = event.now + max(0.0, event.pin_expires_in)
    if sale.host_deadline and sale.customer_deadline_at is not None:
        ends = min(ends, sale.customer_deadline_at)
    return replace(sale, customer_deadline_at=ends, host_deadline=True)


def _give_up_at(sale: Sale, t: Timings) -> float:
    """When a USER_PAYING sale is reversed: the host's deadline and the grace for the
    last query's answer, or the terminal's own deadline when the host named none."""
    assert sale.customer_deadline_at is not None
    return sale.customer_deadline_at + (t.customer_grace if sale.host_deadline else 0.0)


def _next_poll(sale: Sale, now: float, t: Timings) -> float:
    """The next USER_PAYING poll: every ``poll_interval``, and right at the deadline
    (the host answers FAILED then), never later than the moment to give up."""
    assert sale.customer_deadline_at is not None
    edge = sale.customer_deadline_at if now < sale.customer_deadline_at else _give_up_at(sale, t)
    return min(now + t.poll_interval, edge)


def _no_answer(sale: Sale, event: NoAnswer, t: Timings) -> Step:
    now = event.now
    if sale.state == SaleState.USER_PAYING:
        if _past(now, _give_up_at(sale, t)):
            return _reverse(sale, now, ReversalReason.CUSTOMER_TIMEOUT)
        wake = _next_poll(sale, now, t)
        return _with(sale, SaleState.USER_PAYING, (), wake_at=wake, in_flight=None)
    if _past(now, sale.deadline_at):
        return _reverse(sale, now, ReversalReason.TIMEOUT)
    assert sale.deadline_at is not None
    wake = min(now + t.query_backoff.delay(sale.queries), sale.deadline_at)
    return _with(
        sale, SaleState.UNKNOWN, (), wake_at=wake, in_flight=None, queries=sale.queries + 1
    )


def _not_found(sale: Sale, event: NotFound, t: Timings) -> Step:
    now = event.now
    if sale.state == SaleState.USER_PAYING:
        # The host told us USER_PAYING before; a 404 now is a glitch, not an answer.
        return _no_answer(sale, NoAnswer(now, "query", "not found while USER_PAYING"), t)
    if _past(now, sale.deadline_at):
        return _reverse(sale, now, ReversalReason.TIMEOUT)
    if event.can_resend and sale.sends < t.max_sends:
        attempt = sale.sends + 1
        return _with(
            sale,
            SaleState.UNKNOWN,
            (Send(sale.out_trade_no, attempt),),
            sends=attempt,
            in_flight="send",
            wake_at=sale.deadline_at,
        )
    # Nothing to re-send with: a reversal now leaves a tombstone that makes any
    # copy of the request still on its way fail.
    return _reverse(sale, now, ReversalReason.NOT_FOUND)


def _tick(sale: Sale, event: Tick, t: Timings) -> Step:
    now = event.now
    if sale.state == SaleState.USER_PAYING:
        give_up = _give_up_at(sale, t)
        if _past(now, give_up):
            return _reverse(sale, now, ReversalReason.CUSTOMER_TIMEOUT)
        if sale.in_flight is None and _past(now, sale.wake_at):
            # While the query is out only giving up can be due (its answer wakes the sale).
            return _with(
                sale,
                SaleState.USER_PAYING,
                (Query(sale.out_trade_no, "user_paying"),),
                in_flight="query",
                wake_at=give_up,
            )
        return _ignore(sale, "nothing due")
    if _past(now, sale.deadline_at):
        return _reverse(sale, now, ReversalReason.TIMEOUT)
    if sale.state == SaleState.UNKNOWN and sale.in_flight is None and _past(now, sale.wake_at):
        return _with(
            sale,
            SaleState.UNKNOWN,
            (Query(sale.out_trade_no, "unknown"),),
            in_flight="query",
            wake_at=sale.deadline_at,
        )
    return _ignore(sale, "nothing due")


def _refund(sale: Sale, event: RefundApplied) -> Step:
    if sale.state not in (SaleState.APPROVED, SaleState.PARTIALLY_REFUNDED):
        return _ignore(sale, f"{sale.state.value}: refund ignored")
    total = event.refunded_total
    if total <= sale.refunded_amount:
        return _ignore(sale, "refund already counted")
    if total > sale.amount:
        raise SaleError(
            "refund_exceeds_payment",
            Text("退款总额超过支付金额", "refunds would exceed the amount paid"),
            field="amount",
        )
    state = SaleState.REFUNDED if total == sale.amount else SaleState.PARTIALLY_REFUNDED
    return _with(sale, state, (), refunded_amount=total)


def _recover(sale: Sale, event: Recovered) -> Step:
    state = sale.state
    if state == SaleState.CONFIRMED:
        # SUBMITTED is journaled before any byte leaves, so CONFIRMED was never sent.
        return _finish(sale, SaleState.CANCELLED, event.now)
    if state == SaleState.CODE_READ:
        # The code lived only in the dead process's memory: scan it again.
        return _with(sale, SaleState.NEW, (), code=None)
    if state in (SaleState.SUBMITTED, SaleState.UNKNOWN):
        return _with(sale, SaleState.UNKNOWN, (), in_flight=None, wake_at=event.now)
    if state == SaleState.USER_PAYING:
        return _with(sale, SaleState.USER_PAYING, (), in_flight=None, wake_at=event.now)
    if state == SaleState.REVERSING:
        assert sale.reversal_reason is not None
        return Step(
            replace(sale, version=sale.version + 1),
            (Reverse(sale.out_trade_no, sale.reversal_reason),),
        )
    return _ignore(sale, f"{state.value}: nothing to recover")


def agrees_with_host(sale: Sale, host_status: str | None) -> bool:
    """Whether the journal and the host tell the same story about the money.

    ``host_status`` is the host's payment status, or ``None`` when the host has
    no such payment (404). REVERSED and FAILED both mean that no money stayed
    with the merchant; a reversal that came first leaves REVERSED (a tombstone).
    """
    state = sale.state
    if state in _CAPTURED:
        return host_status == _HOST_STATUS[state]
    if state in (SaleState.DECLINED, SaleState.REVERSED):
        return host_status in (None, "FAILED", "REVERSED")
    if state == SaleState.CANCELLED:
        if sale.submitted_at is None:
            return host_status is None
        return host_status in (None, "FAILED", "REVERSED")
    return False
