"""Merchant-presented orders: the terminal shows a QR, the customer's wallet pays it.

- :func:`create_order` (idempotent on merchant + ``out_trade_no``, like
  payments) builds the dynamic EMV code (:func:`scanpay.host.domain.orders.order_payload`);
- :func:`get_order` / :func:`close_order` for the terminal; an order whose
  ``expires_at`` has passed becomes EXPIRED on any access, and the sweeper
  (:func:`expire_due`) does it for orders nobody looks at;
- :func:`preview` and :func:`pay` are the built-in wallet's side: the customer
  sees payee and amount, then pays with a one-time code of their wallet (and
  the PIN above the account's PIN amount, as for payments).

Every change happens under the order's row lock, so a payment, a close and an
expiry racing each other (in any number of host processes) are applied one
after the other. A payment that finds its order expired or closed is captured
and refunded in the same transaction (the customer's wallet let the money go;
the host gives it back), and the wallet is told so.
"""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import segno
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from scanpay.codes import (
    CodeError,
    ConsumerPresentedCode,
    MerchantPresentedCode,
    WalletCode,
    parse_payment_code,
)
from scanpay.codes.mask import mask_text
from scanpay.host.db.models import Merchant, Order, Payment, Refund, WalletAccount
from scanpay.host.domain import ledger as rules
from scanpay.host.domain.fingerprint import fingerprint
from scanpay.host.domain.ledger import Book
from scanpay.host.domain.orders import (
    Close,
    Expire,
    IllegalOrderTransition,
    OrderEffect,
    OrderState,
    Pay,
    is_due,
    order_payload,
    order_transition,
)
from scanpay.host.domain.parties import MerchantStatus
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.pin import PinState
from scanpay.host.domain.refunds import RefundPlan
from scanpay.host.domain.risk import Kind, RiskOutcome
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, risk, wallets
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.host.services.merchants import MoneyStep, require_standing
from scanpay.host.services.payment_steps import apply_refund
from scanpay.host.services.payment_views import REASONS, risk_reason
from scanpay.i18n import Text
from scanpay.money import MoneyError, get_currency
from scanpay.protocol.models import Order as OrderBody
from scanpay.protocol.models import OrderRequest, OrderStatus
from scanpay.protocol.result_codes import result_code

__all__ = [
    "OrderCreated",
    "PayOutcome",
    "Preview",
    "close_order",
    "create_order",
    "expire_due",
    "get_order",
    "order_topic",
    "pay",
    "preview",
    "render_qr",
    "to_body",
]

log = logging.getLogger("scanpay.host.orders")

_PAYEE_SCHEME = "scanpay"


def order_topic(merchant_pk: int, out_trade_no: str) -> str:
    """The key a change of this order is announced under (long-polls and event streams)."""
    return f"{merchant_pk}:{out_trade_no}"


def _paid_with(row: Order) -> str | None:
    """The wallet that paid the order (its payment's), read in the row's own session."""
    session = object_session(row)
    if row.payment_id is None or session is None:
        return None
    return session.scalar(select(Payment.wallet).where(Payment.id == row.payment_id))


def to_body(row: Order) -> OrderBody:
    """The API's view of a stored order."""
    base = f"/v1/orders/{quote(row.out_trade_no, safe='')}"
    return OrderBody(
        out_trade_no=row.out_trade_no,
        order_id=row.public_id,
        status=OrderStatus(row.status),
        amount=row.amount,
        currency=row.currency,
        description=row.description,
        payload=row.payload,
        qr_png_url=f"{base}/qr.png",
        qr_svg_url=f"{base}/qr.svg",
        payer=row.payer,
        wallet=_paid_with(row),
        created_at=row.created_at,
        expires_at=row.expires_at,
        paid_at=row.paid_at,
    )


@dataclass(frozen=True, slots=True)
class OrderCreated:
    order: OrderBody
    replayed: bool


class _NumberTaken(Exception):
    pass


def _audit(
    session: Session,
    row: Order,
    actor: audit.Actor,
    action: str,
    now: datetime,
    *,
    before: str | None,
    **extra: Any,
) -> None:
    merchant = session.get(Merchant, row.merchant_id)
    assert merchant is not None
    audit.record(
        session,
        now,
        actor,
        action,
        ("order", row.public_id),
        merchant=merchant.public_id,
        out_trade_no=row.out_trade_no,
        amount=row.amount,
        currency=row.currency,
        before=before,
        status=row.status,
        **extra,
    )


def create_order(ctx: HostContext, auth: TerminalIdentity, request: OrderRequest) -> OrderCreated:
    """A new order and its QR payload; a retry gets the stored order, a different body 95."""
    try:
        currency = get_currency(request.currency).alpha
    except MoneyError as exc:
        raise HostError("13", exc.text, field="currency") from None
    digest = fingerprint(request.model_dump(mode="json"))
    for _ in range(3):
        try:
            created = _create_once(ctx, auth, request, currency, digest)
        except _NumberTaken:
            continue
        if not created.replayed:
            ctx.metrics.order(OrderState.CREATED)
        return created
    raise HostError("96")


def _create_once(
    ctx: HostContext, auth: TerminalIdentity, request: OrderRequest, currency: str, digest: str
) -> OrderCreated:
    now = ctx.now()
    with ctx.db.write() as session:
        existing = _find(session, auth.merchant_pk, request.out_trade_no, lock=True)
        if existing is not None:
            if existing.request_hash != digest:
                raise HostError("95", field="out_trade_no")
            _expire_if_due(ctx, session, existing, now)
            return OrderCreated(to_body(existing), True)
        merchant = session.get(Merchant, auth.merchant_pk)
        assert merchant is not None
        require_standing(merchant.status, MoneyStep.ORDER)
        if currency != merchant.currency:
            raise HostError(
                "31",
                Text(f"该商户只收 {merchant.currency}", f"this merchant takes {merchant.currency}"),
                field="currency",
            )
        taken = session.scalar(
            select(Payment.id).where(
                Payment.merchant_id == merchant.id, Payment.out_trade_no == request.out_trade_no
            )
        )
        if taken is not None:
            # One trade number, one sale: a payment already uses it.
            raise HostError("95", field="out_trade_no")
        public_id = "O" + secrets.token_hex(8).upper()
        row = Order(
            public_id=public_id,
            merchant_id=merchant.id,
            terminal_id=auth.terminal_pk,
            out_trade_no=request.out_trade_no,
            request_hash=digest,
            status=OrderState.CREATED,
            amount=request.amount,
            currency=currency,
            description=request.description,
            payload=order_payload(
                payee=merchant.payee or merchant.public_id,
                reference=public_id,
                merchant_name=merchant.name,
                merchant_city=merchant.city,
                mcc=merchant.mcc,
                currency=currency,
                country=ctx.settings.country,
                amount=request.amount,
            ),
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=request.expires_in),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise _NumberTaken from None
        _audit(
            session,
            row,
            audit.Actor.terminal(auth.terminal_id),
            "order.create",
            now,
            before=None,
            expires_at=row.expires_at.isoformat(),
        )
        log.info(
            "order %s %s/%s %s %s",
            public_id,
            auth.merchant_id,
            row.out_trade_no,
            row.amount,
            row.currency,
        )
        return OrderCreated(to_body(row), False)


def _find(session: Session, merchant_pk: int, out_trade_no: str, *, lock: bool) -> Order | None:
    query = select(Order).where(
        Order.merchant_id == merchant_pk, Order.out_trade_no == out_trade_no
    )
    return session.scalar(query.with_for_update() if lock else query)


def _expire_if_due(ctx: HostContext, session: Session, row: Order, now: datetime) -> bool:
    """EXPIRED when its time has passed (the caller holds the row lock)."""
    if not is_due(OrderState(row.status), row.expires_at, now):
        return False
    step = order_transition(OrderState(row.status), Expire())
    row.status, row.updated_at = step.state, now
    _audit(session, row, audit.HOST, "order.expire", now, before=OrderState.CREATED)
    ctx.metrics.order(step.state)
    return True


def _not_found() -> HostError:
    return HostError("25", Text("找不到该订单", "no such order"), field="out_trade_no")


def get_order(ctx: HostContext, merchant_pk: int, out_trade_no: str) -> OrderBody:
    """The order's current state (it expires here when its time has passed)."""
    with ctx.db.read() as session:
        row = _find(session, merchant_pk, out_trade_no, lock=False)
        if row is None:
            raise _not_found()
        if not is_due(OrderState(row.status), row.expires_at, ctx.now()):
            return to_body(row)
    with ctx.db.write() as session:
        row = _find(session, merchant_pk, out_trade_no, lock=True)
        assert row is not None  # orders are never deleted
        changed = _expire_if_due(ctx, session, row, ctx.now())
        body = to_body(row)
    if changed:
        ctx.announce("order", order_topic(merchant_pk, out_trade_no))
    return body


def close_order(ctx: HostContext, auth: TerminalIdentity, out_trade_no: str) -> OrderBody:
    """Close an unpaid order (CREATED or EXPIRED -> CLOSED); a paid one stays PAID and the
    answer says so. Idempotent. A payment that arrives later is refunded at once."""
    now = ctx.now()
    with ctx.db.write() as session:
        row = _find(session, auth.merchant_pk, out_trade_no, lock=True)
        if row is None:
            raise _not_found()
        _expire_if_due(ctx, session, row, now)
        before = row.status
        step = order_transition(OrderState(row.status), Close())
        row.status, row.updated_at = step.state, now
        if before != row.status:
            _audit(
                session,
                row,
                audit.Actor.terminal(auth.terminal_id),
                "order.close",
                now,
                before=before,
            )
            ctx.metrics.order(step.state)
        body = to_body(row)
    ctx.announce("order", order_topic(auth.merchant_pk, out_trade_no))
    return body


def expire_due(ctx: HostContext, limit: int = 200) -> int:
    """Expire the CREATED orders whose time has passed (the sweeper). Each is re-checked
    under its row lock, so host processes sweeping at once expire each order once."""
    now = ctx.now()
    with ctx.db.read() as session:
        due = session.execute(
            select(Order.id, Order.merchant_id, Order.out_trade_no)
            .where(Order.status == OrderState.CREATED, Order.expires_at <= now)
            .limit(limit)
        ).all()
    done = 0
    for pk, merchant_pk, number in due:
        with ctx.db.write() as session:
            row = session.get(Order, pk, with_for_update=True)
            changed = row is not None and _expire_if_due(ctx, session, row, now)
        if changed:
            done += 1
            ctx.announce("order", order_topic(merchant_pk, number))
    return done


def render_qr(payload: str, kind: str) -> bytes:
    """The order's QR as ``png`` or ``svg`` (error correction M, quiet zone 4)."""
    qr = segno.make_qr(payload, error="m")
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=8, border=4, xmldecl=False)
    else:
        qr.save(out, kind="png", scale=8, border=4)
    return out.getvalue()


# ---------------------------------------------------------------------------- wallet side


@dataclass(frozen=True, slots=True)
class Preview:
    """What the customer's wallet shows before paying."""

    order_id: str
    merchant_name: str
    merchant_city: str
    mcc: str
    amount: int
    currency: str
    description: str | None
    status: str
    expires_at: datetime
    payable: bool
    pin_required: bool | None


def _bad_payload(en: str, zh: str) -> HostError:
    return HostError("30", Text(zh, en), field="payload")


def _locate(session: Session, payload: str) -> tuple[Order, Merchant]:
    """The order a scanned payload names, checked against what the host issued."""
    try:
        code = parse_payment_code(payload)
    except CodeError as exc:
        raise HostError("30", exc.text, field="payload") from None
    if not isinstance(code, MerchantPresentedCode):
        raise _bad_payload("not a merchant's QR code", "这不是商户收款码")
    payee = next(
        (a.payee for a in code.merchant_accounts if a.scheme == _PAYEE_SCHEME and a.payee), None
    )
    reference = code.additional_data.reference_label if code.additional_data else None
    if payee is None or reference is None:
        raise _bad_payload("not an order of this host", "不是本机构的订单码")
    row = session.scalar(select(Order).where(Order.public_id == reference))
    merchant = session.get(Merchant, row.merchant_id) if row is not None else None
    if row is None or merchant is None or (merchant.payee or merchant.public_id) != payee:
        raise HostError("25", Text("找不到该订单", "no such order"), field="payload")
    if code.payload != row.payload:
        # The CRC is right but the content is not what the host issued (amount, payee...).
        raise _bad_payload("the code does not match its order", "收款码与订单不符")
    return row, merchant


def preview(ctx: HostContext, payload: str, account: str | None = None) -> Preview:
    """Payee and amount of a scanned order QR, and whether this account needs its PIN."""
    with ctx.db.read() as session:
        row, merchant = _locate(session, payload)
        pin_required = None
        if account is not None:
            found = session.scalar(select(WalletAccount).where(WalletAccount.number == account))
            pin_required = found.pin_above < row.amount if found is not None else None
        status = OrderState(row.status)
        if is_due(status, row.expires_at, ctx.now()):
            status = OrderState.EXPIRED
        return Preview(
            row.public_id,
            merchant.name,
            merchant.city,
            merchant.mcc,
            row.amount,
            row.currency,
            row.description,
            status,
            row.expires_at,
            # An open order of a suspended merchant is not paid (see :func:`pay`).
            status is OrderState.CREATED and merchant.status == MerchantStatus.APPROVED,
            pin_required,
        )


@dataclass(frozen=True, slots=True)
class PayOutcome:
    """The wallet's answer: ``code`` 00 paid; 12 the order was closed or expired (money
    refunded at once when ``refunded``) or already paid; 14/54 code; 51 funds; 55 PIN
    (``tries_left``); 57 risk rules or wallet; 75 PIN locked."""

    code: str
    message: Text
    order_id: str
    order_status: str
    merchant_name: str
    amount: int
    currency: str
    payment_id: str | None = None
    refunded: bool = False
    tries_left: int | None = None


_PAY_TEXTS = {
    "paid": Text("支付成功", "Paid"),
    "already_paid": Text(
        "该订单已支付，未重复扣款", "This order is already paid; nothing was taken"
    ),
    "late": Text(
        "订单已关闭或过期，款项已原路退回",
        "The order was closed or had expired: your payment was refunded at once",
    ),
    "closed": Text("订单已关闭，未扣款", "The order is closed; nothing was taken"),
    "pin_needed": Text("该金额需要输入支付密码", "This amount needs the PIN"),
    "not_builtin": Text("只能用本机构钱包的付款码", "Pay with a code of this host's wallet"),
    "wallet_locked": Text(
        "该账户无效付款码过多，暂停付款一段时间",
        "Too many invalid codes for this account: its payments are paused for a while",
    ),
}


def _pay_text(code: str, reason: str | None) -> Text:
    if reason and reason in _PAY_TEXTS:
        return _PAY_TEXTS[reason]
    if reason and reason in REASONS:
        return REASONS[reason]
    return result_code(code).message


def pay(ctx: HostContext, payload: str, auth_code: str, pin: str | None = None) -> PayOutcome:
    """The customer's wallet pays a scanned order QR with one of its one-time codes.

    A suspended merchant's order is refused (58) before anything is checked or
    changed: the order stays open (it expires, or is paid if the merchant is
    reinstated first) and the customer's code is not used up.
    """
    try:
        code = parse_payment_code(auth_code, wallet_rules=ctx.wallet_rules)
    except CodeError as exc:
        raise HostError("30", exc.text, field="auth_code") from None
    if not isinstance(code, WalletCode | ConsumerPresentedCode):
        raise HostError("30", _PAY_TEXTS["not_builtin"], field="auth_code")
    claimed = wallets.claimed_account(ctx, code)
    pin_ok: bool | None = None
    if pin is not None and claimed is not None:
        with ctx.db.read() as session:
            pin_hash = session.scalar(
                select(WalletAccount.pin_hash).where(WalletAccount.number == claimed)
            )
        # The slow hash check runs outside the transaction, as for PIN confirmations.
        pin_ok = wallets.pin_matches(ctx, pin_hash, pin) if pin_hash else False
    with ctx.db.write() as session:
        located, _ = _locate(session, payload)
        # Lock, and re-read: the copy _locate read may be older than the committed row.
        order = session.get(Order, located.id, with_for_update=True, populate_existing=True)
        assert order is not None
        outcome = _pay_locked(ctx, session, order, code, claimed, pin, pin_ok)
        topic = order_topic(order.merchant_id, order.out_trade_no)
    ctx.announce("order", topic)
    return outcome


def _pay_locked(
    ctx: HostContext,
    session: Session,
    order: Order,
    code: WalletCode | ConsumerPresentedCode,
    claimed: str | None,
    pin: str | None,
    pin_ok: bool | None,
) -> PayOutcome:
    now = ctx.now()
    merchant = session.get(Merchant, order.merchant_id)
    assert merchant is not None
    # First: a refusal raises, the transaction rolls back, nothing is stored or used up.
    require_standing(merchant.status, MoneyStep.ORDER_PAYMENT)
    _expire_if_due(ctx, session, order, now)
    actor = audit.Actor.wallet(claimed or "unknown")

    def answer(code_: str, reason: str | None, **extra: Any) -> PayOutcome:
        audit.record(
            session,
            now,
            actor,
            "order.pay",
            ("order", order.public_id),
            merchant=merchant.public_id,
            out_trade_no=order.out_trade_no,
            amount=order.amount,
            currency=order.currency,
            status=order.status,
            code=code_,
            reason=reason,
            payment_id=extra.get("payment_id"),
            refunded=extra.get("refunded", False),
            risk=extra.pop("risk", None),
        )
        return PayOutcome(
            code_,
            _pay_text(code_, reason),
            order.public_id,
            order.status,
            merchant.name,
            order.amount,
            order.currency,
            **extra,
        )

    try:
        step = order_transition(OrderState(order.status), Pay())
    except IllegalOrderTransition as exc:
        return answer(exc.code, "already_paid")
    if step.effect is OrderEffect.CAPTURE_AND_REFUND and _number_taken(session, order):
        # A late payment was already taken and given back: one is enough.
        return answer("12", "closed")
    account_pk = (
        session.scalar(select(WalletAccount.id).where(WalletAccount.number == claimed))
        if claimed
        else None
    )
    decision = risk.evaluate(
        ctx,
        session,
        kind=Kind.ORDER_PAYMENT,
        merchant_pk=merchant.id,
        merchant_id=merchant.public_id,
        mcc=merchant.mcc,
        amount=order.amount,
        currency=order.currency,
        wallet_pk=account_pk,
        wallet=claimed,
    )
    results = [r.to_dict() for r in decision.results]
    if decision.outcome is RiskOutcome.DECLINE:
        reason = risk_reason(decision)
        ctx.metrics.payment("order_payment", "FAILED", "57")
        return answer(
            "57", "wallet_locked" if reason == "terminal_locked" else reason, risk=results
        )
    verdict = wallets.authorise_code(
        ctx, session, code, amount=order.amount, currency=order.currency, training=False
    )
    if verdict.verdict is wallets.CodeVerdict.DECLINE:
        if verdict.reason in wallets.CODE_FAILURES and claimed is not None:
            risk.record_failure(ctx, session, "wallet", claimed, verdict.reason or "")
        ctx.metrics.payment("order_payment", "FAILED", verdict.code)
        return answer(verdict.code, verdict.reason, risk=results)
    account = verdict.account
    assert account is not None and account.number is not None
    if verdict.verdict is wallets.CodeVerdict.PIN:
        policy = ctx.settings.pin_policy
        locked = session.get(
            WalletAccount, account.id, with_for_update=True, populate_existing=True
        )
        assert locked is not None
        if pin is None:
            return answer("55", "pin_needed", risk=results)
        if not pin_ok:
            after = policy.failure(PinState(locked.pin_failures, locked.locked_until), now)
            locked.pin_failures, locked.locked_until = after.failures, after.locked_until
            is_locked = policy.is_locked(after, now)
            ctx.metrics.payment("order_payment", "FAILED", "75" if is_locked else "55")
            return answer(
                "75" if is_locked else "55",
                "pin_locked" if is_locked else None,
                tries_left=policy.tries_left(after, now),
                risk=results,
            )
        locked.pin_failures, locked.locked_until = 0, None
    payment = _capture(ctx, session, order, account, code, now)
    if isinstance(payment, str):
        code_ = "51" if payment == "insufficient_funds" else "12"
        ctx.metrics.payment("order_payment", "FAILED", code_)
        return answer(code_, payment, risk=results)
    before = order.status
    if step.effect is OrderEffect.CAPTURE:
        order.status, order.payment_id = step.state, payment.id
        order.payer, order.paid_at, order.updated_at = payment.payer, now, now
        ctx.metrics.order(step.state)
        ctx.metrics.payment("order_payment", payment.status, payment.code)
        log.info("order %s paid by payment %s", order.public_id, payment.public_id)
        return answer("00", "paid", payment_id=payment.public_id, risk=results)
    # A payment after close or expiry: captured above, now back to the payer at once.
    _refund_late(ctx, session, payment, order, now)
    ctx.metrics.payment("order_payment", payment.status, payment.code)
    log.info("late payment %s for %s order %s refunded", payment.public_id, before, order.public_id)
    return answer("12", "late", payment_id=payment.public_id, refunded=True, risk=results)


def _capture(
    ctx: HostContext,
    session: Session,
    order: Order,
    account: WalletAccount,
    code: WalletCode | ConsumerPresentedCode,
    now: datetime,
) -> Payment | str:
    """The order's payment row and its capture; or why nothing was kept
    (``insufficient_funds``, or ``closed`` when a payment took the trade number first)."""
    merchant = session.get(Merchant, order.merchant_id)
    assert merchant is not None and account.number is not None
    payer = mask_text(code.payload) if isinstance(code, WalletCode) else mask_text(code.pan or "")
    payment = Payment(
        public_id="P" + secrets.token_hex(12).upper(),
        merchant_id=order.merchant_id,
        terminal_id=order.terminal_id,
        out_trade_no=order.out_trade_no,
        request_hash=fingerprint({"order": order.public_id}),
        status=PaymentState.SUCCESS,
        code="00",
        amount=order.amount,
        currency=order.currency,
        wallet="scanpay",
        payer=payer,
        wallet_account_id=account.id,
        training=False,
        tombstone=False,
        description=order.description,
        refunded_amount=0,
        created_at=now,
        updated_at=now,
        paid_at=now,
    )
    entry = rules.capture(
        Book.REAL,
        order.currency,
        ledger.wallet_code(account.number),
        ledger.clearing_code(merchant.public_id, Book.REAL),
        order.amount,
    )
    try:
        # A savepoint: a refused capture (or a trade number a payment took) keeps nothing.
        with session.begin_nested():
            session.add(payment)
            session.flush()
            ledger.post(session, entry, kind="capture", now=now, payment_id=payment.id)
    except ledger.InsufficientFunds:
        return "insufficient_funds"
    except IntegrityError:
        return "closed"
    audit.record(
        session,
        now,
        audit.Actor.wallet(account.number),
        "payment.create",
        ("payment", payment.public_id),
        merchant=merchant.public_id,
        out_trade_no=payment.out_trade_no,
        order_id=order.public_id,
        amount=payment.amount,
        currency=payment.currency,
        before=None,
        status=payment.status,
        code=payment.code,
        wallet=payment.wallet,
        payer=payment.payer,
    )
    return payment


def _number_taken(session: Session, order: Order) -> bool:
    return (
        session.scalar(
            select(Payment.id).where(
                Payment.merchant_id == order.merchant_id,
                Payment.out_trade_no == order.out_trade_no,
            )
        )
        is not None
    )


def _refund_late(
    ctx: HostContext, session: Session, payment: Payment, order: Order, now: datetime
) -> None:
    row = Refund(
        public_id="R" + secrets.token_hex(12).upper(),
        merchant_id=payment.merchant_id,
        terminal_id=None,
        payment_id=payment.id,
        # Not a terminal's number: ':' is outside the trade-number alphabet, so no clash.
        out_refund_no=f"auto:{order.public_id}",
        request_hash=None,
        status="FAILED",
        code="96",
        reason=f"order {order.status.lower()} before its payment arrived",
        requested_by=str(audit.HOST),
        amount=payment.amount,
        currency=payment.currency,
        training=False,
        created_at=now,
    )
    session.add(row)
    session.flush()
    plan = RefundPlan(PaymentState.REFUNDED, payment.amount)
    apply_refund(ctx, session, payment, plan, row, now)
    merchant = session.get(Merchant, payment.merchant_id)
    assert merchant is not None
    audit.record(
        session,
        now,
        audit.HOST,
        "refund.auto",
        ("refund", row.public_id),
        merchant=merchant.public_id,
        out_refund_no=row.out_refund_no,
        out_trade_no=payment.out_trade_no,
        payment_id=payment.public_id,
        order_id=order.public_id,
        order_status=order.status,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
        code=row.code,
    )
    ctx.metrics.refund(row.status, row.code)
