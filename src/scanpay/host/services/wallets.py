"""The built-in wallet issuer: accounts, one-time codes, the PIN rule.

The host is its own issuer so the system works end to end with no outside
service. :func:`authorise_code` is the issuer's half of a payment and runs
inside the payment's transaction; :func:`confirm` is the customer's PIN
confirmation of a payment waiting in USER_PAYING.

An account's wallet page sessions end together (:func:`end_sessions`): at logout,
when a PIN change (:func:`change_pin`) replaces the PIN, and when wrong PINs lock
the account, wherever the lock is set (an ORM event on ``locked_until``, so no
service that counts wrong PINs can forget it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, event, select, update
from sqlalchemy.orm import Session

from scanpay.codes import ConsumerPresentedCode, WalletCode
from scanpay.host.db.engine import insert_if_new
from scanpay.host.db.models import LedgerAccount, UsedCode, WalletAccount
from scanpay.host.domain import ledger as rules
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.pin import PinState, is_valid_pin, needs_pin
from scanpay.host.domain.risk import default_pin_above
from scanpay.host.domain.wallet_codes import (
    CodeOutcome,
    account_number,
    cpm_fields,
    is_account_number,
    make_cpm,
    make_digits,
    verify_cpm,
    verify_digits,
)
from scanpay.host.errors import HostError
from scanpay.host.services import audit, hashing, ledger
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import WALLET_SECRET, seal, wallet_secret
from scanpay.i18n import Text
from scanpay.money import MoneyError, format_amount, get_currency

__all__ = [
    "CODE_FAILURES",
    "CodeNotYet",
    "CodeVerdict",
    "IssuedWalletCode",
    "IssuerAnswer",
    "WalletInfo",
    "WalletOpened",
    "authorise_code",
    "change_pin",
    "claimed_account",
    "end_sessions",
    "issue_code",
    "load_account",
    "load_claimed",
    "open_account",
    "pin_deadline",
    "pin_matches",
    "wallet_info",
]


@dataclass(frozen=True, slots=True)
class WalletInfo:
    account: str
    name: str
    currency: str
    balance: int
    pin_above: int
    training: bool
    locked_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "name": self.name,
            "currency": self.currency,
            "balance": self.balance,
            "balance_text": format_amount(self.balance, self.currency),
            "pin_above": self.pin_above,
            "training": self.training,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }


@dataclass(frozen=True, slots=True)
class WalletOpened:
    """A new account, and its secret: shown once, for provisioning the customer's phone."""

    info: WalletInfo
    secret_hex: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.info.to_dict(), "secret": self.secret_hex}


@dataclass(frozen=True, slots=True)
class IssuedWalletCode:
    """One code in both forms, with the step it belongs to and when it stops working."""

    account: str
    digits: str
    cpm: str
    step: int
    atc: int
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "digits": self.digits,
            "cpm": self.cpm,
            "atc": self.atc,
            "expires_at": self.expires_at.isoformat(),
        }


def _account_code(row: WalletAccount) -> str:
    assert row.number is not None
    return ledger.wallet_code(row.number)


def open_account(
    ctx: HostContext,
    *,
    name: str,
    currency: str,
    balance: int,
    pin: str,
    pin_above: int | None = None,
    training: bool = False,
    actor: audit.Actor = audit.LOCAL,
) -> WalletOpened:
    """Open an account loaded with ``balance`` minor units from the issuer's funding account.

    ``pin_above``: payments above this amount wait for the PIN (default: one risk unit
    of the currency in its own minor units - 1 000.00 CNY, the threshold WeChat Pay
    uses, ¥20 000, 40.000 KWD - :func:`scanpay.host.domain.risk.default_pin_above`).
    """
    try:
        cur = get_currency(currency)
    except MoneyError as exc:
        raise HostError("13", exc.text, field="currency") from None
    if not is_valid_pin(pin):
        raise HostError("30", Text("支付密码须为 6 位数字", "the PIN is six digits"), field="pin")
    if not 1 <= len(name.strip()) <= 64:
        raise HostError(
            "30", Text("姓名须为 1-64 个字符", "the name is 1-64 characters"), field="name"
        )
    if balance < 0 or (pin_above is not None and pin_above < 0):
        raise HostError("13", Text("金额不能为负数", "amounts are not negative"), field="balance")
    limit = default_pin_above(cur.alpha) if pin_above is None else pin_above
    book = Book.TRAINING if training else Book.REAL
    secret = secrets.token_hex(32)
    pin_hash = hashing.make_hash(ctx, pin)  # slow on purpose: outside the write transaction
    now = ctx.now()
    with ctx.db.write() as session:
        funding = ledger.ensure_account(
            session,
            ledger.funding_code(book, cur.alpha),
            AccountKind.ISSUER_FUNDING,
            book,
            cur.alpha,
            now,
        )
        session.flush()
        row = WalletAccount(
            name=name.strip(),
            currency=cur.alpha,
            training=training,
            secret_hex="",
            secret_sealed=seal(ctx, secret, WALLET_SECRET),
            pin_hash=pin_hash,
            pin_above=limit,
            pin_failures=0,
            atc_issued=0,
            atc_last_used=0,
            ledger_account_id=funding.id,  # replaced below, once the number exists
            created_at=now,
        )
        session.add(row)
        session.flush()
        row.number = account_number(row.id, ctx.settings.code_format.account_digits)
        own = ledger.ensure_account(
            session, _account_code(row), AccountKind.WALLET, book, cur.alpha, now
        )
        session.flush()
        row.ledger_account_id = own.id
        if balance:
            entry = rules.opening(book, cur.alpha, funding.code, own.code, balance)
            ledger.post(session, entry, kind="wallet_load", now=now)
        info = _info(row, balance)
        audit.record(
            session,
            now,
            actor,
            "wallet.open",
            ("wallet", info.account),
            currency=cur.alpha,
            balance=balance,
            pin_above=limit,
            training=training,
        )
    return WalletOpened(info, secret)


def _info(row: WalletAccount, balance: int) -> WalletInfo:
    assert row.number is not None
    return WalletInfo(
        row.number, row.name, row.currency, balance, row.pin_above, row.training, row.locked_until
    )


def load_account(session: Session, number: str, *, lock: bool = False) -> WalletAccount:
    query = select(WalletAccount).where(WalletAccount.number == number)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise HostError("25", Text("找不到该钱包账户", "no such wallet account"), field="account")
    return row


def wallet_info(ctx: HostContext, number: str) -> WalletInfo:
    """An account's balance and state."""
    with ctx.db.read() as session:
        row = load_account(session, number)
        balance = session.scalar(
            select(LedgerAccount.balance).where(LedgerAccount.id == row.ledger_account_id)
        )
        return _info(row, int(balance or 0))


class CodeNotYet(HostError):
    """Every code the host would accept now was issued already (one per time step, up to
    ``future_steps`` ahead): the next one can be made at ``ready_at``."""

    def __init__(self, ready_at: datetime, zone: ZoneInfo) -> None:
        # Said in the business day's time, as the shop reads its clocks.
        local = f"{ready_at.astimezone(zone):%H:%M:%S} ({zone.key})"
        super().__init__(
            "57",
            Text(
                f"付款码已全部发出，下一个可在 {local} 生成",
                f"every code the host accepts now was issued; the next one at {local}",
            ),
            field="account",
        )
        self.ready_at = ready_at


def issue_code(ctx: HostContext, number: str) -> IssuedWalletCode:
    """A fresh one-time code for an account: one the host will accept, once.

    The host takes one code per account and time step, so each code issued here is
    of a step of its own: the first step from now on after the last one issued, and
    not one a payment has used already (a phone's code of this step). The host also
    takes codes up to ``future_steps`` ahead, so a few codes issued at once are all
    good; past that :class:`CodeNotYet` says when the next step opens.
    """
    fmt = ctx.settings.code_format
    now = ctx.now()
    current = fmt.step(int(now.timestamp()))
    with ctx.db.write() as session:
        row = load_account(session, number, lock=True)
        used = set(
            session.scalars(
                select(UsedCode.step).where(
                    UsedCode.wallet_account_id == row.id, UsedCode.step >= current
                )
            )
        )
        step = max(current, row.step_issued + 1)
        while step in used:
            step += 1
        if step > current + fmt.future_steps:
            opens = (step - fmt.future_steps) * fmt.step_seconds
            raise CodeNotYet(datetime.fromtimestamp(opens, now.tzinfo), ctx.settings.zone)
        row.step_issued = step
        row.atc_issued = max(row.atc_issued, row.atc_last_used) + 1
        atc = row.atc_issued
        secret = wallet_secret(ctx, row.secret_sealed, row.secret_hex)
    expires = datetime.fromtimestamp((step + fmt.window_steps) * fmt.step_seconds, now.tzinfo)
    return IssuedWalletCode(
        number,
        make_digits(fmt, number, secret, step),
        make_cpm(fmt, number, secret, step, atc),
        step,
        atc,
        expires,
    )


# ----------------------------------------------------------------------------------------
# The issuer's half of a payment (runs inside the payment's transaction).


class CodeVerdict(StrEnum):
    APPROVE = "approve"
    PIN = "pin"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class IssuerAnswer:
    """What the issuer says about a code: approve, wait for the PIN, or decline (code, reason)."""

    verdict: CodeVerdict
    code: str = "00"
    reason: str | None = None
    account: WalletAccount | None = None


def _decline(code: str, reason: str, account: WalletAccount | None = None) -> IssuerAnswer:
    return IssuerAnswer(CodeVerdict.DECLINE, code, reason, account)


def claimed_account(ctx: HostContext, code: WalletCode | ConsumerPresentedCode) -> str | None:
    """The account a built-in wallet code names, before it is checked (for the risk
    rules, which run before the issuer so that a locked terminal tests no code)."""
    fmt = ctx.settings.code_format
    if isinstance(code, WalletCode):
        number = code.payload[len(fmt.prefix) : len(fmt.prefix) + fmt.account_digits]
    else:
        fields = cpm_fields(fmt, code)
        number = fields.account if fields is not None else ""
    return number if is_account_number(number, fmt.account_digits) else None


#: Consumes a code: one row per account and time step (a used one inserts nothing).
_USED_CODES = cast(Table, UsedCode.__table__)
_USE_CODE = insert_if_new(_USED_CODES, _USED_CODES.c.id)


def load_claimed(session: Session, number: str | None) -> WalletAccount | None:
    """The account a code claims, read once for the risk rules and the issuer."""
    if number is None:
        return None
    return session.scalar(select(WalletAccount).where(WalletAccount.number == number))


#: Issuer refusals that are about the code itself: a brute-force attempt looks like these.
CODE_FAILURES = frozenset({"bad_code", "code_used", "atc_replay", "expired"})


def authorise_code(
    ctx: HostContext,
    session: Session,
    code: WalletCode | ConsumerPresentedCode,
    *,
    amount: int,
    currency: str,
    training: bool,
    account: WalletAccount | None = None,
) -> IssuerAnswer:
    """Check a built-in wallet code and consume it; the money moves in the payment service.

    A genuine, live code is consumed (its time step marked used) whatever the
    outcome after that (funds): a code is shown to a cashier once. A sale that
    could never take this code (training vs real, currency) and a PIN lock
    refuse it before, and leave it usable: a lock is no reason to spend the
    customer's code. ``account``: the code's account when the caller has
    already loaded it (:func:`load_claimed`), to save reading it again.
    """
    fmt = ctx.settings.code_format
    now = ctx.now()
    unix = int(now.timestamp())
    cpm = None
    if isinstance(code, WalletCode):
        body = code.payload[len(fmt.prefix) :]
        number, code_otp = body[: fmt.account_digits], body[fmt.account_digits :]
    else:
        cpm = cpm_fields(fmt, code)
        if cpm is None:
            return _decline("14", "bad_code")
        number, code_otp = cpm.account, ""
    if not is_account_number(number, fmt.account_digits):
        return _decline("14", "bad_code")
    if account is None or account.number != number:
        account = session.scalar(select(WalletAccount).where(WalletAccount.number == number))
    if account is None:
        return _decline("14", "bad_code")
    secret = wallet_secret(ctx, account.secret_sealed, account.secret_hex)
    check = (
        verify_digits(fmt, secret, code_otp, unix)
        if cpm is None
        else verify_cpm(fmt, secret, cpm, unix)
    )
    if check.outcome is CodeOutcome.INVALID:
        return _decline("14", "bad_code", account)
    if check.outcome is CodeOutcome.EXPIRED:
        return _decline("54", "expired", account)
    assert check.step is not None
    # Refusals that are the sale's fault, not the code's, leave the code usable.
    if account.training != training:
        return _decline("57", "training_mismatch", account)
    if account.currency != currency:
        return _decline("57", "currency_mismatch", account)
    policy = ctx.settings.pin_policy
    if policy.is_locked(PinState(account.pin_failures, account.locked_until), now):
        return _decline("75", "pin_locked", account)
    used = (
        session.connection()
        .execute(
            _USE_CODE[session.get_bind().dialect.name],
            {
                "wallet_account_id": account.id,
                "step": check.step,
                "form": "cpm" if cpm else "digits",
                "used_at": now,
            },
        )
        .first()
    )
    if used is None:  # this account's code of this step was taken already
        return _decline("14", "code_used", account)
    if cpm is not None:
        # EMV's application transaction counter: a copy of an old code has an old counter.
        moved = session.execute(
            update(WalletAccount)
            .where(WalletAccount.id == account.id, WalletAccount.atc_last_used < cpm.atc)
            .values(atc_last_used=cpm.atc)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return _decline("14", "atc_replay", account)
    if needs_pin(amount, account.pin_above):
        balance = session.scalar(
            select(LedgerAccount.balance).where(LedgerAccount.id == account.ledger_account_id)
        )
        if int(balance or 0) < amount:
            return _decline("51", "insufficient_funds", account)
        return IssuerAnswer(CodeVerdict.PIN, "09", None, account)
    return IssuerAnswer(CodeVerdict.APPROVE, "00", None, account)


def pin_matches(ctx: HostContext, pin_hash: str, pin: str) -> bool:
    """Check a PIN against its argon2 hash (slow on purpose; call it outside transactions).
    Through the process's hashing gate: :class:`~scanpay.host.services.hashing.HashBusy`
    when it is full."""
    return hashing.verify(ctx, pin_hash, pin)


def pin_deadline(ctx: HostContext, now: datetime) -> datetime:
    return now + timedelta(seconds=ctx.settings.user_paying_timeout)


# ----------------------------------------------------------------------------------------
# Wallet page sessions end together.


def end_sessions(session: Session, account_pk: int, *, only_epoch: int | None = None) -> bool:
    """End every wallet page session of an account (inside the caller's transaction):
    its session generation moves on. ``only_epoch``: only if it is still that one (a
    logout of a session that already ended changes nothing). Whether it moved."""
    query = update(WalletAccount).where(WalletAccount.id == account_pk)
    if only_epoch is not None:
        query = query.where(WalletAccount.session_epoch == only_epoch)
    moved = session.execute(
        query.values(session_epoch=WalletAccount.session_epoch + 1).execution_options(
            synchronize_session=False
        )
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


@event.listens_for(WalletAccount.locked_until, "set")
def _a_lock_ends_the_sessions(
    target: WalletAccount, value: datetime | None, old: object, _initiator: object
) -> None:
    # Whoever guessed the PIN may hold a session too: a new lock ends them all. The
    # generation moves in SQL, so two transactions locking at once both count.
    if value is not None and value != old:
        target.session_epoch = WalletAccount.session_epoch + 1


def change_pin(
    ctx: HostContext, number: str, new_pin: str, *, actor: audit.Actor = audit.LOCAL
) -> None:
    """Give an account a new PIN; its wallet page sessions end (the old PIN opened them)."""
    if not is_valid_pin(new_pin):
        raise HostError("30", Text("支付密码须为 6 位数字", "the PIN is six digits"), field="pin")
    pin_hash = hashing.make_hash(ctx, new_pin)  # slow: outside the write transaction
    now = ctx.now()
    with ctx.db.write() as session:
        row = load_account(session, number, lock=True)
        row.pin_hash = pin_hash
        end_sessions(session, row.id)
        audit.record(session, now, actor, "wallet.pin_change", ("wallet", number))
