"""The Alipay simulator's tables and the rows read from them (fen, UTC times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SCHEMA", "App", "Code", "Notice", "Refund", "Trade", "Wallet"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    app_id TEXT PRIMARY KEY,
    pid TEXT NOT NULL,               -- the seller's 2088… id
    name TEXT NOT NULL,
    mode TEXT NOT NULL,              -- public_key | cert
    app_public_key TEXT NOT NULL,
    app_cert_sn TEXT,
    fee_bp INTEGER NOT NULL,         -- service fee, basis points
    wrong_key INTEGER NOT NULL DEFAULT 0,
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wallets (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE,
    logon_id TEXT NOT NULL,
    name TEXT NOT NULL,
    balance INTEGER NOT NULL,
    funded INTEGER NOT NULL,
    password_above INTEGER,
    password_seconds REAL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    hash TEXT PRIMARY KEY,
    wallet_id INTEGER NOT NULL REFERENCES wallets(id),
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    outcome TEXT,
    sub_code TEXT,
    seconds REAL,
    fired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS trades (
    trade_no TEXT PRIMARY KEY,
    app_id TEXT NOT NULL REFERENCES apps(app_id),
    out_trade_no TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    wallet_id INTEGER,
    subject TEXT NOT NULL,
    store_id TEXT,
    operator_id TEXT,
    terminal_id TEXT,
    total INTEGER NOT NULL,
    status TEXT NOT NULL,            -- WAIT_BUYER_PAY | TRADE_SUCCESS | TRADE_CLOSED
    refunded INTEGER NOT NULL DEFAULT 0,
    fee INTEGER NOT NULL DEFAULT 0,
    notify_url TEXT,
    outcome TEXT,
    seconds REAL,
    decline TEXT,
    due_at TEXT,
    due_result TEXT,
    deadline_at TEXT NOT NULL,
    cancel_action TEXT,
    created_at TEXT NOT NULL,
    paid_at TEXT,
    closed_at TEXT,
    UNIQUE (app_id, out_trade_no)
);
CREATE TABLE IF NOT EXISTS refunds (
    id INTEGER PRIMARY KEY,
    trade_no TEXT NOT NULL REFERENCES trades(trade_no),
    app_id TEXT NOT NULL,
    out_request_no TEXT NOT NULL,
    amount INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (trade_no, out_request_no)
);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL,
    trade_no TEXT NOT NULL,
    url TEXT NOT NULL,
    params TEXT NOT NULL,            -- JSON, without notify_time and sign
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,                    -- NULL: delivered or given up
    delivered_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bills (
    app_id TEXT NOT NULL,
    day TEXT NOT NULL,
    zip BLOB NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (app_id, day)
);
CREATE TABLE IF NOT EXISTS bill_tokens (
    token TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    day TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class App:
    app_id: str
    pid: str
    name: str
    mode: str
    app_public_key: str
    app_cert_sn: str | None
    fee_bp: int
    wrong_key: bool
    balance: int
    created_at: datetime


@dataclass(frozen=True)
class Wallet:
    id: int
    user_id: str
    logon_id: str
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
    sub_code: str | None
    seconds: float | None
    fired: bool


@dataclass(frozen=True)
class Trade:
    trade_no: str
    app_id: str
    out_trade_no: str
    code_hash: str
    wallet_id: int | None
    subject: str
    store_id: str | None
    operator_id: str | None
    terminal_id: str | None
    total: int
    status: str
    refunded: int
    fee: int
    notify_url: str | None
    outcome: str | None
    seconds: float | None
    decline: str | None
    due_at: datetime | None
    due_result: str | None
    deadline_at: datetime
    cancel_action: str | None
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Refund:
    id: int
    trade_no: str
    app_id: str
    out_request_no: str
    amount: int
    fee: int
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Notice:
    id: int
    app_id: str
    trade_no: str
    url: str
    params: str
    attempts: int
    next_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
