"""The built-in wallet's PIN wait: a payment USER_PAYING until its customer confirms
with the PIN (the wallet page, ``scanpay host wallet confirm``), or fails at its deadline.

The sweeper expires waits nobody looks at (:func:`expire_due`); a query or a
confirmation expires the one it touches (:func:`expire_if_due`). A payment routed
to a network waits for its leg instead (:mod:`~scanpay.host.services.network_legs`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    Merchant,
    Payment,
    WalletAccount,
)
from scanpay.host.domain.payment_state import (
    Expire,
    PaymentState,
    PinConfirmed,
    PinRejected,
)
from scanpay.host.domain.pin import PinState
from scanpay.host.errors import HostError
from scanpay.host.services import audit, wallets
from scanpay.host.services.context import HostContext
from scanpay.host.services.merchants import MoneyStep, require_standing
from scanpay.host.services.payment_steps import apply_event, audit_step
from scanpay.host.services.payment_views import message_for, to_body
from scanpay.i18n import Text
from scanpay.protocol.models import (
    Message,
)
from scanpay.protocol.models import (
    Payment as PaymentBody,
)

__all__ = ["Confirmation", "confirm_with_pin", "expire_due", "expire_if_due", "pin_due"]

log = logging.getLogger("scanpay.host.payments")


def pin_due(row: Payment, now: datetime) -> bool:
    """Whether ``row`` waits for a PIN whose deadline has passed (a payment at a remote
    network waits for its leg instead, not for a clock)."""
    return (
        row.status == PaymentState.USER_PAYING
        and row.network is None
        and row.pin_deadline is not None
        and now >= row.pin_deadline
    )


def expire_if_due(ctx: HostContext, session: Session, row: Payment, now: datetime) -> bool:
    """Fail a USER_PAYING payment whose PIN deadline passed (the caller holds its row lock)."""
    if pin_due(row, now):
        apply_event(session, row, Expire(), now)
        row.reason = "pin_timeout"
        audit_step(ctx, session, row, audit.HOST, "payment.expire", now, before="USER_PAYING")
        return True
    return False


def expire_due(ctx: HostContext, limit: int = 200) -> int:
    """Fail the USER_PAYING payments whose PIN deadline has passed (the sweeper's half for
    payments; a query or confirmation does the same on access). Returns how many.

    Each is re-checked under its row lock, so several host processes sweeping at
    once expire each payment exactly once.
    """
    now = ctx.now()
    with ctx.db.read() as session:
        due = list(
            session.scalars(
                select(Payment.id)
                .where(
                    Payment.status == PaymentState.USER_PAYING,
                    Payment.pin_deadline <= now,
                    Payment.network.is_(None),
                )
                .limit(limit)
            )
        )
    done = 0
    for pk in due:
        with ctx.db.write() as session:
            row = session.get(Payment, pk, with_for_update=True)
            if row is not None and expire_if_due(ctx, session, row, now):
                done += 1
    return done


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The answer to a PIN confirmation: the payment, the code of this step, tries left."""

    payment: PaymentBody
    code: str
    message: Message
    tries_left: int
    merchant_name: str


def confirm_with_pin(
    ctx: HostContext, account_number: str, pin: str, payment_id: str | None = None
) -> Confirmation:
    """Confirm a payment waiting for this account's PIN (the newest one, unless named).

    A suspended merchant's payment is refused (58) and keeps waiting, unchanged: it
    fails at its PIN deadline, moving nothing, unless the merchant is reinstated first.
    """
    with ctx.db.read() as session:
        account = wallets.load_account(session, account_number)
        pin_hash, account_pk = account.pin_hash, account.id
    # The slow hash check runs outside any transaction; the counters are updated under lock.
    right = wallets.pin_matches(ctx, pin_hash, pin)
    now = ctx.now()
    policy = ctx.settings.pin_policy
    with ctx.db.write() as session:
        query = select(Payment).where(Payment.wallet_account_id == account_pk)
        if payment_id is not None:
            query = query.where(Payment.public_id == payment_id)
        else:
            query = query.where(Payment.status == PaymentState.USER_PAYING)
        row = session.scalar(query.order_by(Payment.id.desc()).limit(1).with_for_update())
        if row is None:
            raise HostError(
                "25",
                Text("没有等待确认的支付", "no payment is waiting for this account"),
                field="payment_id",
            )
        merchant = session.get(Merchant, row.merchant_id)
        assert merchant is not None
        locked_account = session.get(WalletAccount, account_pk, with_for_update=True)
        assert locked_account is not None
        account = locked_account
        expire_if_due(ctx, session, row, now)
        if row.status == PaymentState.USER_PAYING:
            # Before the PIN is even counted: a refusal rolls back and changes nothing.
            require_standing(merchant.status, MoneyStep.PIN_CONFIRMATION)
        state = PinState(account.pin_failures, account.locked_until)
        confirming = row.status == PaymentState.USER_PAYING
        if row.status != PaymentState.USER_PAYING:
            code = row.code
        elif policy.is_locked(state, now):
            apply_event(session, row, PinRejected(locked=True), now)
            row.reason, code = "pin_locked", "75"
        elif right:
            account.pin_failures, account.locked_until = 0, None
            code = apply_event(session, row, PinConfirmed(), now).code
        else:
            after = policy.failure(state, now)
            account.pin_failures, account.locked_until = after.failures, after.locked_until
            locked = policy.is_locked(after, now)
            code = apply_event(session, row, PinRejected(locked=locked), now).code
            if locked:
                row.reason = "pin_locked"
        tries = policy.tries_left(PinState(account.pin_failures, account.locked_until), now)
        if confirming:
            audit_step(
                ctx,
                session,
                row,
                audit.Actor.wallet(account_number),
                "payment.pin",
                now,
                before="USER_PAYING",
                answer=code,
                tries_left=tries,
            )
        log.info("pin confirmation %s code=%s", row.public_id, code)
        return Confirmation(
            to_body(row),
            code,
            message_for(code, row.reason if code == row.code else None),
            tries,
            merchant.name,
        )
