"""One step of a payment: its state machine's event applied to its row, with the money
effect posted and the step audited, in the caller's transaction.

Shared by every path that moves a payment: the terminal's requests
(:mod:`~scanpay.host.services.payments`) and the network legs
(:mod:`~scanpay.host.services.network_legs`). Who pays is the payment's issuer: a
built-in wallet account (``wallet_account_id``) or a payment network (``network``),
whose clearing account stands in for the customer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scanpay.host.db.models import Payment, Refund, WalletAccount, merchant_public_id
from scanpay.host.domain import ledger as rules
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.payment_state import (
    Declined,
    Effect,
    Event,
    PaymentState,
    Transition,
    state_code,
    transition,
)
from scanpay.host.domain.refunds import RefundPlan
from scanpay.host.domain.risk import RiskDecision
from scanpay.host.services import audit, ledger
from scanpay.host.services.context import HostContext

__all__ = ["apply_event", "apply_refund", "audit_step"]


def _payer_code(
    session: Session, row: Payment, book: Book, payer: WalletAccount | None, now: datetime
) -> str:
    """The ledger account a capture takes the money from (and a return gives it back to)."""
    if row.network is not None:
        code = ledger.network_code(row.network, book, row.currency)
        ledger.ensure_account(session, code, AccountKind.NETWORK_CLEARING, book, row.currency, now)
        return code
    account = (
        payer
        if payer is not None and payer.id == row.wallet_account_id
        else session.get(WalletAccount, row.wallet_account_id)
    )
    assert account is not None and account.number is not None
    return ledger.wallet_code(account.number)


def apply_event(
    session: Session,
    row: Payment,
    event: Event,
    now: datetime,
    *,
    new: bool = False,
    payer: WalletAccount | None = None,
    known: dict[str, ledger.KnownAccount] | None = None,
) -> Transition:
    """Run ``event`` on ``row`` (``new``: no state yet): state, code and the money effect,
    in the caller's transaction. A capture refused for lack of funds becomes a decline (51).
    The transition's code answers this step; the row keeps the code of its state.
    ``payer``: the row's wallet account when the caller holds it already; ``known``:
    ledger accounts already read (see :func:`ledger.post`).
    """
    state = None if new else PaymentState(row.status)
    step = transition(state, event)
    if step.effect in (Effect.CAPTURE, Effect.RETURN):
        book = Book.TRAINING if row.training else Book.REAL
        source = _payer_code(session, row, book, payer, now)
        if known is not None and payer is not None and payer.number is not None:
            # The payer's ledger account, read with the payer: one query less per sale.
            known.setdefault(source, (payer.ledger_account_id, AccountKind.WALLET, payer.currency))
        clearing = ledger.clearing_code(merchant_public_id(row.merchant_id), book)
        if step.effect is Effect.CAPTURE:
            entry = rules.capture(book, row.currency, source, clearing, row.amount)
        else:
            entry = rules.return_capture(book, row.currency, source, clearing, row.amount)
        try:
            ledger.post(
                session, entry, kind=step.effect.value, now=now, payment_id=row.id, known=known
            )
        except ledger.InsufficientFunds:
            step = transition(state, Declined("51"))
            row.reason = "insufficient_funds"
    row.status, row.updated_at = step.state, now
    row.code = state_code(step.state, step.code)
    if step.effect is Effect.CAPTURE and step.state is PaymentState.SUCCESS:
        row.paid_at = now
    return step


def apply_refund(
    ctx: HostContext,
    session: Session,
    payment: Payment,
    plan: RefundPlan,
    row: Refund,
    now: datetime,
) -> None:
    """Move refund ``row``'s money back to whoever paid (the wallet, or the network that
    pays the customer back) and record the states, in the caller's transaction (which
    holds the payment's row lock). The clearing account may go below zero: a refund
    after settlement is owed back by the merchant (see the settlement module)."""
    book = Book.TRAINING if payment.training else Book.REAL
    entry = rules.refund(
        book,
        payment.currency,
        _payer_code(session, payment, book, None, now),
        ledger.clearing_code(merchant_public_id(payment.merchant_id), book),
        row.amount,
    )
    row.entry_id = ledger.post(session, entry, kind="refund", now=now, payment_id=payment.id)
    payment.refunded_amount = plan.refunded_total
    payment.status, payment.updated_at = plan.payment_state, now
    row.status, row.code = "SUCCESS", "00"


def audit_step(
    ctx: HostContext,
    session: Session,
    row: Payment,
    actor: audit.Actor,
    action: str,
    now: datetime,
    *,
    before: str | None,
    decision: RiskDecision | None = None,
    **extra: object,
) -> None:
    """One audit record for a payment's decision or state change (and its metric)."""
    audit.record(
        session,
        now,
        actor,
        action,
        ("payment", row.public_id),
        merchant=merchant_public_id(row.merchant_id),
        out_trade_no=row.out_trade_no,
        amount=row.amount,
        currency=row.currency,
        before=before,
        status=row.status,
        code=row.code,
        reason=row.reason,
        wallet=row.wallet,
        payer=row.payer,
        training=row.training,
        risk=[r.to_dict() for r in decision.results] if decision is not None else None,
        **({"network": row.network} if row.network else {}),
        **extra,
    )
    if before != row.status or action == "payment.create":
        ctx.metrics.payment("payment", row.status, row.code)
