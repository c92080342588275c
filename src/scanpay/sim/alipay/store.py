"""The Alipay simulator's state: one SQLite file in its data folder.

Apps (merchants) with the public key the network knows of each, wallets, one-time
payment codes (kept as hashes), trades keyed by (app, out_trade_no), refunds keyed by
(trade, out_request_no), notifications waiting to be delivered, published bills.
Money is integer fen. The connection, transactions, wallets and codes are
:class:`~scanpay.sim.common.store.SimStore`'s.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from scanpay.sim.alipay.rows import SCHEMA, App, Code, Notice, Refund, Trade, Wallet
from scanpay.sim.common.clock import from_db
from scanpay.sim.common.store import SimStore

__all__ = ["App", "Code", "Notice", "Refund", "Store", "Trade", "Wallet"]


class Store(SimStore[Wallet, Code]):
    """Row access; the rules live in :mod:`scanpay.sim.alipay.trades` and its neighbours."""

    BOOLS = frozenset({"wrong_key", "fired"})
    TIMES = frozenset({"paid_at", "closed_at", "due_at", "deadline_at", "next_at", "delivered_at"})

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, SCHEMA, Wallet, Code)

    # apps

    def add_app(self, app: App) -> None:
        self._insert_row("apps", app)

    def app(self, app_id: str) -> App | None:
        return self._one(App, "SELECT * FROM apps WHERE app_id = ?", app_id)

    def apps(self) -> list[App]:
        return self._all(App, "SELECT * FROM apps ORDER BY created_at, app_id")

    def update_app(self, app_id: str, **changes: Any) -> None:
        self._update("apps", "app_id", app_id, changes)

    def credit_app(self, app_id: str, amount: int) -> None:
        self._execute("UPDATE apps SET balance = balance + ? WHERE app_id = ?", amount, app_id)

    # trades

    def add_trade(self, trade: Trade) -> None:
        self._insert_row("trades", trade)

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
        row = self._row("SELECT zip FROM bills WHERE app_id = ? AND day = ?", app_id, day)
        return None if row is None else bytes(row[0])

    def add_token(self, token: str, app_id: str, day: str, expires_at: datetime) -> None:
        self._insert(
            "bill_tokens", {"token": token, "app_id": app_id, "day": day, "expires_at": expires_at}
        )

    def token(self, token: str) -> tuple[str, str, datetime] | None:
        row = self._row("SELECT app_id, day, expires_at FROM bill_tokens WHERE token = ?", token)
        return None if row is None else (row[0], row[1], from_db(row[2]))

    # books

    def totals(self) -> tuple[int, int, int]:
        """(funded, held by wallets, held by apps): balanced when the first is the sum."""
        return self._books("apps")
