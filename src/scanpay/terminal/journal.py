"""The terminal's durable journal: one SQLite file, written before every action.

``PRAGMA journal_mode=WAL`` and ``PRAGMA synchronous=FULL``: in WAL mode FULL
syncs the log on every commit, so a transaction that returned survives a crash
or power cut (NORMAL would only guarantee consistency, and could lose the last
commits - the very rows that say a payment was sent).

Tables:

- ``sales``, ``refunds``, ``orders``: the current snapshot of each, as the pure
  machines' ``to_dict`` JSON (restored exactly by ``from_dict``);
- ``outside_refunds``: refunds of this terminal's payments made elsewhere (the
  merchant's portal, the acquirer), as the host reported them - for the sale's
  refundable amount and the day's totals; never sent, never changed;
- ``events``: append-only, one row per event - what happened, the state before
  and after, the operator responsible, whether it is training, a masked
  detail - hash-chained (each row's ``hash`` covers the previous row's), with
  triggers that refuse updates and deletes;
- ``reversals``: the store-and-forward queue (see :mod:`scanpay.terminal.reversals`);
- ``operators``: cashiers and supervisors with argon2 PIN hashes;
- ``day_closes``: every day close and the host's answer;
- ``meta``: counters and settings (training mode).

A snapshot change and its event row are written in one transaction: the
journal never says a sale is SUBMITTED without saying why.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.terminal.errors import TerminalError
from scanpay.terminal.order import OrderRecord
from scanpay.terminal.refund import OutsideRefund, RefundRecord, RefundState
from scanpay.terminal.sale import IN_DOUBT_STATES, Sale, SaleState

__all__ = ["JOURNAL_FILE", "Journal", "JournalEvent", "ReversalEntry"]

JOURNAL_FILE = "journal.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sales (
    out_trade_no TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    training INTEGER NOT NULL,
    operator_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sales_state ON sales (state);
CREATE INDEX IF NOT EXISTS sales_created ON sales (created_at);
CREATE TABLE IF NOT EXISTS refunds (
    out_refund_no TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL REFERENCES sales (out_trade_no),
    state TEXT NOT NULL,
    amount INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_sale ON refunds (out_trade_no);
CREATE TABLE IF NOT EXISTS orders (
    out_trade_no TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    amount INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outside_refunds (
    out_refund_no TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL,
    amount INTEGER NOT NULL,
    refunded_at REAL NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outside_refunds_sale ON outside_refunds (out_trade_no);
CREATE TABLE IF NOT EXISTS reversals (
    out_trade_no TEXT PRIMARY KEY REFERENCES sales (out_trade_no),
    reason TEXT NOT NULL,
    queued_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    acked_at REAL,
    host_status TEXT
);
CREATE TABLE IF NOT EXISTS operators (
    operator_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('cashier', 'supervisor')),
    pin_hash TEXT NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS day_closes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    closed_at REAL NOT NULL,
    operator_id TEXT NOT NULL,
    totals TEXT NOT NULL,
    host TEXT,
    matched INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    operator_id TEXT NOT NULL,
    training INTEGER NOT NULL DEFAULT 0,
    detail TEXT,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ref ON events (ref);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""

_GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One row of the append-only event log."""

    seq: int
    at: float
    kind: str
    ref: str | None
    event: str
    from_state: str | None
    to_state: str | None
    operator_id: str
    training: bool
    detail: dict[str, Any] | None
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "ref": self.ref,
            "event": self.event,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "operator_id": self.operator_id,
            "training": self.training,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class ReversalEntry:
    """One reversal in the store-and-forward queue."""

    out_trade_no: str
    reason: str
    queued_at: float
    attempts: int
    next_attempt_at: float
    last_error: str | None
    acked_at: float | None
    host_status: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_trade_no": self.out_trade_no,
            "reason": self.reason,
            "queued_at": self.queued_at,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "acked_at": self.acked_at,
            "host_status": self.host_status,
        }


def _row_hash(prev: str, values: tuple[Any, ...]) -> str:
    # Canonical JSON of the row's values, chained to the previous row's hash.
    payload = json.dumps(values, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256((prev + payload).encode()).hexdigest()


class Journal:
    """The SQLite journal. Thread-safe: one connection behind a lock.

    Every write is one transaction; :meth:`transaction` groups several.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self._db.row_factory = sqlite3.Row
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise TerminalError("journal_error", reason=str(exc)) from exc
        if str(mode).lower() != "wal":
            raise TerminalError("journal_error", reason=f"journal_mode is {mode}, not wal")

    # ------------------------------------------------------------- plumbing

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise TerminalError("journal_error", reason=str(exc)) from exc
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._db.execute("ROLLBACK")
                    raise TerminalError("journal_error", reason=str(exc)) from exc
            finally:
                self._depth = 0

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def pragma(self, name: str) -> Any:
        """A pragma's value (``journal_mode``, ``synchronous``) for the self-test."""
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    # ----------------------------------------------------------------- meta

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def next_number(self, counter: str) -> int:
        """The next value of a durable counter (1, 2, ...); join a transaction to be atomic."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (counter,)).fetchone()
            value = int(row["value"]) + 1 if row else 1
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (counter, str(value)),
            )
            return value

    # --------------------------------------------------------------- events

    def append(
        self,
        *,
        at: float,
        kind: str,
        event: str,
        operator_id: str,
        ref: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        training: bool = False,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one event row; returns its sequence number."""
        detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
        with self.transaction() as db:
            last = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            prev = str(last["hash"]) if last else _GENESIS
            values = (at, kind, ref, event, from_state, to_state, operator_id, int(training))
            digest = _row_hash(prev, (*values, detail_json))
            cursor = db.execute(
                "INSERT INTO events (at, kind, ref, event, from_state, to_state, operator_id, "
                "training, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, detail_json, digest),
            )
            return int(cursor.lastrowid or 0)

    def events(self, ref: str | None = None, limit: int = 1000) -> list[JournalEvent]:
        """Event rows, oldest first (of one sale/refund/order when ``ref`` is given)."""
        if ref is None:
            rows = self._query("SELECT * FROM events ORDER BY seq DESC LIMIT ?", (limit,))
            rows.reverse()
        else:
            rows = self._query(
                "SELECT * FROM events WHERE ref = ? ORDER BY seq LIMIT ?", (ref, limit)
            )
        return [
            JournalEvent(
                seq=int(r["seq"]),
                at=float(r["at"]),
                kind=str(r["kind"]),
                ref=r["ref"],
                event=str(r["event"]),
                from_state=r["from_state"],
                to_state=r["to_state"],
                operator_id=str(r["operator_id"]),
                training=bool(r["training"]),
                detail=json.loads(r["detail"]) if r["detail"] else None,
                hash=str(r["hash"]),
            )
            for r in rows
        ]

    def verify_chain(self) -> int | None:
        """Walk the hash chain; the ``seq`` of the first row that does not match, or None."""
        prev = _GENESIS
        for r in self._query("SELECT * FROM events ORDER BY seq"):
            values = (
                r["at"],
                r["kind"],
                r["ref"],
                r["event"],
                r["from_state"],
                r["to_state"],
                r["operator_id"],
                r["training"],
                r["detail"],
            )
            if _row_hash(prev, values) != r["hash"]:
                return int(r["seq"])
            prev = str(r["hash"])
        return None

    # ---------------------------------------------------------------- sales

    def save_sale(
        self,
        sale: Sale,
        *,
        event: str,
        at: float,
        operator_id: str,
        from_state: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write ``sale``'s snapshot and its event row, in one transaction."""
        self._save_record(
            "sales",
            "out_trade_no",
            {
                "out_trade_no": sale.out_trade_no,
                "state": sale.state.value,
                "amount": sale.amount,
                "currency": sale.currency,
                "training": int(sale.training),
                "operator_id": sale.operator_id,
                "created_at": sale.created_at,
                "version": sale.version,
            },
            sale.to_dict(),
            at=at,
            kind="sale",
            event=event,
            from_state=from_state,
            operator_id=operator_id,
            training=sale.training,
            detail=detail,
        )

    def get_sale(self, out_trade_no: str) -> Sale | None:
        rows = self._query("SELECT snapshot FROM sales WHERE out_trade_no = ?", (out_trade_no,))
        return Sale.from_dict(json.loads(rows[0]["snapshot"])) if rows else None

    def sales(
        self,
        *,
        states: set[SaleState] | frozenset[SaleState] | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[Sale]:
        """Sales, newest first, filtered by state and creation time."""
        sql = "SELECT snapshot FROM sales WHERE 1 = 1"
        params: list[Any] = []
        if states is not None:
            sql += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(s.value for s in states)
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(since)
        if until is not None:
            sql += " AND created_at < ?"
            params.append(until)
        sql += " ORDER BY created_at DESC, out_trade_no DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [Sale.from_dict(json.loads(r["snapshot"])) for r in self._query(sql, tuple(params))]

    def count_in_doubt(self) -> int:
        states = [s.value for s in IN_DOUBT_STATES]
        rows = self._query(
            f"SELECT COUNT(*) AS n FROM sales WHERE state IN ({', '.join('?' for _ in states)})",
            tuple(states),
        )
        return int(rows[0]["n"])

    # -------------------------------------------------------------- refunds

    def save_refund(
        self,
        refund: RefundRecord,
        *,
        event: str,
        at: float,
        operator_id: str,
        from_state: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write ``refund``'s snapshot and its event row, in one transaction."""
        self._save_record(
            "refunds",
            "out_refund_no",
            {
                "out_refund_no": refund.out_refund_no,
                "out_trade_no": refund.out_trade_no,
                "state": refund.state.value,
                "amount": refund.amount,
                "created_at": refund.created_at,
                "version": refund.version,
            },
            refund.to_dict(),
            at=at,
            kind="refund",
            event=event,
            from_state=from_state,
            operator_id=operator_id,
            training=refund.training,
            detail={"out_trade_no": refund.out_trade_no, **(detail or {})},
        )

    def get_refund(self, out_refund_no: str) -> RefundRecord | None:
        rows = self._query("SELECT snapshot FROM refunds WHERE out_refund_no = ?", (out_refund_no,))
        return RefundRecord.from_dict(json.loads(rows[0]["snapshot"])) if rows else None

    def refunds(
        self, *, out_trade_no: str | None = None, unsettled: bool = False
    ) -> list[RefundRecord]:
        sql = "SELECT snapshot FROM refunds WHERE 1 = 1"
        params: list[Any] = []
        if out_trade_no is not None:
            sql += " AND out_trade_no = ?"
            params.append(out_trade_no)
        if unsettled:
            sql += " AND state IN (?, ?)"
            params.extend((RefundState.PENDING.value, RefundState.UNKNOWN.value))
        sql += " ORDER BY created_at"
        rows = self._query(sql, tuple(params))
        return [RefundRecord.from_dict(json.loads(r["snapshot"])) for r in rows]

    def add_outside_refund(self, refund: OutsideRefund, *, at: float) -> bool:
        """Record a refund made elsewhere that the host reported (once: True when it was
        new), with its event row, in one transaction."""
        snapshot = json.dumps(refund.to_dict(), ensure_ascii=False, sort_keys=True)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO outside_refunds (out_refund_no, out_trade_no, amount, refunded_at,"
                " snapshot) VALUES (?, ?, ?, ?, ?) ON CONFLICT (out_refund_no) DO NOTHING",
                (
                    refund.out_refund_no,
                    refund.out_trade_no,
                    refund.amount,
                    refund.refunded_at,
                    snapshot,
                ),
            )
            if cursor.rowcount != 1:
                return False
            self.append(
                at=at,
                kind="refund",
                ref=refund.out_refund_no,
                event="refund_made_elsewhere",
                to_state=RefundState.SUCCESS.value,
                operator_id="host",
                training=refund.training,
                detail={
                    "out_trade_no": refund.out_trade_no,
                    "amount": refund.amount,
                    "currency": refund.currency,
                },
            )
            return True

    def outside_refunds(self, *, out_trade_no: str | None = None) -> list[OutsideRefund]:
        """Refunds made elsewhere, oldest first (of one sale or order, when given)."""
        sql = "SELECT snapshot FROM outside_refunds"
        params: tuple[Any, ...] = ()
        if out_trade_no is not None:
            sql += " WHERE out_trade_no = ?"
            params = (out_trade_no,)
        rows = self._query(sql + " ORDER BY refunded_at, out_refund_no", params)
        return [OutsideRefund.from_dict(json.loads(r["snapshot"])) for r in rows]

    # --------------------------------------------------------------- orders

    def save_order(
        self,
        order: OrderRecord,
        *,
        event: str,
        at: float,
        operator_id: str,
        from_state: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write ``order``'s snapshot and its event row, in one transaction."""
        self._save_record(
            "orders",
            "out_trade_no",
            {
                "out_trade_no": order.out_trade_no,
                "state": order.state.value,
                "amount": order.amount,
                "created_at": order.created_at,
                "version": order.version,
            },
            order.to_dict(),
            at=at,
            kind="order",
            event=event,
            from_state=from_state,
            operator_id=operator_id,
            training=False,
            detail=detail,
        )

    def _save_record(
        self,
        table: str,
        key: str,
        columns: dict[str, Any],
        snapshot: dict[str, Any],
        *,
        at: float,
        kind: str,
        event: str,
        from_state: str | None,
        operator_id: str,
        training: bool,
        detail: dict[str, Any] | None,
    ) -> None:
        """A record's row (inserted, or its state, version and snapshot moved on) and its
        event row, in one transaction: the journal never holds one without the other.
        ``table``, ``key`` and the column names are this module's constants, never input."""
        row = {
            **columns,
            "updated_at": at,
            "snapshot": json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
        }
        sql = (
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})"
            f" ON CONFLICT ({key}) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at, version = excluded.version,"
            " snapshot = excluded.snapshot"
        )
        with self.transaction() as db:
            db.execute(sql, tuple(row.values()))
            self.append(
                at=at,
                kind=kind,
                ref=str(columns[key]),
                event=event,
                from_state=from_state,
                to_state=str(columns["state"]),
                operator_id=operator_id,
                training=training,
                detail=detail,
            )

    def get_order(self, out_trade_no: str) -> OrderRecord | None:
        rows = self._query("SELECT snapshot FROM orders WHERE out_trade_no = ?", (out_trade_no,))
        return OrderRecord.from_dict(json.loads(rows[0]["snapshot"])) if rows else None

    def orders(self, *, unsettled: bool = False, limit: int = 100) -> list[OrderRecord]:
        sql = "SELECT snapshot FROM orders"
        if unsettled:
            sql += " WHERE state IN ('CREATING', 'SHOWN', 'CLOSING')"
        sql += " ORDER BY created_at DESC LIMIT ?"
        return [
            OrderRecord.from_dict(json.loads(r["snapshot"])) for r in self._query(sql, (limit,))
        ]

    # ------------------------------------------------------------ reversals

    def enqueue_reversal(self, out_trade_no: str, reason: str, now: float) -> bool:
        """Queue a reversal (idempotent); True if it was not queued before."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO reversals (out_trade_no, reason, queued_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (out_trade_no) DO NOTHING",
                (out_trade_no, reason, now, now),
            )
            return cursor.rowcount == 1

    def reversal(self, out_trade_no: str) -> ReversalEntry | None:
        rows = self._query("SELECT * FROM reversals WHERE out_trade_no = ?", (out_trade_no,))
        return _reversal(rows[0]) if rows else None

    def reversals(self, *, waiting: bool = True) -> list[ReversalEntry]:
        sql = "SELECT * FROM reversals"
        if waiting:
            sql += " WHERE acked_at IS NULL"
        sql += " ORDER BY next_attempt_at, queued_at"
        return [_reversal(r) for r in self._query(sql)]

    def reversal_failed(self, out_trade_no: str, error: str, next_attempt_at: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE reversals SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE out_trade_no = ?",
                (error[:300], next_attempt_at, out_trade_no),
            )

    def reversal_acked(self, out_trade_no: str, host_status: str, now: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE reversals SET attempts = attempts + 1, acked_at = ?, host_status = ?,"
                " last_error = NULL WHERE out_trade_no = ?",
                (now, host_status, out_trade_no),
            )

    # ------------------------------------------------------------ operators

    def operator_row(self, operator_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM operators WHERE operator_id = ?", (operator_id,))
        return dict(rows[0]) if rows else None

    def operator_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT * FROM operators ORDER BY operator_id")]

    def insert_operator(
        self, operator_id: str, name: str, role: str, pin_hash: str, now: float
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO operators (operator_id, name, role, pin_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (operator_id, name, role, pin_hash, now),
            )

    def update_operator(self, operator_id: str, **values: Any) -> None:
        allowed = {"name", "role", "pin_hash", "failed", "locked_until", "active"}
        if not values or set(values) - allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)}")
        assignments = ", ".join(f"{key} = ?" for key in values)
        with self.transaction() as db:
            db.execute(
                f"UPDATE operators SET {assignments} WHERE operator_id = ?",
                (*values.values(), operator_id),
            )

    # ----------------------------------------------------------- day closes

    def save_day_close(
        self,
        *,
        day: str,
        currency: str,
        closed_at: float,
        operator_id: str,
        totals: dict[str, Any],
        host: dict[str, Any] | None,
        matched: bool | None,
    ) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO day_closes (day, currency, closed_at, operator_id, totals, host,"
                " matched) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    day,
                    currency,
                    closed_at,
                    operator_id,
                    json.dumps(totals, ensure_ascii=False),
                    json.dumps(host, ensure_ascii=False) if host is not None else None,
                    None if matched is None else int(matched),
                ),
            )
            close_id = int(cursor.lastrowid or 0)
            self.append(
                at=closed_at,
                kind="day_close",
                ref=day,
                event="day_closed",
                operator_id=operator_id,
                detail={"currency": currency, "matched": matched, "id": close_id},
            )
            return close_id

    def day_closes(self, day: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM day_closes"
        params: tuple[Any, ...] = ()
        if day is not None:
            sql += " WHERE day = ?"
            params = (day,)
        rows = self._query(sql + " ORDER BY id", params)
        out = []
        for r in rows:
            item = dict(r)
            item["totals"] = json.loads(item["totals"])
            item["host"] = json.loads(item["host"]) if item["host"] else None
            item["matched"] = None if item["matched"] is None else bool(item["matched"])
            out.append(item)
        return out


def _reversal(row: sqlite3.Row) -> ReversalEntry:
    return ReversalEntry(
        out_trade_no=str(row["out_trade_no"]),
        reason=str(row["reason"]),
        queued_at=float(row["queued_at"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        last_error=row["last_error"],
        acked_at=row["acked_at"],
        host_status=row["host_status"],
    )
