"""The host's tables (SQLAlchemy 2 typed ORM).

Rows are storage, never API bodies: the services convert them into the
protocol models. Public identifiers (``M000001``, ``T000001``) are derived
from the integer primary keys; wallet account numbers carry a Luhn digit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scanpay.host.db.types import UTCDateTime

__all__ = [
    "ActivationCode",
    "Base",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "Merchant",
    "Nonce",
    "Payment",
    "Terminal",
    "TerminalKey",
    "UsedCode",
    "WalletAccount",
    "merchant_public_id",
    "parse_public_id",
    "terminal_public_id",
]

# Stable constraint names, so migrations can name what they change on both backends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def merchant_public_id(pk: int) -> str:
    return f"M{pk:06d}"


def terminal_public_id(pk: int) -> str:
    return f"T{pk:06d}"


def parse_public_id(text: str, letter: str) -> int | None:
    """The primary key behind ``M000123`` / ``T000123``, or None when the text is not one."""
    if len(text) < 2 or text[0] != letter or not text[1:].isdigit() or len(text) > 16:
        return None
    return int(text[1:])


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(32))
    mcc: Mapped[str] = mapped_column(String(4))
    license: Mapped[str] = mapped_column(String(18))
    fee_rate_ppm: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payee: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def public_id(self) -> str:
        return merchant_public_id(self.id)


class Terminal(Base):
    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    software_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def public_id(self) -> str:
        return terminal_public_id(self.id)


class ActivationCode(Base):
    """A one-time code that installs a new terminal key (first activation or rotation)."""

    __tablename__ = "activation_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    key_grace: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TerminalKey(Base):
    """A terminal's HMAC key. The host must read it to verify, so it is stored as is."""

    __tablename__ = "terminal_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    key_hex: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the key
        return f"TerminalKey(id={self.id}, terminal_id={self.terminal_id})"


class Nonce(Base):
    """A request nonce seen inside the signature window (pruned after it)."""

    __tablename__ = "nonces"
    __table_args__ = (UniqueConstraint("terminal_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[str] = mapped_column(String(64))
    request_ts: Mapped[int] = mapped_column(BigInteger, index=True)


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    book: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    book: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(128))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class WalletAccount(Base):
    """A built-in wallet account. The secret makes and checks its codes; never log it."""

    __tablename__ = "wallet_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_hex: Mapped[str] = mapped_column(String(64))
    pin_hash: Mapped[str] = mapped_column(String(128))
    pin_above: Mapped[int] = mapped_column(BigInteger)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    atc_issued: Mapped[int] = mapped_column(Integer, default=0)
    atc_last_used: Mapped[int] = mapped_column(Integer, default=0)
    ledger_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the secret or the PIN hash
        return f"WalletAccount(id={self.id}, number={self.number})"


class UsedCode(Base):
    """One accepted code: at most one per wallet account and time step."""

    __tablename__ = "used_codes"
    __table_args__ = (UniqueConstraint("wallet_account_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_account_id: Mapped[int] = mapped_column(ForeignKey("wallet_accounts.id"))
    step: Mapped[int] = mapped_column(BigInteger)
    form: Mapped[str] = mapped_column(String(8))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """A payment, or the tombstone a reversal leaves before its payment arrives."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("merchant_id", "out_trade_no"),
        Index("ix_payments_merchant_created", "merchant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    code: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    wallet: Mapped[str | None] = mapped_column(String(32))
    payer: Mapped[str | None] = mapped_column(String(64))
    wallet_account_id: Mapped[int | None] = mapped_column(ForeignKey("wallet_accounts.id"))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    tombstone: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(128))
    operator_id: Mapped[str | None] = mapped_column(String(32))
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pin_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
