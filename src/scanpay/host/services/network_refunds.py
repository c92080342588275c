"""Refunds of routed payments, sent back through the payment's network (issue 17).

A refund of a payment a network took goes back the way the money came. Each step
is journaled (``network_refunds``) in a transaction *before* the host acts on it,
and the network is only ever called outside a transaction:

1. the refund request records the refund PROCESSING and its network refund as sent
   (:func:`open_refund`), holding back its amount from what is left to refund, and
   commits;
2. the refund call goes out (:func:`drive`) under the refund's own id as the
   network's refund number, so that asking again can never refund twice;
3. its answer is journaled (:mod:`scanpay.host.domain.network_refunds`): SUCCESS
   moves the money in the books (the merchant's clearing account to the network's)
   and the payment to PARTIALLY_REFUNDED or REFUNDED; FAILED frees the amount; no
   answer, or PROCESSING, schedules the same call or a query.

What remains is run by :func:`run_due` beside the leg sweeper in every host process:
calls that are due, and refunds whose caller died mid-call (its lease lapsed). A
refund is claimed by a compare-and-set on its version and lease, so two host
processes never make its call at once.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from scanpay.host.db.models import Merchant, NetworkLeg, NetworkRefund, Payment, Refund
from scanpay.host.domain.network_refunds import NextCall, RefundCall, RefundLegStatus, after_answer
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.refunds import RefundPlan, plan_refund
from scanpay.host.services import audit
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.network_legs import LEASE, network_reason, placed_at
from scanpay.host.services.payment_steps import apply_refund
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import Leg
from scanpay.networks.port import RefundAnswer, RefundRequest, RefundStatus

__all__ = ["PROCESSING", "drive", "open_refund", "pending_amount", "run_due"]

log = logging.getLogger("scanpay.host.network_refunds")

#: The host refund's status while its network has not given a final word.
PROCESSING = "PROCESSING"
#: A refund whose channel is gone is looked at again this often (an operator may
#: restore the channel; the refund itself is never given up).
_NO_CHANNEL_RETRY = timedelta(seconds=300)
_DRIVERS = 8


def pending_amount(session: Session, payment_pk: int) -> int:
    """What the payment's refunds still at their network hold back from what is left."""
    total = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment_pk, Refund.status == PROCESSING
        )
    )
    return int(total or 0)


def open_refund(session: Session, refund: Refund, payment: Payment, now: datetime) -> int:
    """Journal ``refund`` of routed ``payment`` as sent, in the transaction that stores
    it PROCESSING; the caller makes the call (:func:`drive`) once it has committed.
    Returns the network refund's key."""
    assert payment.network is not None
    record = NetworkRefund(
        refund_id=refund.id,
        payment_id=payment.id,
        network=payment.network,
        status=RefundLegStatus.SENT,
        call=RefundCall.REFUND,
        tries=1,
        version=1,
        # Found by run_due only if this process dies before the answer is journaled.
        next_at=now + LEASE,
        lease_until=now + LEASE,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    return record.id


def drive(ctx: HostContext, pk: int) -> None:
    """Make the due call of a network refund this process holds the lease on, and
    journal its answer (releasing the lease)."""
    with ctx.db.read() as session:
        record = session.get(NetworkRefund, pk)
        assert record is not None
        refund = session.get(Refund, record.refund_id)
        payment = session.get(Payment, record.payment_id)
        assert refund is not None and payment is not None and record.call is not None
        call, tries = RefundCall(record.call), record.tries
        # A disabled channel still finishes what it started.
        channel = channel_for(
            ctx, payment.merchant_id, record.network, session=session, disabled=True
        )
        leg = session.scalar(select(NetworkLeg.leg).where(NetworkLeg.payment_id == payment.id))
        trade_no, refund_no, asked_at = payment.public_id, refund.public_id, record.created_at
        amount, total, currency, reason = (
            refund.amount,
            payment.amount,
            refund.currency,
            refund.reason,
        )
        trade_placed = placed_at(Leg.from_dict(json.loads(leg))) if leg else None
    if channel is None:
        log.error("refund %s: its merchant's %s channel is gone", refund_no, record.network)
        _put_off(ctx, pk)
        return
    network = ctx.network(record.network)
    try:
        if call is RefundCall.REFUND:
            request = RefundRequest(
                channel,
                trade_no,
                refund_no,
                amount,
                total,
                currency,
                reason,
                placed_at=asked_at,
                trade_placed_at=trade_placed,
            )
            answer = network.refund(request)
        else:
            answer = network.refund_query(channel, refund_no, trade_no, asked_at)
    except NetworkError as exc:
        # Refused before anything was sent (a channel the adapter cannot use). Only the
        # first refund call proves nothing reached the network; after that, ask again.
        log.error("refund %s: the channel cannot be used: %s", refund_no, exc.code)
        first = call is RefundCall.REFUND and tries == 1
        answer = RefundAnswer(
            RefundStatus.FAILED if first else RefundStatus.UNKNOWN, refund_no, exc.code
        )
    except Exception:  # an adapter's bug is no answer: ask again
        log.exception("refund %s: %s call failed", refund_no, call.value)
        answer = RefundAnswer(RefundStatus.UNKNOWN, refund_no)
    _journal(ctx, pk, call, answer)


def _put_off(ctx: HostContext, pk: int) -> None:
    with ctx.db.write() as session:
        session.execute(
            update(NetworkRefund)
            .where(NetworkRefund.id == pk)
            .values(next_at=ctx.now() + _NO_CHANNEL_RETRY, lease_until=None)
        )


def _journal(ctx: HostContext, pk: int, call: RefundCall, answer: RefundAnswer) -> None:
    now = ctx.now()
    with ctx.db.write() as session:
        # The payment's lock first: the order every refund and reverse takes them in.
        payment_pk = session.scalar(select(NetworkRefund.payment_id).where(NetworkRefund.id == pk))
        payment = session.get(Payment, payment_pk, with_for_update=True)
        record = session.get(NetworkRefund, pk, with_for_update=True, populate_existing=True)
        assert payment is not None and record is not None
        refund = session.get(Refund, record.refund_id, populate_existing=True)
        assert refund is not None
        if record.call is None:
            return  # settled already (a late answer to an earlier call)
        step = after_answer(
            call, answer.status, record.tries, ctx.settings.network_refund_retry_max
        )
        record.status = step.status.value
        record.network_code = (answer.network_code or record.network_code or "")[:64] or None
        record.network_refund_id = answer.refund_id or record.network_refund_id
        record.version += 1
        record.updated_at, record.lease_until = now, None
        if step.final:
            record.call, record.next_at = None, None
            _settle(ctx, session, payment, refund, record, step, now)
        else:
            assert step.call is not None and step.after is not None
            record.call = step.call.value
            record.next_at = now + timedelta(seconds=step.after)
        log.info(
            "refund %s at %s: %s (%s call %d)",
            refund.public_id,
            record.network,
            step.status.value,
            call.value,
            record.tries,
        )


def _settle(
    ctx: HostContext,
    session: Session,
    payment: Payment,
    refund: Refund,
    record: NetworkRefund,
    step: NextCall,
    now: datetime,
) -> None:
    """The network's final word on the refund, in the books and the refund's row."""
    before = payment.status
    if step.status is RefundLegStatus.SUCCESS:
        plan = plan_refund(
            PaymentState(payment.status), payment.amount, payment.refunded_amount, refund.amount
        )
        if not isinstance(plan, RefundPlan):
            # Cannot be: the amount was held back, and a payment with a refund at its
            # network cannot be reversed. Kept in sight rather than guessed at.
            log.error("refund %s succeeded at %s but %s", refund.public_id, record.network, plan)
            return
        apply_refund(ctx, session, payment, plan, refund, now)
        action = "refund.network_success"
    else:
        refund.status, refund.code = "FAILED", "57"
        refund.decline_reason = network_reason(record.network, record.network_code)
        action = "refund.network_failed"
    merchant = session.get(Merchant, payment.merchant_id)
    assert merchant is not None
    audit.record(
        session,
        now,
        audit.HOST,
        action,
        ("refund", refund.public_id),
        merchant=merchant.public_id,
        out_refund_no=refund.out_refund_no,
        out_trade_no=payment.out_trade_no,
        payment_id=payment.public_id,
        amount=refund.amount,
        currency=refund.currency,
        status=refund.status,
        code=refund.code,
        network=record.network,
        network_code=record.network_code,
        network_refund_id=record.network_refund_id,
        payment_before=before,
        payment_after=payment.status,
        refunded_total=payment.refunded_amount,
    )
    ctx.metrics.refund(refund.status, refund.code)


def run_due(ctx: HostContext, limit: int = 50) -> int:
    """Make every network refund call that is due, or whose caller died (lease lapsed);
    returns how many. Safe in every host process at once."""
    now = ctx.now()
    with ctx.db.read() as session:
        found = session.execute(
            select(NetworkRefund.id, NetworkRefund.version)
            .where(
                NetworkRefund.next_at <= now,
                or_(NetworkRefund.lease_until.is_(None), NetworkRefund.lease_until < now),
            )
            .order_by(NetworkRefund.next_at)
            .limit(limit)
        ).all()
    if not found:
        return 0
    with ThreadPoolExecutor(max_workers=min(_DRIVERS, len(found))) as pool:
        return sum(pool.map(lambda due: _claim_and_drive(ctx, due[0], due[1], now), found))


def _claim_and_drive(ctx: HostContext, pk: int, version: int, now: datetime) -> int:
    with ctx.db.write() as session:
        taken = session.execute(
            update(NetworkRefund)
            .where(
                NetworkRefund.id == pk,
                NetworkRefund.version == version,
                or_(NetworkRefund.lease_until.is_(None), NetworkRefund.lease_until < now),
            )
            .values(
                lease_until=now + LEASE,
                version=NetworkRefund.version + 1,
                tries=NetworkRefund.tries + 1,
            )
        )
        if getattr(taken, "rowcount", 0) != 1:
            return 0
    try:
        drive(ctx, pk)
    except Exception:  # one refund's trouble never stops the others
        log.exception("driving network refund %s failed", pk)
        with ctx.db.write() as session:
            session.execute(
                update(NetworkRefund).where(NetworkRefund.id == pk).values(lease_until=None)
            )
    return 1
