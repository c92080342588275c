"""The simulator's tables and the rows read from them (money in integer fen, times UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ADDED_COLUMNS",
    "SCHEMA",
    "Callback",
    "Code",
    "Merchant",
    "Order",
    "Refund",
    "Totals",
    "Wallet",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    mchid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- direct | partner | sub
    parent TEXT,                     -- a sub-merchant's service provider
    appid TEXT,                      -- a sub-merchant's sub_appid (may be empty)
    name TEXT NOT NULL,
    mode TEXT,                       -- certificate | public_key: how replies are signed
    wrong_key INTEGER NOT NULL DEFAULT 0,
    v2_key TEXT,
    v3_key TEXT,
    client_serial TEXT,
    client_public_key TEXT,
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wallets (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    balance INTEGER NOT NULL,
    funded INTEGER NOT NULL,
    password_above INTEGER,          -- fen; NULL: never asks
    password_seconds REAL,           -- NULL: only confirmed on /sim/pay
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    hash TEXT PRIMARY KEY,
    wallet_id INTEGER NOT NULL REFERENCES wallets(id),
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    outcome TEXT,
    seconds REAL,
    outcome_fired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS orders (
    transaction_id TEXT PRIMARY KEY,
    mchid TEXT NOT NULL,
    sp_mchid TEXT,
    appid TEXT NOT NULL,
    sub_appid TEXT,
    out_trade_no TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    wallet_id INTEGER,
    openid TEXT,
    total INTEGER NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    attach TEXT,
    device TEXT,
    state TEXT NOT NULL,
    state_desc TEXT NOT NULL,
    err_code TEXT,
    api TEXT NOT NULL,
    outcome TEXT,
    seconds REAL,
    due_at TEXT,
    due_result TEXT,
    recalls INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    success_time TEXT,
    ended_at TEXT,
    UNIQUE (mchid, out_trade_no)
);
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES orders(transaction_id),
    mchid TEXT NOT NULL,
    out_refund_no TEXT NOT NULL,
    amount INTEGER NOT NULL,
    reason TEXT,
    kind TEXT NOT NULL,              -- refund | reverse
    status TEXT NOT NULL,            -- PROCESSING | SUCCESS
    created_at TEXT NOT NULL,
    success_time TEXT,
    notify_url TEXT,                 -- where its result is called back (API v3)
    finish_at TEXT,                  -- a PROCESSING one finishes by itself then
    UNIQUE (mchid, out_refund_no)
);
CREATE TABLE IF NOT EXISTS callbacks (
    id INTEGER PRIMARY KEY,
    mchid TEXT NOT NULL,             -- the refund's merchant (a sub-merchant's own id)
    sp_mchid TEXT,                   -- its service provider, whose keys seal and sign
    refund_id TEXT NOT NULL,
    out_refund_no TEXT NOT NULL,
    event_type TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,              -- JSON as sent, the resource sealed; signed when sent
    sent_headers TEXT,               -- JSON: the last attempt's Wechatpay-* headers
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,                    -- NULL: delivered or given up
    delivered_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bill_tokens (
    token TEXT PRIMARY KEY,
    mchid TEXT NOT NULL,
    sub_mchid TEXT,
    bill_date TEXT NOT NULL,
    bill_type TEXT NOT NULL,
    tar_type TEXT,
    content BLOB NOT NULL,           -- the bill as it was when asked for
    created_at TEXT NOT NULL
);
"""
# Columns added after a data folder may have been made: (table, column, type).
ADDED_COLUMNS = (("refunds", "notify_url", "TEXT"), ("refunds", "finish_at", "TEXT"))


@dataclass(frozen=True)
class Merchant:
    mchid: str
    kind: str
    parent: str | None
    appid: str | None
    name: str
    mode: str | None
    wrong_key: bool
    v2_key: str | None
    v3_key: str | None
    client_serial: str | None
    client_public_key: str | None
    balance: int
    created_at: datetime


@dataclass(frozen=True)
class Wallet:
    id: int
    openid: str
    name: str
    balance: int
    funded: int
    password_above: int | None
    password_seconds: float | None
    created_at: datetime


@dataclass(frozen=True)
class Code:
    hash: str
    wallet_id: int
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    outcome: str | None
    seconds: float | None
    outcome_fired: bool


@dataclass(frozen=True)
class Order:
    transaction_id: str
    mchid: str
    sp_mchid: str | None
    appid: str
    sub_appid: str | None
    out_trade_no: str
    code_hash: str
    wallet_id: int | None
    openid: str | None
    total: int
    currency: str
    description: str
    attach: str | None
    device: str | None
    state: str
    state_desc: str
    err_code: str | None
    api: str
    outcome: str | None
    seconds: float | None
    due_at: datetime | None
    due_result: str | None
    recalls: int
    refunded: int
    created_at: datetime
    success_time: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Refund:
    refund_id: str
    transaction_id: str
    mchid: str
    out_refund_no: str
    amount: int
    reason: str | None
    kind: str
    status: str
    created_at: datetime
    success_time: datetime | None
    notify_url: str | None = None
    finish_at: datetime | None = None


@dataclass(frozen=True)
class Callback:
    id: int
    mchid: str
    sp_mchid: str | None
    refund_id: str
    out_refund_no: str
    event_type: str
    url: str
    body: str
    sent_headers: str | None
    attempts: int
    next_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Totals:
    """The network's books: everything funded sits in a wallet or with a merchant."""

    funded: int
    wallets: int
    merchants: int

    @property
    def balanced(self) -> bool:
        return self.funded == self.wallets + self.merchants
