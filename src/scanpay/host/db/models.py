"""The host's tables (SQLAlchemy 2 typed ORM).

Rows are storage, never API bodies: the services convert them into the
protocol models. Public identifiers (``M000001``, ``T000001``) are derived
from the integer primary keys; wallet account numbers carry a Luhn digit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scanpay.host.db.types import UTCDateTime

__all__ = [
    "ActivationCode",
    "Application",
    "AuditHead",
    "AuditLog",
    "Base",
    "BatchClose",
    "CodeFailure",
    "HostKey",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerPosting",
    "Merchant",
    "MerchantChannel",
    "NetworkAccount",
    "NetworkLeg",
    "NetworkRefund",
    "Nonce",
    "Order",
    "Payment",
    "PortalLoginAttempt",
    "PortalSession",
    "PortalUser",
    "ReconciliationBreak",
    "ReconciliationRun",
    "Refund",
    "RiskLimit",
    "Settlement",
    "SettlementLine",
    "Terminal",
    "TerminalKey",
    "TerminalSelfTest",
    "UsedCode",
    "WalletAccount",
    "WalletLoginThrottle",
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
    """A terminal's HMAC key. The host must read it to verify, so it cannot keep a hash:
    ``key_sealed`` holds it sealed under the master key (:mod:`scanpay.host.domain.sealing`);
    ``key_hex`` is the plain text of rows from before sealing (empty once sealed)."""

    __tablename__ = "terminal_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    key_hex: Mapped[str] = mapped_column(String(64))
    key_sealed: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the key
        return f"TerminalKey(id={self.id}, terminal_id={self.terminal_id})"


class HostKey(Base):
    """The fingerprint of the master key the database's secrets are sealed under (one
    row, ``name`` "master"; migration 0006). Never the key, nor a plain hash of it
    (:func:`scanpay.host.domain.sealing.key_fingerprint`): a host started with another
    key sees the difference and refuses, instead of sealing new secrets under it."""

    __tablename__ = "host_keys"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NetworkAccount(Base):
    """The acquirer's own account at a payment network (service-provider mode, 服务商):
    its merchant id and app id, and its secrets (API keys, private key, certificate
    serials, the network's public key...) as one JSON object sealed under the master
    key (``secrets_sealed``; :mod:`scanpay.host.services.channel_secrets`, migration 0008).
    Merchants' channels in service-provider mode hang under it as sub-merchants."""

    __tablename__ = "network_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The operator's name for the account, unique: what ``--account`` names.
    label: Mapped[str] = mapped_column(String(32), unique=True)
    network: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(64))
    mch_id: Mapped[str] = mapped_column(String(64))
    secrets_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the secrets
        return f"NetworkAccount(id={self.id}, label={self.label!r}, network={self.network!r})"


class MerchantChannel(Base):
    """A merchant's way into one network (one per merchant and network; migration 0008).

    ``service_provider``: under the acquirer's ``account_id``, as sub-merchant
    ``sub_mch_id`` (and ``sub_app_id``); ``app_id``, ``mch_id`` and the secrets are the
    account's. ``direct``: the merchant's own ``app_id``, ``mch_id`` and
    ``secrets_sealed`` (one JSON object sealed under the master key)."""

    __tablename__ = "merchant_channels"
    __table_args__ = (UniqueConstraint("merchant_id", "network"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    network: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("network_accounts.id"), index=True)
    app_id: Mapped[str | None] = mapped_column(String(64))
    mch_id: Mapped[str | None] = mapped_column(String(64))
    sub_mch_id: Mapped[str | None] = mapped_column(String(64))
    sub_app_id: Mapped[str | None] = mapped_column(String(64))
    secrets_sealed: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the secrets
        return (
            f"MerchantChannel(id={self.id}, merchant_id={self.merchant_id}, "
            f"network={self.network!r}, mode={self.mode!r})"
        )


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
    # Settlement reads one day's entries (with thousands of days behind them).
    __table_args__ = (Index("ix_ledger_entries_created_at", "created_at"),)

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
    """A built-in wallet account. The secret makes and checks its codes; never log it.

    ``secret_sealed`` holds it sealed under the master key; ``secret_hex`` is the
    plain text of accounts from before sealing (empty once sealed)."""

    __tablename__ = "wallet_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    secret_hex: Mapped[str] = mapped_column(String(64))
    secret_sealed: Mapped[str | None] = mapped_column(String(160))
    pin_hash: Mapped[str] = mapped_column(String(128))
    pin_above: Mapped[int] = mapped_column(BigInteger)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    atc_issued: Mapped[int] = mapped_column(Integer, default=0)
    atc_last_used: Mapped[int] = mapped_column(Integer, default=0)
    ledger_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The wallet page's session generation: a logout, a PIN lock or a PIN change moves
    #: it on, and every session issued under an older one ends (migration 0005).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The latest time step a code was issued for (``wallets.issue_code``): the next code
    #: is of a later step, since the host takes one code per account and step (0007).
    step_issued: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    def __repr__(self) -> str:  # never print the secret or the PIN hash
        return f"WalletAccount(id={self.id}, number={self.number})"


class WalletLoginThrottle(Base):
    """The wallet page's login throttle for one client address or one account number
    (``scope`` ``client`` or ``account``; unknown numbers too): failures in a row and
    until when the next try waits (:class:`scanpay.host.domain.pin.LoginDelays`)."""

    __tablename__ = "wallet_login_throttles"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
        # The portal's list sorted by amount (keyset on amount, id).
        Index("ix_payments_merchant_amount", "merchant_id", "amount", "id"),
        # Risk history: per terminal (velocity, duplicates), per merchant and wallet (daily).
        Index("ix_payments_terminal_created", "terminal_id", "created_at"),
        Index("ix_payments_merchant_paid", "merchant_id", "paid_at"),
        Index("ix_payments_wallet_paid", "wallet_account_id", "paid_at"),
        # The sweeper's question: which USER_PAYING payments are past their PIN deadline.
        Index("ix_payments_status_deadline", "status", "pin_deadline"),
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
    #: Rules that flagged the payment for review (comma-separated), if any.
    risk_flags: Mapped[str | None] = mapped_column(String(128))
    #: The payment network it was routed to (``wechat_pay``); None: the built-in wallet.
    network: Mapped[str | None] = mapped_column(String(32))


class NetworkLeg(Base):
    """A routed payment's leg at its network, journaled before each step is acted on
    (``scanpay.networks.leg``; migration 0009). ``leg`` is the leg as JSON;
    ``next_at`` is when it next needs a call or a tick (None: settled), ``lease_until``
    until when a host process is making a call for it."""

    __tablename__ = "network_legs"
    __table_args__ = (UniqueConstraint("network", "trade_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    network: Mapped[str] = mapped_column(String(32))
    trade_no: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    leg: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NetworkRefund(Base):
    """A refund of a routed payment at its network, journaled before each call
    (migration 0011; :mod:`scanpay.host.domain.network_refunds`). ``status`` is the
    network's word so far (``SENT``, ``PROCESSING``, ``UNKNOWN``, then ``SUCCESS`` or
    ``FAILED``); ``call`` the call to make next (``refund`` again, idempotent on the
    refund number, or ``query``); ``next_at`` when (None: settled), ``lease_until``
    until when a host process is making it."""

    __tablename__ = "network_refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    network: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    call: Mapped[str | None] = mapped_column(String(8))
    tries: Mapped[int] = mapped_column(Integer)
    network_code: Mapped[str | None] = mapped_column(String(64))
    network_refund_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconciliationRun(Base):
    """One day's reconciliation of one network statement (issue 17; migration 0010):
    a merchant's direct channel (``channel_key`` its id, ``M000001``) or one of the
    acquirer's service-provider accounts (``account:LABEL``). ``status`` ``done`` or
    ``statement_not_ready`` (``network_code`` says why); ``matched`` and its breaks are
    those of the last run that had a statement. Run again, the row is reused."""

    __tablename__ = "reconciliation_runs"
    __table_args__ = (UniqueConstraint("day", "network", "channel_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The statement's day, in the network's time zone.
    day: Mapped[date] = mapped_column(Date)
    network: Mapped[str] = mapped_column(String(32))
    channel_key: Mapped[str] = mapped_column(String(64))
    #: The merchant of a direct channel; None for a service-provider account.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    network_code: Mapped[str | None] = mapped_column(String(64))
    matched: Mapped[int] = mapped_column(Integer)
    #: The network's fees in the statement that the run booked, JSON ``{"CNY": 123}``
    #: (migration 0012; None: none).
    fees: Mapped[str | None] = mapped_column(String(256))
    #: How many lines the statement had.
    lines: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconciliationBreak(Base):
    """A difference a reconciliation run found (``kind``:
    :class:`scanpay.host.domain.reconciliation.BreakKind`), and the operator's decision
    on it once made (``resolved_at``, ``resolved_by``, ``resolution``). A run again
    replaces its unresolved breaks and keeps the resolved ones."""

    __tablename__ = "reconciliation_breaks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    trade_no: Mapped[str] = mapped_column(String(64))
    refund_no: Mapped[str | None] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    #: The payment's merchant, or the direct channel's when the host has no payment.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    host_amount: Mapped[int | None] = mapped_column(BigInteger)
    network_amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    detail: Mapped[str] = mapped_column(String(256))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(Text)


class Refund(Base):
    """A refund of a payment (or the stored refusal of one: status FAILED with its code)."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("merchant_id", "out_refund_no"),
        Index("ix_refunds_merchant_created", "merchant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    out_refund_no: Mapped[str] = mapped_column(String(32))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(2))
    #: Why it was refused (stable name), when it was.
    decline_reason: Mapped[str | None] = mapped_column(String(64))
    #: The merchant's own words (the request's ``reason``).
    reason: Mapped[str | None] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_flags: Mapped[str | None] = mapped_column(String(128))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Order(Base):
    """A merchant-presented order: the QR the customer scans, and its state."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("merchant_id", "out_trade_no"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_merchant_created", "merchant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    payer: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """One record of the append-only, hash-chained audit trail (UPDATE/DELETE refused
    by database triggers; see :mod:`scanpay.host.domain.audit`)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_subject", "subject_kind", "subject_id"),
        Index("ix_audit_log_merchant", "merchant_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's end (one row): appends lock it, so they take turns in every process."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class RiskLimit(Base):
    """A row of the risk limits table (see :mod:`scanpay.host.domain.risk`)."""

    __tablename__ = "risk_limits"
    __table_args__ = (UniqueConstraint("rule", "scope", "key", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))
    # ISO 4217 code of an amount rule's value (minor units); "" for counts and shares.
    currency: Mapped[str] = mapped_column(String(3))
    value: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(8))
    window_seconds: Mapped[int | None] = mapped_column(Integer)
    lock_seconds: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class CodeFailure(Base):
    """A payment code the issuer refused (invalid, used, expired): the lockout's evidence."""

    __tablename__ = "code_failures"
    __table_args__ = (Index("ix_code_failures_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "terminal" or "wallet"
    key: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Settlement(Base):
    """One merchant's settled business day: totals, fee, net and the entry that paid it."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("merchant_id", "business_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    business_date: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    fee_rate_ppm: Mapped[int] = mapped_column(Integer)
    payment_count: Mapped[int] = mapped_column(Integer)
    payment_total: Mapped[int] = mapped_column(BigInteger)
    refund_count: Mapped[int] = mapped_column(Integer)
    refund_total: Mapped[int] = mapped_column(BigInteger)
    reversal_count: Mapped[int] = mapped_column(Integer)
    reversal_total: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class SettlementLine(Base):
    """One movement of a settled day, with its signed amount and fee."""

    __tablename__ = "settlement_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    out_trade_no: Mapped[str] = mapped_column(String(32))
    out_refund_no: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)


class BatchClose(Base):
    """A terminal's day-close batch and the host's verdict on it."""

    __tablename__ = "batch_closes"
    __table_args__ = (Index("ix_batch_closes_merchant_date", "merchant_id", "business_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    business_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    matched: Mapped[bool] = mapped_column(Boolean)
    terminal_totals: Mapped[str] = mapped_column(Text)
    host_totals: Mapped[str] = mapped_column(Text)
    differences: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TerminalSelfTest(Base):
    """A terminal's latest self-test as it reported it (``POST /v1/terminals/self/report``):
    what the merchant portal shows beside the terminal (pending reversals, sales in doubt)."""

    __tablename__ = "terminal_selftests"

    terminal_id: Mapped[int] = mapped_column(
        ForeignKey("terminals.id"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8))
    pending_reversals: Mapped[int] = mapped_column(Integer)
    in_doubt: Mapped[int] = mapped_column(Integer)
    software_version: Mapped[str | None] = mapped_column(String(32))
    #: The checks by name (JSON: {"camera": "ok", ...}) and the trade numbers still pending.
    detail: Mapped[str] = mapped_column(Text)


class Application(Base):
    """A business's application for acquiring, from the portal's public form to the
    operator's decision. ``codes_sealed`` holds the new terminals' one-time activation
    codes, sealed under the master key, for the owner's login to show."""

    __tablename__ = "merchant_applications"
    __table_args__ = (Index("ix_merchant_applications_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    company_name: Mapped[str] = mapped_column(String(64))
    shop_name: Mapped[str] = mapped_column(String(25))
    license: Mapped[str] = mapped_column(String(18), index=True)
    legal_representative: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    city: Mapped[str] = mapped_column(String(15))
    address: Mapped[str] = mapped_column(String(128))
    mcc: Mapped[str] = mapped_column(String(4))
    monthly_volume: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    terminal_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(256))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    codes_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))


class PortalUser(Base):
    """A merchant portal login: a merchant's owner, accountant or read-only user (or an
    applicant's owner before approval: ``application_id`` set, ``merchant_id`` not yet),
    or an acquirer operator (no merchant). Passwords are argon2 hashes."""

    __tablename__ = "portal_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("merchant_applications.id"))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print the hash
        return f"PortalUser(id={self.id}, role={self.role})"


class PortalSession(Base):
    """A logged-in portal session. The cookie holds a random token; the table holds its
    SHA-256 (a leaked table opens no session), and the session's CSRF token."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:  # never print the tokens
        return f"PortalSession(id={self.id}, user_id={self.user_id})"


class PortalLoginAttempt(Base):
    """One portal login attempt: the throttle's evidence (per e-mail and per address)."""

    __tablename__ = "portal_login_attempts"
    __table_args__ = (
        Index("ix_portal_login_attempts_email_at", "email", "at"),
        Index("ix_portal_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
