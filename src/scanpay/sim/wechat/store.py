"""The simulator's own state: one SQLite file in its data folder.

Merchants (direct, service providers and their sub-merchants, with the keys the
network knows of them), wallets with balances, one-time payment codes (kept as
hashes), orders keyed by (merchant, out_trade_no), refunds, and bill download tokens.
Money is integer fen. A wallet's ``funded`` is all money ever put into it, so the
network's books balance when wallets plus merchants hold exactly what was funded.

One connection guarded by a lock: the simulator is one process, and every change
is one short ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from scanpay.sim.wechat.clock import from_db, to_db
from scanpay.sim.wechat.rows import SCHEMA, Code, Merchant, Order, Refund, Totals, Wallet

__all__ = ["Code", "Merchant", "Order", "Refund", "Store", "Totals", "Wallet"]

R = TypeVar("R")
_BOOLS = {"wrong_key", "outcome_fired"}


def _load(cls: type[R], row: sqlite3.Row) -> R:
    values: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        value = row[field.name]
        if field.name in _BOOLS:
            value = bool(value)
        elif isinstance(value, str) and (
            field.name.endswith("_at") or field.name == "success_time"
        ):
            value = from_db(value)
        values[field.name] = value
    return cls(**values)


def _dump(value: Any) -> Any:
    return to_db(value) if isinstance(value, datetime) else value


class Store:
    """Row access; the rules live in :mod:`scanpay.sim.wechat.payments`."""

    def __init__(self, path: Path | str) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing (nested uses join the outer transaction)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _one(self, cls: type[R], sql: str, *args: Any) -> R | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return None if row is None else _load(cls, row)

    def _all(self, cls: type[R], sql: str, *args: Any) -> list[R]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_load(cls, row) for row in rows]

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._lock:
            cursor = self._db.execute(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [_dump(v) for v in values.values()],
            )
        return int(cursor.lastrowid or 0)

    def _update(self, table: str, key: str, key_value: Any, changes: dict[str, Any]) -> None:
        sets = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            self._db.execute(
                f"UPDATE {table} SET {sets} WHERE {key} = ?",
                [*(_dump(v) for v in changes.values()), key_value],
            )

    # merchants

    def add_merchant(self, merchant: Merchant) -> None:
        values = {f.name: getattr(merchant, f.name) for f in fields(Merchant)}
        values["wrong_key"] = int(merchant.wrong_key)
        self._insert("merchants", values)

    def merchant(self, mchid: str) -> Merchant | None:
        return self._one(Merchant, "SELECT * FROM merchants WHERE mchid = ?", mchid)

    def merchants(self) -> list[Merchant]:
        return self._all(Merchant, "SELECT * FROM merchants ORDER BY created_at, mchid")

    def update_merchant(self, mchid: str, **changes: Any) -> None:
        self._update("merchants", "mchid", mchid, changes)

    def credit_merchant(self, mchid: str, amount: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE merchants SET balance = balance + ? WHERE mchid = ?", (amount, mchid)
            )

    # wallets

    def add_wallet(self, **values: Any) -> Wallet:
        wallet_id = self._insert("wallets", values)
        wallet = self.wallet(wallet_id)
        assert wallet is not None
        return wallet

    def wallet(self, wallet_id: int) -> Wallet | None:
        return self._one(Wallet, "SELECT * FROM wallets WHERE id = ?", wallet_id)

    def wallets(self) -> list[Wallet]:
        return self._all(Wallet, "SELECT * FROM wallets ORDER BY id")

    def move_wallet(self, wallet_id: int, amount: int, *, funding: bool = False) -> None:
        """Add ``amount`` (negative: take) to a wallet; ``funding``: new money from outside."""
        with self._lock:
            self._db.execute(
                "UPDATE wallets SET balance = balance + ?, funded = funded + ? WHERE id = ?",
                (amount, amount if funding else 0, wallet_id),
            )

    # codes

    def add_code(self, **values: Any) -> None:
        self._insert("codes", values)

    def code(self, code_hash: str) -> Code | None:
        return self._one(Code, "SELECT * FROM codes WHERE hash = ?", code_hash)

    def update_code(self, code_hash: str, **changes: Any) -> None:
        self._update("codes", "hash", code_hash, changes)

    # orders

    def add_order(self, order: Order) -> None:
        self._insert("orders", {f.name: getattr(order, f.name) for f in fields(Order)})

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
        self._insert("refunds", {f.name: getattr(refund, f.name) for f in fields(Refund)})

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

    # bill tokens

    def add_token(self, **values: Any) -> None:
        self._insert("bill_tokens", values)

    def token(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM bill_tokens WHERE token = ?", (token,)).fetchone()
        return None if row is None else dict(row)

    # books

    def totals(self) -> Totals:
        with self._lock:
            funded, wallets = self._db.execute(
                "SELECT COALESCE(SUM(funded), 0), COALESCE(SUM(balance), 0) FROM wallets"
            ).fetchone()
            (merchants,) = self._db.execute(
                "SELECT COALESCE(SUM(balance), 0) FROM merchants"
            ).fetchone()
        return Totals(funded=int(funded), wallets=int(wallets), merchants=int(merchants))
