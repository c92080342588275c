"""The SQLite base of a simulator's state: one file, one connection, short transactions.

One connection guarded by a lock: a simulator is one process, and every change is one
short ``BEGIN IMMEDIATE`` transaction. Rows are read into frozen dataclasses (times
back to UTC datetimes, flags to bools); datetimes and bools are written as text and
integers. Every network has wallets (``funded`` is all money ever put in, so the books
balance when wallets plus merchants hold exactly what was funded) and one-time payment
codes kept as hashes: their tables' rows are the network's own ``wallet_type`` and
``code_type``, their access is here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from scanpay.sim.common.clock import from_db, to_db

__all__ = ["SimStore"]

R = TypeVar("R")
W = TypeVar("W")
C = TypeVar("C")


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db(value)
    if isinstance(value, bool):
        return int(value)
    return value


class SimStore(Generic[W, C]):
    """Row access shared by every simulator; a network's store adds its own tables.

    ``BOOLS`` names the columns read back as bools; a column is read as a time when its
    name ends in ``_at`` or is in ``TIMES``."""

    BOOLS: ClassVar[frozenset[str]] = frozenset()
    TIMES: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, path: Path | str, schema: str, wallet_type: type[W], code_type: type[C]
    ) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._wallet_type = wallet_type
        self._code_type = code_type
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(schema)

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

    def _load(self, cls: type[R], row: sqlite3.Row) -> R:
        values: dict[str, Any] = {}
        for field in fields(cls):  # type: ignore[arg-type]
            value = row[field.name]
            if field.name in self.BOOLS:
                value = bool(value)
            elif isinstance(value, str) and (
                field.name.endswith("_at") or field.name in self.TIMES
            ):
                value = from_db(value)
            values[field.name] = value
        return cls(**values)

    def _one(self, cls: type[R], sql: str, *args: Any) -> R | None:
        with self._lock:
            row = self._db.execute(sql, [_dump(a) for a in args]).fetchone()
        return None if row is None else self._load(cls, row)

    def _all(self, cls: type[R], sql: str, *args: Any) -> list[R]:
        with self._lock:
            rows = self._db.execute(sql, [_dump(a) for a in args]).fetchall()
        return [self._load(cls, row) for row in rows]

    def _row(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, [_dump(a) for a in args]).fetchone()
        return row

    def _execute(self, sql: str, *args: Any) -> None:
        with self._lock:
            self._db.execute(sql, [_dump(a) for a in args])

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._lock:
            cursor = self._db.execute(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [_dump(v) for v in values.values()],
            )
        return int(cursor.lastrowid or 0)

    def _insert_row(self, table: str, row: object) -> None:
        self._insert(table, {f.name: getattr(row, f.name) for f in fields(row)})  # type: ignore[arg-type]

    def _update(self, table: str, key: str, key_value: Any, changes: dict[str, Any]) -> None:
        if not changes:
            return
        sets = ", ".join(f"{name} = ?" for name in changes)
        self._execute(f"UPDATE {table} SET {sets} WHERE {key} = ?", *changes.values(), key_value)

    # wallets

    def add_wallet(self, **values: Any) -> W:
        wallet = self.wallet(self._insert("wallets", values))
        assert wallet is not None
        return wallet

    def wallet(self, wallet_id: int) -> W | None:
        return self._one(self._wallet_type, "SELECT * FROM wallets WHERE id = ?", wallet_id)

    def wallets(self) -> list[W]:
        return self._all(self._wallet_type, "SELECT * FROM wallets ORDER BY id")

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

    def code(self, code_hash: str) -> C | None:
        return self._one(self._code_type, "SELECT * FROM codes WHERE hash = ?", code_hash)

    def update_code(self, code_hash: str, **changes: Any) -> None:
        self._update("codes", "hash", code_hash, changes)

    # books

    def _books(self, holders: str) -> tuple[int, int, int]:
        """(funded, held by wallets, held by the ``holders`` table's merchants)."""
        with self._lock:
            funded, wallets = self._db.execute(
                "SELECT COALESCE(SUM(funded), 0), COALESCE(SUM(balance), 0) FROM wallets"
            ).fetchone()
            (held,) = self._db.execute(
                f"SELECT COALESCE(SUM(balance), 0) FROM {holders}"
            ).fetchone()
        return int(funded), int(wallets), int(held)
