"""Merchant-presented orders (the customer scans the merchant): states and the QR payload.

A terminal asks for an order with an amount; the host answers a dynamic EMV
merchant-presented code carrying the merchant's name, city and MCC, the amount,
the host's payee template (``org.scanpay``, sub-ID 01 = the merchant's payee
account) and the order's reference label (62/05), and the order waits::

    CREATED --Pay--> PAID                         capture
    CREATED --Expire (at expires_at)--> EXPIRED
    CREATED | EXPIRED --Close--> CLOSED
    EXPIRED | CLOSED --Pay--> (unchanged)         capture, then refund at once
    PAID --Close--> PAID                          the close answers "already paid"
    PAID --Pay--> refused (12)                    one payment per order

A payment that reaches an order after it expired or was closed is not kept:
the customer's wallet has already let it go, so the host captures it and
refunds it in the same transaction (research-payments.md §8a). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from scanpay.codes import SCANPAY_GUI, AccountTemplate, build_mpm

__all__ = [
    "FINAL_ORDER_STATES",
    "PAYEE_TEMPLATE_ID",
    "Close",
    "Expire",
    "IllegalOrderTransition",
    "OrderEffect",
    "OrderEvent",
    "OrderState",
    "OrderStep",
    "Pay",
    "is_due",
    "order_payload",
    "order_transition",
]

#: The merchant account template ID the host writes its payee into.
PAYEE_TEMPLATE_ID = "26"


class OrderState(StrEnum):
    """An order's state; the values are the API's ``status`` values."""

    CREATED = "CREATED"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"


#: States the order's own clock no longer changes.
FINAL_ORDER_STATES = frozenset({OrderState.PAID, OrderState.CLOSED})


class OrderEffect(StrEnum):
    """What a transition does to money."""

    NONE = "none"
    CAPTURE = "capture"  # the payment pays the order
    CAPTURE_AND_REFUND = "capture_and_refund"  # a late payment: taken, and given back at once


@dataclass(frozen=True, slots=True)
class Pay:
    """A wallet payment for the order arrives."""


@dataclass(frozen=True, slots=True)
class Expire:
    """The order's ``expires_at`` has passed."""


@dataclass(frozen=True, slots=True)
class Close:
    """The terminal (or the operator) closes the order."""


OrderEvent = Pay | Expire | Close


@dataclass(frozen=True, slots=True)
class OrderStep:
    """The outcome of an event: the new state, the result code and the money effect."""

    state: OrderState
    code: str
    effect: OrderEffect = OrderEffect.NONE


class IllegalOrderTransition(ValueError):
    """An event the order's state refuses; ``code`` is the result code to answer."""

    def __init__(self, state: OrderState, event: OrderEvent, code: str) -> None:
        super().__init__(f"{type(event).__name__} is not allowed on a {state} order")
        self.state = state
        self.event = event
        self.code = code


_O = OrderState


def order_transition(state: OrderState, event: OrderEvent) -> OrderStep:
    """The next state of an order in ``state`` for ``event``."""
    if isinstance(event, Pay):
        if state is _O.CREATED:
            return OrderStep(_O.PAID, "00", OrderEffect.CAPTURE)
        if state is _O.PAID:
            raise IllegalOrderTransition(state, event, "12")
        return OrderStep(state, "12", OrderEffect.CAPTURE_AND_REFUND)
    if isinstance(event, Expire):
        return OrderStep(_O.EXPIRED if state is _O.CREATED else state, "12")
    if state is _O.PAID:
        return OrderStep(_O.PAID, "00")
    return OrderStep(_O.CLOSED, "12")


def is_due(state: OrderState, expires_at: datetime, now: datetime) -> bool:
    """Whether an order must expire now (only a CREATED order expires)."""
    return state is OrderState.CREATED and now >= expires_at


def order_payload(
    *,
    payee: str,
    reference: str,
    merchant_name: str,
    merchant_city: str,
    mcc: str,
    currency: str,
    country: str,
    amount: int,
) -> str:
    """The dynamic EMV merchant-presented code for an order (built and re-parsed by
    :func:`scanpay.codes.build_mpm`, so it cannot be malformed)."""
    return build_mpm(
        merchant_accounts=[AccountTemplate(PAYEE_TEMPLATE_ID, SCANPAY_GUI, {"01": payee})],
        merchant_name=merchant_name,
        merchant_city=merchant_city,
        mcc=mcc,
        currency=currency,
        country=country,
        amount=amount,
        additional_data={"reference_label": reference},
    )
