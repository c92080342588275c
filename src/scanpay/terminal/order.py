"""Show-to-pay: the customer scans the merchant's dynamic QR (pure state machine).

The terminal asks the host for an order (a dynamic EMV merchant-presented QR
with the amount), shows it, and learns the result by long-polling the host::

    CREATING -> SHOWN -> PAID | EXPIRED | CLOSED
             -> FAILED (the host refused to create it)
    SHOWN -> (cashier cancels, or no answer past the expiry) -> CLOSING -> CLOSED | PAID

An order whose creation got no answer is looked up before it is created again
(same ``out_trade_no``), so a lost reply never makes two orders. A payment that
reaches the host after the close is refunded by the host, so CLOSED never holds
money; a close that finds the order paid ends PAID.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar

from scanpay.protocol.signing import REFUSED_COPY_MAY_HAVE_PASSED
from scanpay.terminal.backoff import Backoff

__all__ = [
    "CloseOrder",
    "CreateOrder",
    "OrderCancel",
    "OrderCommand",
    "OrderEvent",
    "OrderNoAnswer",
    "OrderNotFound",
    "OrderRecord",
    "OrderRecovered",
    "OrderRefused",
    "OrderReplied",
    "OrderState",
    "OrderStep",
    "OrderTick",
    "PrintOrder",
    "QueryOrder",
    "WaitOrder",
    "advance_order",
    "open_order",
]

CREATE_GIVE_UP = 30.0
"""Seconds after which an order that could not be created is closed instead."""
EXPIRY_GRACE = 10.0
"""Seconds past the expiry after which a silent order is closed by the terminal."""
_BACKOFF = Backoff(1.0, 2.0, 8.0)


class OrderState(StrEnum):
    CREATING = "CREATING"
    SHOWN = "SHOWN"
    CLOSING = "CLOSING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"
    FAILED = "FAILED"


_FINAL = frozenset({OrderState.PAID, OrderState.EXPIRED, OrderState.CLOSED, OrderState.FAILED})


@dataclass(frozen=True, slots=True)
class OrderRecord:
    out_trade_no: str
    amount: int
    currency: str
    operator_id: str
    created_at: float
    expires_in: int = 300
    note: str | None = None
    state: OrderState = OrderState.CREATING
    payload: str | None = None
    order_id: str | None = None
    expires_at: float | None = None
    payer: str | None = None
    paid_at: str | None = None
    wallet: str | None = None
    """The wallet or network that paid (as the host names it)."""
    code: str | None = None
    wake_at: float | None = None
    attempts: int = 0
    finished_at: float | None = None
    version: int = 0

    @property
    def settled(self) -> bool:
        return self.state in _FINAL

    @property
    def payable(self) -> bool:
        """Its QR may still be paid: being created or shown (not yet being closed)."""
        return self.state in (OrderState.CREATING, OrderState.SHOWN)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderRecord:
        values = dict(data)
        values["state"] = OrderState(values["state"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class _OrderEvent:
    name: ClassVar[str] = "order_event"
    now: float


@dataclass(frozen=True, slots=True)
class OrderReplied(_OrderEvent):
    """A signed, verified order body from the host."""

    name: ClassVar[str] = "order_replied"
    status: str
    payload: str | None = None
    order_id: str | None = None
    expires_at: float | None = None
    payer: str | None = None
    paid_at: str | None = None
    wallet: str | None = None


@dataclass(frozen=True, slots=True)
class OrderRefused(_OrderEvent):
    name: ClassVar[str] = "order_refused"
    code: str
    field: str | None = None
    """The request field the host objected to (a header name for signature errors)."""


@dataclass(frozen=True, slots=True)
class OrderNoAnswer(_OrderEvent):
    name: ClassVar[str] = "order_no_answer"
    reason: str


@dataclass(frozen=True, slots=True)
class OrderNotFound(_OrderEvent):
    name: ClassVar[str] = "order_not_found"


@dataclass(frozen=True, slots=True)
class OrderCancel(_OrderEvent):
    name: ClassVar[str] = "order_cancel"


@dataclass(frozen=True, slots=True)
class OrderTick(_OrderEvent):
    name: ClassVar[str] = "order_tick"


@dataclass(frozen=True, slots=True)
class OrderRecovered(_OrderEvent):
    name: ClassVar[str] = "order_recovered"


OrderEvent = (
    OrderReplied
    | OrderRefused
    | OrderNoAnswer
    | OrderNotFound
    | OrderCancel
    | OrderTick
    | OrderRecovered
)


@dataclass(frozen=True, slots=True)
class CreateOrder:
    out_trade_no: str


@dataclass(frozen=True, slots=True)
class QueryOrder:
    out_trade_no: str


@dataclass(frozen=True, slots=True)
class WaitOrder:
    """Long-poll the order's state."""

    out_trade_no: str


@dataclass(frozen=True, slots=True)
class CloseOrder:
    out_trade_no: str


@dataclass(frozen=True, slots=True)
class PrintOrder:
    out_trade_no: str


OrderCommand = CreateOrder | QueryOrder | WaitOrder | CloseOrder | PrintOrder


@dataclass(frozen=True, slots=True)
class OrderStep:
    order: OrderRecord
    commands: tuple[OrderCommand, ...] = ()
    ignored: str | None = None


def open_order(
    out_trade_no: str,
    amount: int,
    currency: str,
    *,
    operator_id: str,
    now: float,
    expires_in: int = 300,
    note: str | None = None,
) -> OrderStep:
    """A new order and the command to create it on the host."""
    order = OrderRecord(
        out_trade_no, amount, currency, operator_id, now, expires_in, note, wake_at=None
    )
    return OrderStep(order, (CreateOrder(out_trade_no),))


def _set(order: OrderRecord, **changes: Any) -> OrderRecord:
    return replace(order, version=order.version + 1, **changes)


def _settle(order: OrderRecord, event: OrderReplied) -> OrderStep:
    state = OrderState(event.status) if event.status in OrderState.__members__ else None
    if state is None or state not in _FINAL:
        return OrderStep(order, (), f"status {event.status!r} ignored")
    new = _set(
        order,
        state=state,
        payer=event.payer or order.payer,
        paid_at=event.paid_at or order.paid_at,
        wallet=event.wallet or order.wallet,
        wake_at=None,
        finished_at=event.now,
    )
    return OrderStep(new, (PrintOrder(order.out_trade_no),) if state == OrderState.PAID else ())


def _retry(order: OrderRecord, now: float) -> OrderStep:
    wake = now + _BACKOFF.delay(order.attempts)
    return OrderStep(_set(order, wake_at=wake, attempts=order.attempts + 1))


def advance_order(order: OrderRecord, event: OrderEvent) -> OrderStep:
    """The next order and the commands to run, for one event."""
    state = order.state
    no = order.out_trade_no
    if order.settled:
        return OrderStep(order, (), f"{state.value}: {event.name} ignored")
    if isinstance(event, OrderRecovered):
        return OrderStep(_set(order, wake_at=event.now, attempts=0))
    if isinstance(event, OrderCancel):
        if state == OrderState.CLOSING:
            return OrderStep(order, (), "already closing")
        return OrderStep(_set(order, state=OrderState.CLOSING, wake_at=None), (CloseOrder(no),))
    if isinstance(event, OrderReplied):
        if event.status == "CREATED":
            if state == OrderState.CLOSING:
                return OrderStep(order, (), "closing: CREATED ignored")
            new = _set(
                order,
                state=OrderState.SHOWN,
                payload=event.payload or order.payload,
                order_id=event.order_id or order.order_id,
                expires_at=event.expires_at or order.expires_at,
                wake_at=None,
                attempts=0,
            )
            return OrderStep(new, (WaitOrder(no),))
        return _settle(order, event)
    if isinstance(event, OrderRefused) and event.field in REFUSED_COPY_MAY_HAVE_PASSED:
        # A duplicated create may have made the order: look it up, never call it failed.
        return _retry(order, event.now)
    if isinstance(event, OrderRefused):
        if state == OrderState.CREATING:
            new = _set(order, state=OrderState.FAILED, code=event.code, finished_at=event.now)
            return OrderStep(new)
        return _retry(order, event.now)
    if isinstance(event, OrderNotFound):
        if state in (OrderState.CREATING, OrderState.SHOWN):
            return OrderStep(_set(order, state=OrderState.CREATING), (CreateOrder(no),))
        # Closing something the host never had: nothing can be paid, it is closed.
        return OrderStep(_set(order, state=OrderState.CLOSED, finished_at=event.now))
    if isinstance(event, OrderNoAnswer):
        return _retry(order, event.now)
    # OrderTick
    now = event.now
    if state == OrderState.CREATING and now >= order.created_at + CREATE_GIVE_UP:
        return OrderStep(_set(order, state=OrderState.CLOSING, wake_at=None), (CloseOrder(no),))
    if (
        state == OrderState.SHOWN
        and order.expires_at is not None
        and now >= order.expires_at + EXPIRY_GRACE
    ):
        return OrderStep(_set(order, state=OrderState.CLOSING, wake_at=None), (CloseOrder(no),))
    if order.wake_at is None or now < order.wake_at:
        return OrderStep(order, (), "nothing due")
    cmd: OrderCommand
    if state == OrderState.CREATING:
        cmd = QueryOrder(no)
    elif state == OrderState.SHOWN:
        cmd = WaitOrder(no)
    else:
        cmd = CloseOrder(no)
    return OrderStep(_set(order, wake_at=None), (cmd,))
