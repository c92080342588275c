"""The UnionPay simulator's tables and the rows read from them (fen, UTC times).

Every ACP transaction is one ``orders`` row keyed by UnionPay's ``queryId`` and unique
by (merId, orderId): a consume (``txn_type`` 01), a cancel (31) or a refund (04), the
last two naming the consume by ``orig_query_id``. ``state`` is what a query answers as
``origRespCode``: 05 while the customer has not entered the password, 00 once done,
a decline's code otherwise. ``moved`` is the money the transaction moved (what the
settlement file counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SCHEMA", "Code", "Merchant", "Notice", "Order", "Wallet"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    mer_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    cert_id TEXT NOT NULL UNIQUE,    -- the signing certificate's serial (decimal)
    sign_cert TEXT NOT NULL,         -- PEM: what its requests are checked with
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wallets (
    id INTEGER PRIMARY KEY,
    acc_no TEXT NOT NULL UNIQUE,
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
    resp_code TEXT,
    seconds REAL,
    fired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS orders (
    query_id TEXT PRIMARY KEY,
    mer_id TEXT NOT NULL REFERENCES merchants(mer_id),
    order_id TEXT NOT NULL,
    txn_time TEXT NOT NULL,
    txn_type TEXT NOT NULL,          -- 01 consume | 31 cancel | 04 refund
    amount INTEGER NOT NULL,
    orig_query_id TEXT,
    code_hash TEXT,
    wallet_id INTEGER,
    back_url TEXT,
    state TEXT NOT NULL,             -- origRespCode: 05 pending, 00 done, else a decline
    moved INTEGER NOT NULL DEFAULT 0,
    refunded INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    seconds REAL,
    due_at TEXT,
    due_result TEXT,
    deadline_at TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT,
    UNIQUE (mer_id, order_id)
);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    mer_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    url TEXT NOT NULL,
    fields TEXT NOT NULL,            -- JSON, unsigned: signed as it is sent
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,                    -- NULL: delivered or given up
    delivered_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bills (
    mer_id TEXT NOT NULL,
    day TEXT NOT NULL,
    content TEXT NOT NULL,           -- fileContent: base64(zlib(zip))
    published_at TEXT NOT NULL,
    PRIMARY KEY (mer_id, day)
);
"""


@dataclass(frozen=True)
class Merchant:
    mer_id: str
    name: str
    cert_id: str
    sign_cert: str
    balance: int
    created_at: datetime


@dataclass(frozen=True)
class Wallet:
    id: int
    acc_no: str
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
    resp_code: str | None
    seconds: float | None
    fired: bool


@dataclass(frozen=True)
class Order:
    query_id: str
    mer_id: str
    order_id: str
    txn_time: str
    txn_type: str
    amount: int
    orig_query_id: str | None
    code_hash: str | None
    wallet_id: int | None
    back_url: str | None
    state: str
    moved: int
    refunded: int
    cancelled: bool
    outcome: str | None
    seconds: float | None
    due_at: datetime | None
    due_result: str | None
    deadline_at: datetime | None
    created_at: datetime
    done_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.state == "05"


@dataclass(frozen=True)
class Notice:
    id: int
    mer_id: str
    order_id: str
    url: str
    fields: str
    attempts: int
    next_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
