"""What the wallet page asks of the host: log in with the PIN, the account's balance,
history and payments waiting for the PIN, a payment code that can still pay
drawn as QR and Code 128, and reading a merchant's QR from a photo.

A login never touches the payment side's PIN lock: anyone can send an account
number and a PIN, and a lock they could set would stop the account's payments.
It is throttled instead, in the database (so across host processes), per client
address and per account number, known or not (``domain.pin.CLIENT_LOGINS``,
``ACCOUNT_LOGINS``: growing delays). The try is claimed, counted as a failure,
before the PIN is checked, so parallel tries are counted before any of them is
checked; the right PIN then clears the account's count and gives the client's
try back. Unknown and known accounts get one answer, after the same argon2 work
(a dummy hash for an unknown one). Every checked login is in the audit log.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from scanpay.host.db.engine import insert_if_new
from scanpay.host.db.models import (
    Merchant,
    Payment,
    UsedCode,
    WalletAccount,
    WalletLoginThrottle,
)
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.pin import (
    ACCOUNT_LOGINS,
    CLIENT_LOGINS,
    LoginDelays,
    LoginState,
    client_subject,
)
from scanpay.host.domain.wallet_codes import make_digits
from scanpay.host.services import audit, hashing, payment_views, wallets
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import wallet_secret
from scanpay.host.wallet_page import code128
from scanpay.i18n import Text
from scanpay.money import format_amount
from scanpay.protocol.result_codes import result_code

__all__ = [
    "LoggedIn",
    "LoginRefused",
    "account_view",
    "code_view",
    "fresh_code",
    "history",
    "login",
    "logout",
    "outcome",
    "pending",
    "read_merchant_code",
    "session_epoch",
]

_DELAYS: dict[str, LoginDelays] = {"account": ACCOUNT_LOGINS, "client": CLIENT_LOGINS}
_THROTTLES = cast(Table, WalletLoginThrottle.__table__)
_NEW_THROTTLE = insert_if_new(_THROTTLES, _THROTTLES.c.scope)
#: Throttle rows quiet for longer than every policy remembers are deleted now and then.
_KEEP_THROTTLES = timedelta(seconds=max(d.forget_seconds for d in _DELAYS.values()))


@dataclass
class LoginRefused(Exception):
    """A refused login: 401 with code 55 (wrong account or PIN, one answer for both), or
    429 with code 57 (too many failures: try again in ``retry_after`` seconds; ``field``
    ``account`` when the account number's delay holds it)."""

    status: int
    code: str
    text: Text
    field: str | None
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A login that passed: the account, and its session generation to issue under."""

    info: wallets.WalletInfo
    epoch: int


def _wrong() -> LoginRefused:
    return LoginRefused(401, "55", Text("账户或支付密码错误", "Wrong account or PIN"), "pin")


def _throttled(seconds: int, field: str | None) -> LoginRefused:
    return LoginRefused(
        429,
        "57",
        Text(
            f"登录失败次数过多，请 {seconds} 秒后再试",
            f"Too many failed logins; try again in {seconds} s",
        ),
        field,
        seconds,
    )


Key = tuple[str, str]


def _state(row: WalletLoginThrottle) -> LoginState:
    return LoginState(row.failures, row.last_at, row.blocked_until)


def _store(row: WalletLoginThrottle, state: LoginState, now: datetime) -> None:
    row.failures, row.last_at, row.blocked_until = (
        state.failures,
        state.last_at or now,
        state.blocked_until,
    )


def _locked_rows(session: Session, keys: list[Key], now: datetime) -> list[WalletLoginThrottle]:
    """The throttle rows of ``keys``, made if new, each locked until the transaction ends.
    Always in one order (sorted), so two logins never wait for each other in a cycle."""
    dialect = session.get_bind().dialect.name
    rows = []
    for scope, subject in sorted(keys):
        session.connection().execute(
            _NEW_THROTTLE[dialect],
            {
                "scope": scope,
                "subject": subject,
                "failures": 0,
                "last_at": now,
                "blocked_until": None,
            },
        )
        row = session.get(
            WalletLoginThrottle, (scope, subject), with_for_update=True, populate_existing=True
        )
        assert row is not None
        rows.append(row)
    return rows


def _held(rows: list[WalletLoginThrottle], now: datetime) -> LoginRefused | None:
    """The refusal when one of ``rows`` makes this try wait."""
    held = [
        (row.scope, claim.retry_after)
        for row in rows
        if not (claim := _DELAYS[row.scope].claim(_state(row), now)).allowed
    ]
    if not held:
        return None
    field = "account" if any(scope == "account" for scope, _ in held) else None
    return _throttled(max(seconds for _, seconds in held), field)


def _claim(ctx: HostContext, keys: list[Key], now: datetime) -> LoginRefused | None:
    """Count this try against every key before the PIN is checked; the refusal when one
    of them must wait (nothing is counted then)."""
    # A held try is refused on a plain read first: an attacker being told to wait costs
    # no write (on SQLite every write waits its turn behind the payments' writes).
    with ctx.db.read() as session:
        seen = list(
            session.scalars(
                select(WalletLoginThrottle).where(
                    tuple_(WalletLoginThrottle.scope, WalletLoginThrottle.subject).in_(keys)
                )
            )
        )
    refusal = _held(seen, now)
    if refusal is not None:
        return refusal
    with ctx.db.write() as session:
        rows = _locked_rows(session, keys, now)
        refusal = _held(rows, now)  # again, under the lock: a try in parallel may count
        if refusal is not None:
            return refusal
        for row in rows:
            _store(row, _DELAYS[row.scope].claim(_state(row), now).after, now)
    return None


def _settle(
    ctx: HostContext, keys: list[Key], number: str, now: datetime, *, ok: bool | None
) -> None:
    """After the check: the right PIN clears the account's count and gives the client's
    try back; a try that was never checked (``ok`` None) is given back to both. A wrong
    PIN was counted at the claim already. Known and unknown accounts alike: one write."""
    with ctx.db.write() as session:
        rows = _locked_rows(session, keys, now) if ok is not False else []
        for row in rows:
            delays = _DELAYS[row.scope]
            if ok and row.scope == "account":
                _store(row, delays.success(), now)
            else:
                _store(row, delays.refund(_state(row)), now)
        if ok is not None:
            audit.record(
                session,
                now,
                audit.Actor.wallet(number),
                "wallet.login",
                ("wallet", number),
                ok=ok,
                code="00" if ok else "55",
            )
        if ctx.due("wallet_login_prune", 600):
            session.execute(
                delete(WalletLoginThrottle).where(
                    WalletLoginThrottle.last_at < now - _KEEP_THROTTLES,
                    or_(
                        WalletLoginThrottle.blocked_until.is_(None),
                        WalletLoginThrottle.blocked_until < now,
                    ),
                )
            )


def login(ctx: HostContext, number: str, pin: str, client: str) -> LoggedIn:
    """Check an account's PIN for the wallet page, from client address ``client``;
    raises :class:`LoginRefused`, or :class:`~scanpay.host.services.hashing.HashBusy`
    when the host cannot check a PIN now (nothing is counted then)."""
    busy = hashing.GATE.refusal()
    if busy is not None:  # refused before the throttle counts anything
        raise busy
    now = ctx.now()
    keys: list[Key] = [("account", number[:64]), ("client", client_subject(client))]
    refusal = _claim(ctx, keys, now)
    if refusal is not None:
        raise refusal
    with ctx.db.read() as session:
        row = session.scalar(select(WalletAccount).where(WalletAccount.number == number))
        known = (row.pin_hash, row.session_epoch) if row is not None else None
    try:
        # Slow, and outside any transaction: the dummy hash costs an unknown account the same.
        right = wallets.pin_matches(ctx, known[0] if known else hashing.dummy_hash(ctx), pin)
    except hashing.HashBusy:
        _settle(ctx, keys, number, now, ok=None)
        raise
    ok = right and known is not None
    _settle(ctx, keys, number, now, ok=ok)
    if not ok or known is None:
        raise _wrong()
    return LoggedIn(wallets.wallet_info(ctx, number), known[1])


def session_epoch(ctx: HostContext, number: str) -> int | None:
    """The account's session generation now (None: no such account)."""
    with ctx.db.read() as session:
        return session.scalar(
            select(WalletAccount.session_epoch).where(WalletAccount.number == number)
        )


def logout(ctx: HostContext, number: str, epoch: int) -> None:
    """End the account's sessions of generation ``epoch`` (this one and its siblings)."""
    now = ctx.now()
    with ctx.db.write() as session:
        pk = session.scalar(select(WalletAccount.id).where(WalletAccount.number == number))
        if pk is not None and wallets.end_sessions(session, pk, only_epoch=epoch):
            audit.record(
                session, now, audit.Actor.wallet(number), "wallet.logout", ("wallet", number)
            )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def outcome(row: Payment, now: datetime) -> str:
    """What a payment did to the customer's money, for the history's words: ``paid``,
    ``partly_refunded``, ``refunded`` (money left, some or all came back), or
    ``waiting`` (for the PIN), ``timed_out``, ``declined``, ``cancelled`` (none left
    or it was returned)."""
    status = row.status
    if status == PaymentState.USER_PAYING:
        due = row.pin_deadline is not None and now >= row.pin_deadline
        return "timed_out" if due else "waiting"
    if status == PaymentState.FAILED:
        return "timed_out" if row.reason == "pin_timeout" else "declined"
    return {
        PaymentState.SUCCESS: "paid",
        PaymentState.PARTIALLY_REFUNDED: "partly_refunded",
        PaymentState.REFUNDED: "refunded",
    }.get(PaymentState(status), "cancelled")


def _payment_view(row: Payment, merchant_name: str, now: datetime) -> dict[str, Any]:
    rc = result_code(row.code)
    _, left = payment_views.pin_wait(row, now)
    return {
        "payment_id": row.public_id,
        "merchant_name": merchant_name,
        "description": row.description,
        "amount": row.amount,
        "amount_text": format_amount(row.amount, row.currency),
        "refunded_amount": row.refunded_amount,
        "refunded_text": format_amount(row.refunded_amount, row.currency),
        "currency": row.currency,
        "status": row.status,
        "code": row.code,
        "message": rc.message.as_dict(),
        "training": row.training,
        "created_at": _iso(row.created_at),
        "paid_at": _iso(row.paid_at),
        "pin_deadline": _iso(row.pin_deadline),
        # The host's deadline as seconds left now: the page counts down on its own clock.
        "pin_expires_in": left,
        "outcome": outcome(row, now),
    }


def _account_pk(session: Any, number: str) -> int:
    return wallets.load_account(session, number).id


def history(ctx: HostContext, number: str, limit: int = 30) -> list[dict[str, Any]]:
    """The account's payments, newest first (refunds show as refunded amounts)."""
    now = ctx.now()
    with ctx.db.read() as session:
        pk = _account_pk(session, number)
        rows = session.execute(
            select(Payment, Merchant.name)
            .join(Merchant, Merchant.id == Payment.merchant_id)
            .where(Payment.wallet_account_id == pk, Payment.tombstone.is_(False))
            .order_by(Payment.id.desc())
            .limit(limit)
        ).all()
        return [_payment_view(payment, name, now) for payment, name in rows]


def pending(ctx: HostContext, number: str) -> list[dict[str, Any]]:
    """Payments waiting for this account's PIN (USER_PAYING, deadline not passed)."""
    now = ctx.now()
    with ctx.db.read() as session:
        pk = _account_pk(session, number)
        rows = session.execute(
            select(Payment, Merchant.name)
            .join(Merchant, Merchant.id == Payment.merchant_id)
            .where(
                Payment.wallet_account_id == pk,
                Payment.status == PaymentState.USER_PAYING,
            )
            .order_by(Payment.id.desc())
        ).all()
        return [
            _payment_view(payment, name, now)
            for payment, name in rows
            if payment.pin_deadline is None or payment.pin_deadline > now
        ]


def account_view(ctx: HostContext, number: str) -> dict[str, Any]:
    """Balance and state, the payments waiting for the PIN, and the history."""
    info = wallets.wallet_info(ctx, number)
    data = info.to_dict()
    data["pin_above_text"] = format_amount(info.pin_above, info.currency)
    # The host's business timezone: the page shows times as the merchants' portal does.
    data["timezone"] = ctx.settings.timezone
    data["pending"] = pending(ctx, number)
    data["history"] = history(ctx, number)
    return data


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def fresh_code(ctx: HostContext, number: str) -> tuple[str, datetime]:
    """A code of ``number`` that has not paid yet, and when it expires.

    Codes change every time step (5 s); each pays once. Right after a payment
    the current step's code is used up, so the next step's code is given: the
    host accepts codes a few steps ahead (a phone's clock may run fast), and
    the customer never waits for a usable code.
    """
    fmt = ctx.settings.code_format
    now = ctx.now()
    step = fmt.step(int(now.timestamp()))
    with ctx.db.read() as session:
        row = wallets.load_account(session, number)
        secret = wallet_secret(ctx, row.secret_sealed, row.secret_hex)
        used = set(
            session.scalars(
                select(UsedCode.step).where(
                    UsedCode.wallet_account_id == row.id, UsedCode.step >= step
                )
            )
        )
    chosen = next((s for s in range(step, step + fmt.future_steps + 1) if s not in used), step)
    expires = datetime.fromtimestamp((chosen + fmt.window_steps) * fmt.step_seconds, now.tzinfo)
    return make_digits(fmt, number, secret, chosen), expires


def code_view(ctx: HostContext, number: str) -> dict[str, Any]:
    """A code that can pay, as digits, a QR code and a Code 128 barcode (SVG data URIs)."""
    import segno

    digits, expires = fresh_code(ctx, number)
    qr = segno.make_qr(digits, error="M")
    return {
        "digits": digits,
        "expires_at": expires.timestamp(),
        "lifetime": ctx.settings.code_lifetime,
        "qr": qr.svg_data_uri(scale=6, border=4),
        "barcode": _data_uri(code128.svg(digits, module=2, height=80)),
    }


def read_merchant_code(data: bytes, *, live: bool) -> dict[str, Any]:
    """A merchant's QR in a photo or camera frame: its text when read, else guidance."""
    from scanpay.vision import ImageError, assess, load_image, scan

    try:
        image = load_image(data)
    except (ImageError, ValueError):
        return {"text": None, "guidance": None, "error": "not_an_image"}
    result = scan(image, live=live)
    merchant = [s for s in result.symbols if s.payment_kind == "emv_mpm"]
    if merchant:
        return {"text": merchant[0].text, "guidance": None}
    guidance = None
    if live:
        quality = assess(image, result)
        if quality.guidance:
            first = quality.guidance[0]
            guidance = {"code": first.value, "message": first.text.as_dict()}
    other = "not_a_merchant_code" if result.symbols else None
    return {"text": None, "guidance": guidance, "error": other}
