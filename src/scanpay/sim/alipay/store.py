"""The Alipay simulator's state: one SQLite file in its data folder.

Apps (merchants) with the public key the network knows of each, wallets, one-time
payment codes (kept as hashes), trades keyed by (app, out_trade_no), refunds keyed by
(trade, out_request_no), notifications waiting to be delivered, published bills.
Money is integer fen. As in the WeChat simulator, one connection behind a lock, and
every change one short ``BEGIN IMMEDIATE`` transaction.
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

from scanpay.sim.alipay.rows import SCHEMA, App, Code, Notice, Refund, Trade, Wallet
from scanpay.sim.wechat.clock import from_db, to_db

__all__ = ["App", "Code", "Notice", "Refund", "Store", "Trade", "Wallet"]

R = TypeVar("R")
_BOOLS = {"wrong_key", "fired"}
_TIMES = {"paid_at", "closed_at", "due_at", "deadline_at", "next_at", "delivered_at"}


def _load(cls: type[R], row: sqlite3.Row) -> R:
    values: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        value = row[field.name]
        if field.name in _BOOLS:
            value = bool(value)
        elif isinstance(value, str) and (field.name.endswith("_at") or field.name in _TIMES):
            value = from_db(value)
        values[field.name] = value
    return cls(**values)


def _dump(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return to_db(value) if isinstance(value, datetime) else value


class Store:
    """Row access; the rules live in :mod:`scanpay.sim.alipay.trades` and its neighbours."""

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
            row = self._db.execute(sql, [_dump(a) for a in args]).fetchone()
        return None if row is None else _load(cls, row)

    def _all(self, cls: type[R], sql: str, *args: Any) -> list[R]:
        with self._lock:
            rows = self._db.execute(sql, [_dump(a) for a in args]).fetchall()
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
        if not changes:
            return
        sets = ", ".join(f"{name} = ?" for name in changes)
        with self._lock:
            self._db.execute(
                f"UPDATE {table} SET {sets} WHERE {key} = ?",
                [*(_dump(v) for v in changes.values()), key_value],
            )

    def _execute(self, sql: str, *args: Any) -> None:
        with self._lock:
            self._db.execute(sql, [_dump(a) for a in args])

    # apps

    def add_app(self, app: App) -> None:
        self._insert("apps", {f.name: getattr(app, f.name) for f in fields(App)})

    def app(self, app_id: str) -> App | None:
        return self._one(App, "SELECT * FROM apps WHERE app_id = ?", app_id)

    def apps(self) -> list[App]:
        return self._all(App, "SELECT * FROM apps ORDER BY created_at, app_id")

    def update_app(self, app_id: str, **changes: Any) -> None:
        self._update("apps", "app_id", app_id, changes)

    def credit_app(self, app_id: str, amount: int) -> None:
        self._execute("UPDATE apps SET balance = balance + ? WHERE app_id = ?", amount, app_id)

    # wallets

    def add_wallet(self, **values: Any) -> Wallet:
        wallet = self.wallet(self._insert("wallets", values))
        assert wallet is not None
        return wallet

    def wallet(self, wallet_id: int) -> Wallet | None:
        return self._one(Wallet, "SELECT * FROM wallets WHERE id = ?", wallet_id)

    def wallets(self) -> list[Wallet]:
        return self._all(Wallet, "SELECT * FROM wallets ORDER BY id")

    def move_wallet(self, wallet_id: int, amount: int, *, funding: bool = False) -> None:
        """Add ``amount`` (negative: take) to a wallet; ``funding``: new money from outside."""
        self._execute(
            "UPDATE wallets SET balance = balance + ?, funded = funded + ? WHERE id = ?",
            amount,
            amount if funding else 0,
            wallet_id,
        )

    # codes

    def add_code(self, **values: Any) -> None:
        self._insert("codes", values)

    def code(self, code_hash: str) -> Code | None:
        return self._one(Code, "SELECT * FROM codes WHERE hash = ?", code_hash)

    def update_code(self, code_hash: str, **changes: Any) -> None:
        self._update("codes", "hash", code_hash, changes)

    # trades

    def add_trade(self, trade: Trade) -> None:
        self._insert("trades", {f.name: getattr(trade, f.name) for f in fields(Trade)})

    def save_trade(self, trade: Trade) -> None:
        values = {f.name: getattr(trade, f.name) for f in fields(Trade)}
        self._update("trades", "trade_no", values.pop("trade_no"), values)

    def trade(self, app_id: str, out_trade_no: str) -> Trade | None:
        return self._one(
            Trade,
            "SELECT * FROM trades WHERE app_id = ? AND out_trade_no = ?",
            app_id,
            out_trade_no,
        )

    def trade_by_no(self, trade_no: str) -> Trade | None:
        return self._one(Trade, "SELECT * FROM trades WHERE trade_no = ?", trade_no)

    def trades(self, app_id: str | None = None) -> list[Trade]:
        if app_id is None:
            return self._all(Trade, "SELECT * FROM trades ORDER BY created_at")
        return self._all(Trade, "SELECT * FROM trades WHERE app_id = ? ORDER BY created_at", app_id)

    def waiting_trades(self) -> list[Trade]:
        return self._all(Trade, "SELECT * FROM trades WHERE status = 'WAIT_BUYER_PAY'")

    def paid_between(self, app_id: str, start: datetime, end: datetime) -> list[Trade]:
        return self._all(
            Trade,
            "SELECT * FROM trades WHERE app_id = ? AND paid_at >= ? AND paid_at < ?"
            " ORDER BY paid_at",
            app_id,
            start,
            end,
        )

    # refunds

    def add_refund(self, **values: Any) -> Refund:
        refund_id = self._insert("refunds", values)
        found = self._one(Refund, "SELECT * FROM refunds WHERE id = ?", refund_id)
        assert found is not None
        return found

    def refund(self, trade_no: str, out_request_no: str) -> Refund | None:
        return self._one(
            Refund,
            "SELECT * FROM refunds WHERE trade_no = ? AND out_request_no = ?",
            trade_no,
            out_request_no,
        )

    def refunds_of(self, trade_no: str) -> list[Refund]:
        return self._all(Refund, "SELECT * FROM refunds WHERE trade_no = ? ORDER BY id", trade_no)

    def refunds_between(self, app_id: str, start: datetime, end: datetime) -> list[Refund]:
        return self._all(
            Refund,
            "SELECT * FROM refunds WHERE app_id = ? AND created_at >= ? AND created_at < ?"
            " ORDER BY created_at, id",
            app_id,
            start,
            end,
        )

    # notices

    def add_notice(self, **values: Any) -> None:
        self._insert("notices", values)

    def notices(self, app_id: str | None = None) -> list[Notice]:
        if app_id is None:
            return self._all(Notice, "SELECT * FROM notices ORDER BY id")
        return self._all(Notice, "SELECT * FROM notices WHERE app_id = ? ORDER BY id", app_id)

    def due_notices(self, now: datetime) -> list[Notice]:
        return self._all(
            Notice, "SELECT * FROM notices WHERE next_at IS NOT NULL AND next_at <= ?", now
        )

    def update_notice(self, notice_id: int, **changes: Any) -> None:
        self._update("notices", "id", notice_id, changes)

    # bills

    def add_bill(self, app_id: str, day: str, zip_data: bytes, now: datetime) -> None:
        self._execute(
            "INSERT OR REPLACE INTO bills (app_id, day, zip, published_at) VALUES (?, ?, ?, ?)",
            app_id,
            day,
            zip_data,
            now,
        )

    def bill(self, app_id: str, day: str) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT zip FROM bills WHERE app_id = ? AND day = ?", (app_id, day)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def add_token(self, token: str, app_id: str, day: str, expires_at: datetime) -> None:
        self._insert(
            "bill_tokens", {"token": token, "app_id": app_id, "day": day, "expires_at": expires_at}
        )

    def token(self, token: str) -> tuple[str, str, datetime] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT app_id, day, expires_at FROM bill_tokens WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else (row[0], row[1], from_db(row[2]))

    # books

    def totals(self) -> tuple[int, int, int]:
        """(funded, held by wallets, held by apps): balanced when the first is the sum."""
        with self._lock:
            funded, wallets = self._db.execute(
                "SELECT COALESCE(SUM(funded), 0), COALESCE(SUM(balance), 0) FROM wallets"
            ).fetchone()
            (apps,) = self._db.execute("SELECT COALESCE(SUM(balance), 0) FROM apps").fetchone()
        return int(funded), int(wallets), int(apps)
