"""What the adapter remembers of the orders it sent: ACP finds an order by ``orderId``
and ``txnTime``, and cancels or refunds a consume by its ``queryId``; the port gives
only a number. Bounded (the oldest forgotten first) and thread-safe.

The port's ``placed_at`` (the host gives it with every call about a trade or refund)
dates an order in any process, after any restart; without it, a number that *begins*
with a Beijing time ``yyyyMMddHHmmss`` carries its own ``txnTime``
(:func:`embedded_txn_time`), and last what this process remembers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from scanpay.networks.errors import NetworkError
from scanpay.networks.unionpay.config import BEIJING, UNIONPAY_ERRORS

__all__ = ["Book", "Order", "embedded_txn_time", "now_txn_time", "txn_time_of"]

_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class Order:
    """An order as sent: when, for how much, and UnionPay's id once a reply named it."""

    txn_time: str
    amount: int | None = None
    query_id: str | None = None


def embedded_txn_time(number: str) -> str | None:
    """The ``txnTime`` a trade or refund number begins with (``yyyyMMddHHmmss``), if any."""
    head = number[:14]
    if len(head) < 14 or not head.isdigit():
        return None
    try:
        datetime.strptime(head, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return head


def now_txn_time() -> str:
    """Now as ``txnTime`` (Beijing)."""
    return txn_time_of(datetime.now(BEIJING))


def txn_time_of(when: datetime) -> str:
    """``when`` (timezone-aware) as ``txnTime``: Beijing, to the second."""
    return when.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


class Book:
    """Orders by (merId, orderId); ``field`` names the number in errors (``trade_no``)."""

    def __init__(self, field: str, limit: int = _REMEMBERED) -> None:
        self.field = field
        self._limit = limit
        self._lock = threading.Lock()
        self._orders: OrderedDict[tuple[str, str], Order] = OrderedDict()

    def get(self, mer_id: str, order_id: str) -> Order | None:
        with self._lock:
            return self._orders.get((mer_id, order_id))

    def put(self, mer_id: str, order_id: str, order: Order) -> None:
        with self._lock:
            self._orders[(mer_id, order_id)] = order
            self._orders.move_to_end((mer_id, order_id))
            while len(self._orders) > self._limit:
                self._orders.popitem(last=False)

    def sending(
        self, mer_id: str, order_id: str, amount: int, placed: datetime | None = None
    ) -> str:
        """The ``txnTime`` to send the order with (``placed``'s; else a retry's is the
        first one's), the order remembered."""
        known = self.get(mer_id, order_id)
        if placed is not None:
            when = txn_time_of(placed)
        else:
            when = known.txn_time if known else embedded_txn_time(order_id) or now_txn_time()
        self.put(mer_id, order_id, Order(when, amount, known.query_id if known else None))
        return when

    def learn(
        self, mer_id: str, order_id: str, txn_time: str, query_id: str | None, amount: int | None
    ) -> None:
        """What a reply said of the order (its queryId, its amount)."""
        with self._lock:
            found = self._orders.get((mer_id, order_id)) or Order(txn_time)
        self.put(
            mer_id,
            order_id,
            replace(found, query_id=query_id or found.query_id, amount=found.amount or amount),
        )

    def txn_time(self, mer_id: str, order_id: str, placed: datetime | None = None) -> str:
        """The order's ``txnTime``: ``placed``'s, remembered or embedded; ``bad_trade_no``
        (or ``bad_refund_no``) when none."""
        known = self.get(mer_id, order_id)
        if placed is not None:
            return txn_time_of(placed)
        when = known.txn_time if known is not None else embedded_txn_time(order_id)
        if when is None:
            code = "bad_trade_no" if self.field == "trade_no" else "bad_refund_no"
            raise NetworkError(code, UNIONPAY_ERRORS["txn_time_unknown"], field=self.field)
        return when

    def query_ids(self, mer_id: str) -> dict[str, str]:
        """queryId -> orderId of the merchant's orders UnionPay named."""
        with self._lock:
            return {
                o.query_id: k[1] for k, o in self._orders.items() if k[0] == mer_id and o.query_id
            }
