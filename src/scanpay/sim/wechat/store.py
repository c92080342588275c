"""The simulator's own state: one SQLite file in its data folder.

Merchants (direct, service providers and their sub-merchants, with the keys the
network knows of them), wallets with balances, one-time payment codes (kept as
hashes), orders keyed by (merchant, out_trade_no), refunds, and bill download tokens.
Money is integer fen. A wallet's ``funded`` is all money ever put into it, so the
network's books balance when wallets plus merchants hold exactly what was funded.

The connection, transactions, wallets and codes are :class:`~scanpay.sim.common.store.SimStore`'s.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from scanpay.sim.common.clock import to_db
from scanpay.sim.common.store import SimStore
from scanpay.sim.wechat.rows import (
    ADDED_COLUMNS,
    SCHEMA,
    Callback,
    Code,
    Merchant,
    Order,
    Refund,
    Totals,
    Wallet,
)

__all__ = ["Callback", "Code", "Merchant", "Order", "Refund", "Store", "Totals", "Wallet"]


class Store(SimStore[Wallet, Code]):
    """Row access; the rules live in :mod:`scanpay.sim.wechat.payments`."""

    BOOLS = frozenset({"wrong_key", "outcome_fired"})
    TIMES = frozenset({"success_time"})

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, SCHEMA, Wallet, Code)
        # A data folder made before a column existed gets it (CREATE TABLE IF NOT EXISTS
        # leaves an old table as it was).
        with self._lock:
            for table, column, kind in ADDED_COLUMNS:
                have = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    # merchants

    def add_merchant(self, merchant: Merchant) -> None:
        self._insert_row("merchants", merchant)

    def merchant(self, mchid: str) -> Merchant | None:
        return self._one(Merchant, "SELECT * FROM merchants WHERE mchid = ?", mchid)

    def merchants(self) -> list[Merchant]:
        return self._all(Merchant, "SELECT * FROM merchants ORDER BY created_at, mchid")

    def update_merchant(self, mchid: str, **changes: Any) -> None:
        self._update("merchants", "mchid", mchid, changes)

    def credit_merchant(self, mchid: str, amount: int) -> None:
        self._execute("UPDATE merchants SET balance = balance + ? WHERE mchid = ?", amount, mchid)

    # orders

    def add_order(self, order: Order) -> None:
        self._insert_row("orders", order)

    def order(self, mchid: str, out_trade_no: str) -> Order | None:
        return self._one(
            Order, "SELECT * FROM orders WHERE mchid = ? AND out_trade_no = ?", mchid, out_trade_no
        )

    def order_by_id(self, transaction_id: str) -> Order | None:
        return self._one(Order, "SELECT * FROM orders WHERE transaction_id = ?", transaction_id)

    def update_order(self, transaction_id: str, **changes: Any) -> None:
        self._update("orders", "transaction_id", transaction_id, changes)

    def orders(self, mchid: str | None = None) -> list[Order]:
        if mchid is None:
            return self._all(Order, "SELECT * FROM orders ORDER BY created_at")
        return self._all(
            Order,
            "SELECT * FROM orders WHERE mchid = ? OR sp_mchid = ? ORDER BY created_at",
            mchid,
            mchid,
        )

    def due_orders(self, now: datetime) -> list[Order]:
        return self._all(
            Order,
            "SELECT * FROM orders"
            " WHERE state = 'USERPAYING' AND due_at IS NOT NULL AND due_at <= ?",
            to_db(now),
        )

    def paid_between(self, start: datetime, end: datetime) -> list[Order]:
        return self._all(
            Order,
            "SELECT * FROM orders"
            " WHERE success_time >= ? AND success_time < ? ORDER BY success_time",
            to_db(start),
            to_db(end),
        )

    # refunds

    def add_refund(self, refund: Refund) -> None:
        self._insert_row("refunds", refund)

    def refund(self, mchid: str, out_refund_no: str) -> Refund | None:
        return self._one(
            Refund,
            "SELECT * FROM refunds WHERE mchid = ? AND out_refund_no = ?",
            mchid,
            out_refund_no,
        )

    def refunds_of(self, transaction_id: str) -> list[Refund]:
        return self._all(
            Refund,
            "SELECT * FROM refunds WHERE transaction_id = ? ORDER BY created_at",
            transaction_id,
        )

    def update_refund(self, refund_id: str, **changes: Any) -> None:
        self._update("refunds", "refund_id", refund_id, changes)

    def refunds_between(self, start: datetime, end: datetime) -> list[Refund]:
        # A refund belongs to the day it was made: the money left the merchant then.
        return self._all(
            Refund,
            "SELECT * FROM refunds WHERE created_at >= ? AND created_at < ? ORDER BY created_at",
            to_db(start),
            to_db(end),
        )

    def finishing_refunds(self, now: datetime) -> list[Refund]:
        """PROCESSING refunds due to finish by themselves at ``now``."""
        return self._all(
            Refund,
            "SELECT * FROM refunds WHERE status = 'PROCESSING'"
            " AND finish_at IS NOT NULL AND finish_at <= ?",
            to_db(now),
        )

    # callbacks

    def add_callback(self, **values: Any) -> int:
        return self._insert("callbacks", values)

    def callbacks(self, mchid: str | None = None) -> list[Callback]:
        if mchid is None:
            return self._all(Callback, "SELECT * FROM callbacks ORDER BY id")
        return self._all(
            Callback,
            "SELECT * FROM callbacks WHERE mchid = ? OR sp_mchid = ? ORDER BY id",
            mchid,
            mchid,
        )

    def due_callbacks(self, now: datetime) -> list[Callback]:
        return self._all(
            Callback,
            "SELECT * FROM callbacks WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY id",
            to_db(now),
        )

    def update_callback(self, callback_id: int, **changes: Any) -> None:
        self._update("callbacks", "id", callback_id, changes)

    # bill tokens

    def add_token(self, **values: Any) -> None:
        self._insert("bill_tokens", values)

    def token(self, token: str) -> dict[str, Any] | None:
        row = self._row("SELECT * FROM bill_tokens WHERE token = ?", token)
        return None if row is None else dict(row)

    # books

    def totals(self) -> Totals:
        funded, wallets, merchants = self._books("merchants")
        return Totals(funded=funded, wallets=wallets, merchants=merchants)
