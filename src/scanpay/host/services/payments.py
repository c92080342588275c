"""Payments: create (idempotent), query, reverse, confirm with PIN, list.

Idempotency: the key is (merchant, out_trade_no), held by a unique
constraint. The first request claims the key by inserting the payment row,
then authorises, posts and records the outcome in the same transaction; a
concurrent duplicate blocks on the key (PostgreSQL) or on the write lock
(SQLite), then finds the stored row and gets the stored answer. The same key
with a different body (compared by fingerprint) is refused with 95.

Every money movement is a ledger entry written in the transaction that
changes the payment's state, as the pure state machine says.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    LedgerAccount,
    Merchant,
    Order,
    Payment,
)
from scanpay.host.domain.fingerprint import fingerprint
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.payment_state import (
    IllegalTransition,
    LatePayment,
    PaymentState,
    Reverse,
    transition,
)
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, network_legs, network_refunds
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.host.services.merchants import MoneyStep, require_standing
from scanpay.host.services.payment_routing import NewPayment, authorise
from scanpay.host.services.payment_steps import apply_event, audit_step
from scanpay.host.services.payment_views import to_body
from scanpay.host.services.pin_waits import expire_if_due, pin_due
from scanpay.i18n import Text
from scanpay.money import MoneyError, get_currency
from scanpay.protocol.models import (
    Payment as PaymentBody,
)
from scanpay.protocol.models import (
    PaymentRequest,
)

__all__ = [
    "Created",
    "create_payment",
    "find_payment",
    "get_payment",
    "reverse_payment",
]

log = logging.getLogger("scanpay.host.payments")

_REFUND_AT_NETWORK = Text(
    "该交易有退款正在支付网络处理中，不能撤销",
    "a refund of this payment is still at its network: it cannot be reversed",
)


@dataclass(frozen=True, slots=True)
class Created:
    """A payment answer, and whether it is a stored answer to a retry."""

    payment: PaymentBody
    replayed: bool


class _KeyTaken(Exception):
    """Another request holds this (merchant, out_trade_no): read its stored row instead."""


def _new_row(auth: TerminalIdentity, out_trade_no: str, now: datetime, currency: str) -> Payment:
    return Payment(
        public_id="P" + secrets.token_hex(12).upper(),
        merchant_id=auth.merchant_pk,
        terminal_id=auth.terminal_pk,
        out_trade_no=out_trade_no,
        status=PaymentState.FAILED,
        code="96",
        amount=0,
        currency=currency,
        training=False,
        tombstone=False,
        refunded_amount=0,
        created_at=now,
        updated_at=now,
    )


_payments, _merchants, _orders = Payment.__table__, Merchant.__table__, Order.__table__
_ledger_accounts = LedgerAccount.__table__
# Built once: every new payment runs them. The first reads, in one round trip, the
# merchant, whether its trade number is already a payment or an order, and the
# merchant's clearing account in the sale's book (where a capture goes).
_OPENING = (
    select(
        _merchants.c.status,
        _merchants.c.name,
        _merchants.c.currency,
        _merchants.c.mcc,
        select(_payments.c.id)
        .where(
            _payments.c.merchant_id == _merchants.c.id,
            _payments.c.out_trade_no == bindparam("out_trade_no"),
        )
        .scalar_subquery()
        .label("payment_pk"),
        select(_orders.c.id)
        .where(
            _orders.c.merchant_id == _merchants.c.id,
            _orders.c.out_trade_no == bindparam("out_trade_no"),
        )
        .scalar_subquery()
        .label("order_pk"),
        _ledger_accounts.c.id.label("clearing_pk"),
        _ledger_accounts.c.kind.label("clearing_kind"),
        _ledger_accounts.c.currency.label("clearing_currency"),
    )
    .select_from(
        _merchants.outerjoin(
            _ledger_accounts, _ledger_accounts.c.code == bindparam("clearing_code")
        )
    )
    .where(_merchants.c.id == bindparam("merchant_pk"))
)
_INSERT = insert(_payments).returning(_payments.c.id)
#: What a new payment's authorisation changes after its row claimed the trade number.
_DECIDED = (
    "status",
    "code",
    "reason",
    "wallet",
    "payer",
    "wallet_account_id",
    "risk_flags",
    "paid_at",
    "pin_deadline",
    "network",
    "updated_at",
)
_STORE = (
    update(_payments)
    .where(_payments.c.id == bindparam("pk"))
    .values({name: bindparam(f"new_{name}", type_=_payments.c[name].type) for name in _DECIDED})
)


def _claim_new(session: Session, row: Payment) -> None:
    """Insert a new payment's row (not tracked by the session: :func:`_store` writes
    its outcome); a trade number taken meanwhile is :class:`_KeyTaken`."""
    values = {
        column.key: getattr(row, column.key)
        for column in _payments.columns
        if column.key != "id" and getattr(row, column.key) is not None
    }
    try:
        row.id = session.connection().execute(_INSERT, values).scalar_one()
    except IntegrityError:
        raise _KeyTaken from None  # the transaction is rolled back on the way out


def _store(session: Session, row: Payment) -> None:
    """Write what the authorisation decided onto the row :func:`_claim_new` inserted."""
    params: dict[str, object] = {f"new_{name}": getattr(row, name) for name in _DECIDED}
    params["pk"] = row.id
    session.connection().execute(_STORE, params)


def _claim(session: Session, row: Payment) -> None:
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise _KeyTaken from None


def find_payment(
    session: Session, merchant_pk: int, out_trade_no: str, *, lock: bool
) -> Payment | None:
    """A merchant's payment by trade number (``lock``: FOR UPDATE, for a state change)."""
    query = select(Payment).where(
        Payment.merchant_id == merchant_pk, Payment.out_trade_no == out_trade_no
    )
    return session.scalar(query.with_for_update() if lock else query)


_find = find_payment


def create_payment(ctx: HostContext, auth: TerminalIdentity, request: PaymentRequest) -> Created:
    """Take a payment: stored outcome for a retry, 95 for a mismatched one."""
    try:
        currency = get_currency(request.currency).alpha
    except MoneyError as exc:
        raise HostError("13", exc.text, field="currency") from None
    digest = fingerprint(request.model_dump(mode="json"))
    for _ in range(3):
        try:
            return _create_once(ctx, auth, request, currency, digest)
        except _KeyTaken:
            continue  # a concurrent request committed this key first: answer from its row
    raise HostError("96")


def _create_once(
    ctx: HostContext, auth: TerminalIdentity, request: PaymentRequest, currency: str, digest: str
) -> Created:
    now = ctx.now()
    with ctx.db.write() as session:
        book = Book.TRAINING if request.training else Book.REAL
        clearing = ledger.clearing_code(auth.merchant_id, book)
        opening = (
            session.connection()
            .execute(
                _OPENING,
                {
                    "merchant_pk": auth.merchant_pk,
                    "out_trade_no": request.out_trade_no,
                    "clearing_code": clearing,
                },
            )
            .one()
        )
        if opening.payment_pk is not None:
            existing = _find(session, auth.merchant_pk, request.out_trade_no, lock=True)
            assert existing is not None  # rows are never deleted
            return _replay(ctx, session, existing, request, digest, now, auth)
        require_standing(opening.status, MoneyStep.PAYMENT)
        if currency != opening.currency:
            raise HostError(
                "31",
                Text(f"该商户只收 {opening.currency}", f"this merchant takes {opening.currency}"),
                field="currency",
            )
        if opening.order_pk is not None:
            # One trade number, one sale: a merchant-presented order already uses it.
            raise HostError("95", field="out_trade_no")
        row = _new_row(auth, request.out_trade_no, now, currency)
        row.request_hash, row.amount, row.training = digest, request.amount, request.training
        row.description, row.operator_id = request.description, request.operator_id
        _claim_new(session, row)
        sale = NewPayment(auth, request, opening.mcc, opening.name, now)
        decided = authorise(ctx, session, sale, row)
        known: dict[str, ledger.KnownAccount] = {}
        if opening.clearing_pk is not None:
            kind = AccountKind(opening.clearing_kind)
            known[clearing] = (opening.clearing_pk, kind, opening.clearing_currency)
        apply_event(session, row, decided.event, now, new=True, payer=decided.payer, known=known)
        _store(session, row)
        audit_step(
            ctx,
            session,
            row,
            audit.Actor.terminal(auth.terminal_id),
            "payment.create",
            now,
            before=None,
            decision=decided.risk,
            operator_id=request.operator_id,
        )
        log.info(
            "payment %s %s/%s %s %s code=%s payer=%s",
            row.public_id,
            auth.merchant_id,
            request.out_trade_no,
            row.amount,
            row.currency,
            row.code,
            row.payer,
        )
        if decided.call is None:
            return Created(to_body(row, now), False)
        assert decided.leg_pk is not None
    # A remote network is called outside any transaction, the payment committed
    # USER_PAYING with its leg journaled as sent.
    return Created(network_legs.pay(ctx, decided.leg_pk, decided.call, to_body), False)


def _replay(
    ctx: HostContext,
    session: Session,
    row: Payment,
    request: PaymentRequest,
    digest: str,
    now: datetime,
    auth: TerminalIdentity,
) -> Created:
    if row.tombstone and row.request_hash is None:
        # The reversal came first: the payment is recorded, refused, and moves nothing.
        row.request_hash, row.amount, row.training = digest, request.amount, request.training
        row.description, row.operator_id = request.description, request.operator_id
        step = transition(PaymentState(row.status), LatePayment())
        row.status, row.code, row.updated_at = step.state, step.code, now
        row.reason = "reversed_first"
        audit_step(
            ctx,
            session,
            row,
            audit.Actor.terminal(auth.terminal_id),
            "payment.after_reversal",
            now,
            before=PaymentState.REVERSED.value,
        )
        return Created(to_body(row), False)
    if row.request_hash != digest:
        raise HostError("95", field="out_trade_no")
    expire_if_due(ctx, session, row, now)
    return Created(to_body(row, now), True)


def get_payment(ctx: HostContext, auth: TerminalIdentity, out_trade_no: str) -> PaymentBody:
    """The current state of one of the merchant's payments (404 for anything else)."""
    with ctx.db.read() as session:
        row = _find(session, auth.merchant_pk, out_trade_no, lock=False)
        if row is None:
            # Another merchant's trade number looks exactly like one that does not exist.
            raise HostError("25", field="out_trade_no")
        now = ctx.now()
        if not pin_due(row, now):
            return to_body(row, now)
    with ctx.db.write() as session:
        row = _find(session, auth.merchant_pk, out_trade_no, lock=True)
        assert row is not None  # rows are never deleted
        now = ctx.now()
        expire_if_due(ctx, session, row, now)
        return to_body(row, now)


def reverse_payment(ctx: HostContext, auth: TerminalIdentity, out_trade_no: str) -> PaymentBody:
    """Cancel a sale: unpaid -> REVERSED; paid -> money back, REVERSED; unknown -> tombstone.

    A merchant-presented order's number is refused (409, 95): an order is closed
    (``/v1/orders/{no}/close``) and its payment refunded, so that the order and its
    payment never disagree. A suspended merchant's terminal still reverses (see
    :data:`MoneyStep.REVERSAL`).
    """
    require_standing(auth.merchant_status, MoneyStep.REVERSAL)
    for _ in range(3):
        now = ctx.now()
        try:
            with ctx.db.write() as session:
                is_order = session.scalar(
                    select(Order.id).where(
                        Order.merchant_id == auth.merchant_pk, Order.out_trade_no == out_trade_no
                    )
                )
                if is_order is not None:
                    raise HostError(
                        "95",
                        Text(
                            "该订单号是商户收款码订单：请关闭订单或退款",
                            "this number is a merchant-presented order: close it or refund it",
                        ),
                        field="out_trade_no",
                    )
                row = _find(session, auth.merchant_pk, out_trade_no, lock=True)
                if row is None:
                    merchant = session.get(Merchant, auth.merchant_pk)
                    assert merchant is not None
                    row = _new_row(auth, out_trade_no, now, merchant.currency)
                    row.tombstone, row.status, row.code = True, PaymentState.REVERSED, "12"
                    row.reason = "reversed"
                    _claim(session, row)
                    actor = audit.Actor.terminal(auth.terminal_id)
                    audit_step(ctx, session, row, actor, "payment.reverse_first", now, before=None)
                    log.info("reversal before payment %s/%s", auth.merchant_id, out_trade_no)
                    return to_body(row)
                before = row.status
                if row.network is not None and network_refunds.pending_amount(session, row.id):
                    # Its network may pay that refund back as well as the reverse.
                    raise HostError("57", _REFUND_AT_NETWORK, field="out_trade_no")
                try:
                    step = apply_event(session, row, Reverse(), now)
                except IllegalTransition as exc:
                    raise HostError(exc.code, field="out_trade_no") from None
                if step.state is PaymentState.REVERSED and row.reason != "reversed_first":
                    row.reason = "reversed"
                if row.network is not None and before != row.status:
                    # The host owns the reverse at the network from here on.
                    network_legs.request_reverse(ctx, session, row, now)
                if before != row.status:
                    actor = audit.Actor.terminal(auth.terminal_id)
                    audit_step(
                        ctx,
                        session,
                        row,
                        actor,
                        "payment.reverse",
                        now,
                        before=before,
                        effect=str(step.effect),
                    )
                log.info("reversed %s/%s effect=%s", auth.merchant_id, out_trade_no, step.effect)
                return to_body(row)
        except _KeyTaken:
            continue
    raise HostError("96")
