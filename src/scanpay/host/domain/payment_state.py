"""The host's payment state machine (merchant scans the customer's code).

Pure: a state and an event in, the next state, its result code and the money
effect out. The services run the effect (ledger postings) in the same database
transaction as the state change. States are those of the terminal API::

    (none) --Authorised--> SUCCESS            capture
    (none) --PinRequired--> USER_PAYING
    (none) --Declined(c)--> FAILED(c)
    (none) --Reverse--> REVERSED              tombstone: a later payment fails
    USER_PAYING --PinConfirmed--> SUCCESS     capture
    USER_PAYING --Authorised--> SUCCESS       capture (a network's late approval)
    USER_PAYING --PinRejected--> USER_PAYING (55) | FAILED (75, account locked)
    USER_PAYING --Declined(c) / Expire--> FAILED
    SUCCESS | USER_PAYING | FAILED --Reverse--> REVERSED   (return, when captured)
    REVERSED --Reverse--> REVERSED            idempotent, nothing moves
    REVERSED --LatePayment--> REVERSED (12)   the tombstone holds
    SUCCESS | PARTIALLY_REFUNDED --Refund--> PARTIALLY_REFUNDED | REFUNDED

Anything else raises :class:`IllegalTransition` with the result code to answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FINAL_STATES",
    "Authorised",
    "Declined",
    "Effect",
    "Event",
    "Expire",
    "IllegalTransition",
    "LatePayment",
    "PaymentState",
    "PinConfirmed",
    "PinRejected",
    "PinRequired",
    "Refund",
    "Reverse",
    "Transition",
    "state_code",
    "transition",
]


class PaymentState(StrEnum):
    """A payment's state; the values are the API's ``status`` values."""

    USER_PAYING = "USER_PAYING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


#: States no event leaves (a refund chain ends in REFUNDED, a reversal in REVERSED).
FINAL_STATES = frozenset({PaymentState.REVERSED, PaymentState.REFUNDED})


class Effect(StrEnum):
    """What a transition does to money."""

    NONE = "none"
    CAPTURE = "capture"  # payer -> merchant, the full amount
    RETURN = "return"  # merchant -> payer, the full captured amount
    REFUND = "refund"  # merchant -> payer, part of it (issue 5's refunds)


@dataclass(frozen=True, slots=True)
class Authorised:
    """The issuer approved without further customer action."""


@dataclass(frozen=True, slots=True)
class PinRequired:
    """The issuer wants the customer's PIN before it approves."""


@dataclass(frozen=True, slots=True)
class Declined:
    """The issuer, the risk rules or the host declined with result ``code``."""

    code: str


@dataclass(frozen=True, slots=True)
class PinConfirmed:
    """The customer entered the right PIN and the debit went through."""


@dataclass(frozen=True, slots=True)
class PinRejected:
    """A wrong PIN; ``locked`` when it was the last try."""

    locked: bool


@dataclass(frozen=True, slots=True)
class Expire:
    """The customer did not confirm before the host's deadline."""


@dataclass(frozen=True, slots=True)
class Reverse:
    """The terminal cancels a sale it does not know the outcome of, or does not want."""


@dataclass(frozen=True, slots=True)
class LatePayment:
    """A payment request arrives for a trade number that was reversed first."""


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund of ``amount`` of a payment of ``paid``, ``refunded`` of it returned so far."""

    amount: int
    paid: int
    refunded: int


Event = (
    Authorised
    | PinRequired
    | Declined
    | PinConfirmed
    | PinRejected
    | Expire
    | Reverse
    | LatePayment
    | Refund
)


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of an event: the new ``state``, its result ``code`` and the money ``effect``."""

    state: PaymentState
    code: str
    effect: Effect = Effect.NONE


class IllegalTransition(ValueError):
    """An event that the current state does not allow; ``code`` is the result code to answer."""

    def __init__(self, state: PaymentState | None, event: Event, code: str) -> None:
        super().__init__(f"{type(event).__name__} is not allowed in state {state}")
        self.state = state
        self.event = event
        self.code = code


_S = PaymentState
_STATE_CODES = {
    _S.SUCCESS: "00",
    _S.USER_PAYING: "09",
    _S.REVERSED: "12",
    _S.REFUNDED: "00",
    _S.PARTIALLY_REFUNDED: "00",
}


def state_code(state: PaymentState, failure_code: str | None = None) -> str:
    """The result code that describes a payment resting in ``state``."""
    if state is PaymentState.FAILED:
        return failure_code or "96"
    return _STATE_CODES[state]


def transition(state: PaymentState | None, event: Event) -> Transition:
    """The next state for ``event`` in ``state`` (``None``: no payment yet)."""
    if state is None:
        return _from_nothing(event)
    if isinstance(event, Reverse):
        if state in (_S.SUCCESS, _S.USER_PAYING, _S.FAILED, _S.REVERSED):
            captured = state is _S.SUCCESS
            return Transition(_S.REVERSED, "12", Effect.RETURN if captured else Effect.NONE)
        # A refunded payment is settled business: the terminal refunds, it does not reverse.
        raise IllegalTransition(state, event, "12")
    if isinstance(event, LatePayment) and state is _S.REVERSED:
        return Transition(_S.REVERSED, "12")
    if state is _S.USER_PAYING:
        return _from_user_paying(event)
    if isinstance(event, Refund) and state in (_S.SUCCESS, _S.PARTIALLY_REFUNDED):
        if event.amount <= 0 or event.refunded + event.amount > event.paid:
            raise IllegalTransition(state, event, "13")
        full = event.refunded + event.amount == event.paid
        return Transition(_S.REFUNDED if full else _S.PARTIALLY_REFUNDED, "00", Effect.REFUND)
    raise IllegalTransition(state, event, "12" if state in FINAL_STATES else "30")


def _from_nothing(event: Event) -> Transition:
    if isinstance(event, Authorised):
        return Transition(_S.SUCCESS, "00", Effect.CAPTURE)
    if isinstance(event, PinRequired):
        return Transition(_S.USER_PAYING, "09")
    if isinstance(event, Declined):
        return Transition(_S.FAILED, event.code)
    if isinstance(event, Reverse):
        return Transition(_S.REVERSED, "12")
    raise IllegalTransition(None, event, "25")


def _from_user_paying(event: Event) -> Transition:
    # Authorised: a payment network approved after the customer confirmed on their phone.
    if isinstance(event, PinConfirmed | Authorised):
        return Transition(_S.SUCCESS, "00", Effect.CAPTURE)
    if isinstance(event, PinRejected):
        return Transition(_S.FAILED, "75") if event.locked else Transition(_S.USER_PAYING, "55")
    if isinstance(event, Declined):
        return Transition(_S.FAILED, event.code)
    if isinstance(event, Expire):
        return Transition(_S.FAILED, "12")
    raise IllegalTransition(_S.USER_PAYING, event, "30")
