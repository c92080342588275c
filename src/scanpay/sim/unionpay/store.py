"""The UnionPay simulator's state: one SQLite file in its data folder.

Merchants (with the signing certificate their requests are checked with), wallets,
one-time payment codes (kept as hashes), orders (consumes, cancels, refunds),
``backUrl`` notifications waiting to be delivered, and published settlement files.
The connection, transactions, wallets and codes are
:class:`~scanpay.sim.common.store.SimStore`'s.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from scanpay.sim.common.store import SimStore
from scanpay.sim.unionpay.rows import SCHEMA, Code, Merchant, Notice, Order, Wallet

__all__ = ["Code", "Merchant", "Notice", "Order", "Store", "Wallet"]


class Store(SimStore[Wallet, Code]):
    """Row access; the rules live in :mod:`scanpay.sim.unionpay.orders` and its neighbours."""

    BOOLS = frozenset({"fired", "cancelled"})

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, SCHEMA, Wallet, Code)

    # merchants

    def add_merchant(self, merchant: Merchant) -> None:
        self._insert_row("merchants", merchant)

    def merchant(self, mer_id: str) -> Merchant | None:
        return self._one(Merchant, "SELECT * FROM merchants WHERE mer_id = ?", mer_id)

    def merchants(self) -> list[Merchant]:
        return self._all(Merchant, "SELECT * FROM merchants ORDER BY created_at, mer_id")

    def credit_merchant(self, mer_id: str, amount: int) -> None:
        self._execute("UPDATE merchants SET balance = balance + ? WHERE mer_id = ?", amount, mer_id)

    # orders

    def add_order(self, order: Order) -> None:
        self._insert_row("orders", order)

    def save_order(self, order: Order) -> None:
        values = {f.name: getattr(order, f.name) for f in fields(Order)}
        self._update("orders", "query_id", values.pop("query_id"), values)

    def order(self, mer_id: str, order_id: str) -> Order | None:
        return self._one(
            Order, "SELECT * FROM orders WHERE mer_id = ? AND order_id = ?", mer_id, order_id
        )

    def order_by_query_id(self, query_id: str) -> Order | None:
        return self._one(Order, "SELECT * FROM orders WHERE query_id = ?", query_id)

    def orders(self, mer_id: str | None = None) -> list[Order]:
        if mer_id is None:
            return self._all(Order, "SELECT * FROM orders ORDER BY created_at")
        return self._all(Order, "SELECT * FROM orders WHERE mer_id = ? ORDER BY created_at", mer_id)

    def pending_orders(self) -> list[Order]:
        return self._all(Order, "SELECT * FROM orders WHERE state = '05'")

    def done_between(self, mer_id: str, start: datetime, end: datetime) -> list[Order]:
        """The merchant's orders that moved money between ``start`` and ``end``."""
        return self._all(
            Order,
            "SELECT * FROM orders WHERE mer_id = ? AND moved > 0 AND done_at >= ?"
            " AND done_at < ? ORDER BY done_at, query_id",
            mer_id,
            start,
            end,
        )

    # notices

    def add_notice(self, **values: Any) -> None:
        self._insert("notices", values)

    def notices(self, mer_id: str | None = None) -> list[Notice]:
        if mer_id is None:
            return self._all(Notice, "SELECT * FROM notices ORDER BY id")
        return self._all(Notice, "SELECT * FROM notices WHERE mer_id = ? ORDER BY id", mer_id)

    def due_notices(self, now: datetime) -> list[Notice]:
        return self._all(
            Notice, "SELECT * FROM notices WHERE next_at IS NOT NULL AND next_at <= ?", now
        )

    def update_notice(self, notice_id: int, **changes: Any) -> None:
        self._update("notices", "id", notice_id, changes)

    # settlement files

    def add_bill(self, mer_id: str, day: str, content: str, now: datetime) -> None:
        self._execute(
            "INSERT OR REPLACE INTO bills (mer_id, day, content, published_at) VALUES (?, ?, ?, ?)",
            mer_id,
            day,
            content,
            now,
        )

    def bill(self, mer_id: str, day: str) -> str | None:
        row = self._row("SELECT content FROM bills WHERE mer_id = ? AND day = ?", mer_id, day)
        return None if row is None else str(row[0])

    # books

    def totals(self) -> tuple[int, int, int]:
        """(funded, held by wallets, held by merchants): balanced when the first is the sum."""
        return self._books("merchants")
