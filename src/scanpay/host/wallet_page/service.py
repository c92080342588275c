"""What the wallet page asks of the host: log in with the PIN, the account's balance,
history and payments waiting for the PIN, a payment code that can still pay
drawn as QR and Code 128, and reading a merchant's QR from a photo.

The PIN check at login follows the same rule as payment confirmations: wrong
PINs count against the account and lock it (``SCANPAY_PIN_TRIES`` /
``SCANPAY_PIN_LOCK``), the right one resets the count; every login attempt on
an account is in the audit log.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from scanpay.host.db.models import Merchant, Payment, UsedCode, WalletAccount
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.pin import PinState
from scanpay.host.domain.wallet_codes import make_digits
from scanpay.host.services import audit, wallets
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import wallet_secret
from scanpay.host.wallet_page import code128
from scanpay.i18n import Text
from scanpay.money import format_amount
from scanpay.protocol.result_codes import result_code

__all__ = [
    "LoginRefused",
    "account_view",
    "code_view",
    "fresh_code",
    "history",
    "login",
    "pending",
    "read_merchant_code",
]

_DUMMY_HASH: dict[str, str] = {}


@dataclass
class LoginRefused(Exception):
    """A refused login: ``code`` 55 (wrong account or PIN) or 75 (locked), with the text."""

    code: str
    text: Text
    tries_left: int | None = None


def _dummy_hash(ctx: HostContext) -> str:
    # Unknown accounts cost as much time as known ones: no account-number probing by timing.
    if "hash" not in _DUMMY_HASH:
        _DUMMY_HASH["hash"] = ctx.hasher.hash("000000")
    return _DUMMY_HASH["hash"]


def _wrong(tries: int | None) -> LoginRefused:
    if tries is None:
        return LoginRefused("55", Text("账户或支付密码错误", "Wrong account or PIN"))
    return LoginRefused(
        "55",
        Text(
            f"账户或支付密码错误，还可尝试 {tries} 次", f"Wrong account or PIN; {tries} tries left"
        ),
        tries,
    )


def _locked(until: datetime | None) -> LoginRefused:
    at = until.strftime("%H:%M") if until else ""
    return LoginRefused(
        "75",
        Text(
            f"支付密码错误次数过多，账户已锁定至 {at}",
            f"Too many wrong PINs: the account is locked until {at}",
        ),
        0,
    )


def login(ctx: HostContext, number: str, pin: str) -> wallets.WalletInfo:
    """Check an account's PIN for the wallet page; raises :class:`LoginRefused`."""
    with ctx.db.read() as session:
        row = session.scalar(select(WalletAccount).where(WalletAccount.number == number))
        pk, pin_hash = (row.id, row.pin_hash) if row is not None else (None, _dummy_hash(ctx))
    right = wallets.pin_matches(ctx, pin_hash, pin)  # slow: outside any transaction
    if pk is None:
        raise _wrong(None)
    now = ctx.now()
    policy = ctx.settings.pin_policy
    refusal: LoginRefused | None = None
    with ctx.db.write() as session:
        account = session.get(WalletAccount, pk, with_for_update=True)
        assert account is not None
        state = PinState(account.pin_failures, account.locked_until)
        if policy.is_locked(state, now):
            refusal = _locked(account.locked_until)
        elif right:
            account.pin_failures, account.locked_until = 0, None
        else:
            after = policy.failure(state, now)
            account.pin_failures, account.locked_until = after.failures, after.locked_until
            refusal = (
                _locked(after.locked_until)
                if policy.is_locked(after, now)
                else _wrong(policy.tries_left(after, now))
            )
        audit.record(
            session,
            now,
            audit.Actor.wallet(number),
            "wallet.login",
            ("wallet", number),
            ok=refusal is None,
            code=refusal.code if refusal else "00",
        )
    if refusal is not None:
        raise refusal
    return wallets.wallet_info(ctx, number)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _payment_view(row: Payment, merchant_name: str) -> dict[str, Any]:
    rc = result_code(row.code)
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
    }


def _account_pk(session: Any, number: str) -> int:
    return wallets.load_account(session, number).id


def history(ctx: HostContext, number: str, limit: int = 30) -> list[dict[str, Any]]:
    """The account's payments, newest first (refunds show as refunded amounts)."""
    with ctx.db.read() as session:
        pk = _account_pk(session, number)
        rows = session.execute(
            select(Payment, Merchant.name)
            .join(Merchant, Merchant.id == Payment.merchant_id)
            .where(Payment.wallet_account_id == pk, Payment.tombstone.is_(False))
            .order_by(Payment.id.desc())
            .limit(limit)
        ).all()
        return [_payment_view(payment, name) for payment, name in rows]


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
            _payment_view(payment, name)
            for payment, name in rows
            if payment.pin_deadline is None or payment.pin_deadline > now
        ]


def account_view(ctx: HostContext, number: str) -> dict[str, Any]:
    """Balance and state, the payments waiting for the PIN, and the history."""
    info = wallets.wallet_info(ctx, number)
    data = info.to_dict()
    data["pin_above_text"] = format_amount(info.pin_above, info.currency)
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
