"""Refunds: all or part of a captured payment back to the payer, once per ``out_refund_no``.

The payment's row is locked for the whole refund, so refunds of one payment
take turns in every host process and their total can never pass what was paid
(:mod:`scanpay.host.domain.refunds`). The money moves back (clearing account
to the payer's wallet) in the same transaction that records the refund and
the payment's new state (PARTIALLY_REFUNDED or REFUNDED), with its audit
record. Idempotent on (merchant, ``out_refund_no``): the same request again
returns the stored refund; the same number with a different body is 95.

A payment taken through a payment network is refunded back through it
(:mod:`~scanpay.host.services.network_refunds`): the refund is stored PROCESSING
and journaled in that transaction, its amount held back from what is left, and
the network is asked once it has committed; the answer is the refund as it then
stands (SUCCESS at once for most, PROCESSING while the network has not said).

A suspended merchant cannot refund on its own (terminal or portal: 58, nothing
stored); the acquirer's operator still can (see
:func:`scanpay.host.services.merchants.require_standing`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import Merchant, Payment, Refund
from scanpay.host.domain.fingerprint import fingerprint
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.refunds import RefundPlan, plan_refund, refundable
from scanpay.host.domain.risk import Kind, RiskDecision, RiskOutcome
from scanpay.host.errors import HostError
from scanpay.host.services import audit, network_refunds, risk
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.merchants import MoneyStep, require_standing
from scanpay.host.services.payment_steps import apply_refund
from scanpay.i18n import Text
from scanpay.money import format_amount
from scanpay.protocol.models import Message, RefundRequest, RefundStatus
from scanpay.protocol.models import Refund as RefundBody
from scanpay.protocol.result_codes import result_code

__all__ = [
    "RefundCreated",
    "create_refund",
    "get_refund",
    "list_refunds",
    "to_body",
]

log = logging.getLogger("scanpay.host.refunds")

_MESSAGES = {
    "00": Text("退款成功", "Refunded"),
    "12": Text(
        "该支付不能退款（未扣款、已撤销或已关闭）",
        "This payment cannot be refunded (no money was taken, or it was reversed)",
    ),
    "57": Text("退款被风控规则拒绝，请联系收单机构", "Refund declined by the risk rules"),
}


_PROCESSING = Text("退款已提交支付网络，处理中", "Refund sent to the payment network; processing")
_NETWORK_REFUSED = Text(
    "支付网络拒绝了退款（{code}）", "The payment network refused the refund ({code})"
)
_NO_CHANNEL = Text(
    "该商户已没有到此支付网络的通道，无法退款",
    "the merchant no longer has a channel to this payment network: it cannot be refunded",
)


def to_body(row: Refund, out_trade_no: str) -> RefundBody:
    """The API's view of a stored refund."""
    text = _MESSAGES.get(row.code) or result_code(row.code).message
    if row.status == network_refunds.PROCESSING:
        text = _PROCESSING
    elif row.decline_reason is not None and ":" in row.decline_reason:
        # Refused by the network (``wechat_pay:NOT_ENOUGH``): its code, in its words.
        text = _NETWORK_REFUSED.format(code=row.decline_reason.partition(":")[2])
    return RefundBody(
        out_refund_no=row.out_refund_no,
        out_trade_no=out_trade_no,
        refund_id=row.public_id,
        status=RefundStatus(row.status),
        code=row.code,
        message=Message.model_validate(text.as_dict()),
        amount=row.amount,
        currency=row.currency,
        reason=row.reason,
        approved_by=row.approved_by,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class RefundCreated:
    """A refund answer, and whether it is the stored answer to a retry."""

    refund: RefundBody
    replayed: bool


class _NumberTaken(Exception):
    """A concurrent request stored this out_refund_no first: answer from its row."""


def _new_row(
    payment: Payment,
    out_refund_no: str,
    amount: int,
    actor: audit.Actor,
    now: datetime,
    terminal_pk: int | None,
) -> Refund:
    return Refund(
        public_id="R" + secrets.token_hex(12).upper(),
        merchant_id=payment.merchant_id,
        terminal_id=terminal_pk,
        payment_id=payment.id,
        out_refund_no=out_refund_no,
        status=RefundStatus.FAILED,
        code="96",
        requested_by=str(actor),
        amount=amount,
        currency=payment.currency,
        training=payment.training,
        created_at=now,
    )


def _audit(
    session: Session,
    row: Refund,
    payment: Payment,
    actor: audit.Actor,
    now: datetime,
    *,
    before: str,
    decision: RiskDecision | None,
    action: str = "refund.create",
) -> None:
    merchant = session.get(Merchant, payment.merchant_id)
    assert merchant is not None
    audit.record(
        session,
        now,
        actor,
        action,
        ("refund", row.public_id),
        merchant=merchant.public_id,
        out_refund_no=row.out_refund_no,
        out_trade_no=payment.out_trade_no,
        payment_id=payment.public_id,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
        code=row.code,
        reason=row.decline_reason,
        note=row.reason,
        approved_by=row.approved_by,
        payment_before=before,
        payment_after=payment.status,
        refunded_total=payment.refunded_amount,
        risk=[r.to_dict() for r in decision.results] if decision is not None else None,
    )


def create_refund(
    ctx: HostContext,
    request: RefundRequest,
    *,
    merchant_pk: int,
    actor: audit.Actor,
    terminal_pk: int | None = None,
) -> RefundCreated:
    """Refund part or all of one of the merchant's payments (see the module docstring).

    Errors (nothing stored): 25 unknown payment, 13 more than is left, 95 the
    number reused for another refund, 58 the merchant is suspended and ``actor`` is
    not the acquirer (an operator, an admin or the host). Declines (stored, status
    FAILED): 12 the payment holds no money to refund, 57 the risk rules said no.
    """
    digest = fingerprint(request.model_dump(mode="json"))
    for _ in range(3):
        try:
            return _create_once(ctx, request, digest, merchant_pk, actor, terminal_pk)
        except _NumberTaken:
            continue
    raise HostError("96")


#: Who acts for the acquirer (an operator at the CLI or the portal, an admin, the host's
#: own automatic refunds); anyone else (a terminal, a merchant's portal user) acts for
#: the merchant.
_ACQUIRER = frozenset({"operator", "admin", "host"})


def _refund_step(actor: audit.Actor) -> MoneyStep:
    """Whose decision a refund is: the acquirer's or the merchant's."""
    return MoneyStep.ACQUIRER_REFUND if actor.kind in _ACQUIRER else MoneyStep.MERCHANT_REFUND


def _existing(
    session: Session, merchant_pk: int, out_refund_no: str, digest: str
) -> RefundCreated | None:
    row = session.scalar(
        select(Refund).where(
            Refund.merchant_id == merchant_pk, Refund.out_refund_no == out_refund_no
        )
    )
    if row is None:
        return None
    if row.request_hash != digest:
        raise HostError("95", field="out_refund_no")
    payment = session.get(Payment, row.payment_id)
    assert payment is not None
    return RefundCreated(to_body(row, payment.out_trade_no), True)


def _create_once(
    ctx: HostContext,
    request: RefundRequest,
    digest: str,
    merchant_pk: int,
    actor: audit.Actor,
    terminal_pk: int | None,
) -> RefundCreated:
    now = ctx.now()
    with ctx.db.write() as session:
        found = _existing(session, merchant_pk, request.out_refund_no, digest)
        if found is not None:
            return found
        merchant = session.get(Merchant, merchant_pk)
        assert merchant is not None
        require_standing(merchant.status, _refund_step(actor))
        payment = session.scalar(
            select(Payment)
            .where(
                Payment.merchant_id == merchant_pk,
                Payment.out_trade_no == request.out_trade_no,
                Payment.request_hash.is_not(None),
            )
            .with_for_update()
        )
        if payment is None:
            raise HostError("25", field="out_trade_no")
        if payment.network is not None and (
            channel_for(ctx, merchant_pk, payment.network, session=session, disabled=True) is None
        ):
            raise HostError("57", _NO_CHANNEL, field="out_trade_no")
        # Under the payment's lock: a concurrent twin may have committed meanwhile.
        found = _existing(session, merchant_pk, request.out_refund_no, digest)
        if found is not None:
            return found
        state = PaymentState(payment.status)
        # Refunds still at the payment's network hold their amount back.
        taken = payment.refunded_amount
        if payment.network is not None:
            taken += network_refunds.pending_amount(session, payment.id)
        plan = plan_refund(state, payment.amount, taken, request.amount)
        if not isinstance(plan, RefundPlan) and not plan.stored:
            left = refundable(state, payment.amount, taken)
            shown = format_amount(left, payment.currency)
            raise HostError(
                "13",
                Text(
                    f"退款金额超过可退金额（剩余 {shown}）",
                    f"refunds would exceed the amount paid ({shown} left to refund)",
                ),
                field="amount",
            )
        row = _new_row(payment, request.out_refund_no, request.amount, actor, now, terminal_pk)
        row.request_hash, row.reason, row.approved_by = digest, request.reason, request.approved_by
        decision: RiskDecision | None = None
        before = payment.status
        if isinstance(plan, RefundPlan):
            decision = risk.evaluate(
                ctx,
                session,
                kind=Kind.REFUND,
                merchant_pk=merchant.id,
                merchant_id=merchant.public_id,
                mcc=merchant.mcc,
                amount=request.amount,
                currency=payment.currency,
                training=payment.training,
            )
            row.risk_flags = decision.flags
            if decision.outcome is RiskOutcome.DECLINE:
                row.code, row.decline_reason = "57", "risk"
        else:
            row.code, row.decline_reason = plan.code, plan.reason
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise _NumberTaken from None
        sending = None
        if isinstance(plan, RefundPlan) and row.code != "57":
            if payment.network is None:
                apply_refund(ctx, session, payment, plan, row, now)
            else:
                # Back the way the money came: journaled here, sent once committed.
                row.status, row.code = network_refunds.PROCESSING, "09"
                sending = network_refunds.open_refund(session, row, payment, now)
        _audit(session, row, payment, actor, now, before=before, decision=decision)
        ctx.metrics.refund(row.status, row.code)
        if payment.status != before:
            ctx.metrics.payment("payment", payment.status, payment.code)
        log.info(
            "refund %s %s for %s: %s %s code=%s",
            row.public_id,
            row.out_refund_no,
            payment.out_trade_no,
            row.amount,
            row.status,
            row.code,
        )
        created = RefundCreated(to_body(row, payment.out_trade_no), False)
    if sending is None:
        return created
    network_refunds.drive(ctx, sending)
    return RefundCreated(get_refund(ctx, merchant_pk, request.out_refund_no), False)


def get_refund(ctx: HostContext, merchant_pk: int, out_refund_no: str) -> RefundBody:
    """One of the merchant's refunds (404, code 25, for anything else)."""
    with ctx.db.read() as session:
        row = session.scalar(
            select(Refund).where(
                Refund.merchant_id == merchant_pk, Refund.out_refund_no == out_refund_no
            )
        )
        if row is None:
            raise HostError("25", Text("找不到该退款", "no such refund"), field="out_refund_no")
        payment = session.get(Payment, row.payment_id)
        assert payment is not None
        return to_body(row, payment.out_trade_no)


def list_refunds(
    ctx: HostContext, merchant_pk: int, *, out_trade_no: str | None = None, limit: int = 100
) -> list[RefundBody]:
    """The merchant's refunds, newest first (of one payment when ``out_trade_no`` is given)."""
    query = (
        select(Refund, Payment.out_trade_no)
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.merchant_id == merchant_pk)
        .order_by(Refund.created_at.desc(), Refund.id.desc())
        .limit(limit)
    )
    if out_trade_no is not None:
        query = query.where(Payment.out_trade_no == out_trade_no)
    with ctx.db.read() as session:
        return [to_body(row, number) for row, number in session.execute(query).all()]
