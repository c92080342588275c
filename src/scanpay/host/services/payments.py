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

import base64
import binascii
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.codes import (
    CodeError,
    ConsumerPresentedCode,
    WalletCode,
    parse_payment_code,
)
from scanpay.codes.mask import mask_text
from scanpay.host.db.models import (
    LedgerAccount,
    Merchant,
    Order,
    Payment,
    WalletAccount,
)
from scanpay.host.domain import periods
from scanpay.host.domain.fingerprint import fingerprint
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.payment_state import (
    Authorised,
    Declined,
    Event,
    Expire,
    IllegalTransition,
    LatePayment,
    PaymentState,
    PinConfirmed,
    PinRejected,
    PinRequired,
    Reverse,
    transition,
)
from scanpay.host.domain.pin import PinState
from scanpay.host.domain.risk import Kind, RiskDecision, RiskOutcome, Rule
from scanpay.host.domain.wallet_codes import BUILTIN_AID
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, network_legs, risk, wallets
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.merchants import MoneyStep, require_standing
from scanpay.host.services.payment_steps import apply_event, audit_step
from scanpay.i18n import Text
from scanpay.money import MoneyError, get_currency
from scanpay.networks.port import Channel, PayRequest
from scanpay.networks.results import decline_message
from scanpay.protocol.models import (
    Message,
    PaymentRequest,
    PaymentStatus,
    TransactionsPage,
)
from scanpay.protocol.models import (
    Payment as PaymentBody,
)
from scanpay.protocol.result_codes import result_code

__all__ = [
    "REASONS",
    "Confirmation",
    "Created",
    "confirm_with_pin",
    "create_payment",
    "expire_due",
    "find_payment",
    "get_payment",
    "list_transactions",
    "message_for",
    "pin_wait",
    "reverse_payment",
    "risk_reason",
    "to_body",
]

log = logging.getLogger("scanpay.host.payments")

#: Specific messages for declines, more helpful to a cashier than the code's own.
REASONS: dict[str, Text] = {
    "bad_code": Text("付款码无效（无法识别或校验失败）", "The payment code is not valid"),
    "code_used": Text(
        "付款码已使用过，请顾客刷新", "The payment code was already used; ask for a new one"
    ),
    "atc_replay": Text(
        "付款码计数器未递增（疑似复制的旧码）",
        "The code's transaction counter did not rise (a copied old code?)",
    ),
    "expired": Text("付款码已过期，请顾客刷新", "The payment code has expired; ask for a new one"),
    "merchant_presented": Text(
        "这是商户收款码，不是顾客的付款码", "That is a merchant's QR code, not a payment code"
    ),
    "wallet_not_served": Text("本收单机构不受理该钱包", "This host does not accept that wallet"),
    "no_channel": Text(
        "本店未开通该钱包的收款，请顾客换一种方式付款",
        "This shop does not take this wallet: ask the customer to pay another way",
    ),
    "network_timeout": Text(
        "顾客未在时限内完成付款，交易已撤销（如已扣款将退回）",
        "The customer did not finish paying in time: the sale is cancelled"
        " (any money taken is returned)",
    ),
    "training_mismatch": Text(
        "训练模式只能用训练账户付款，正式交易不能用训练账户",
        "Training sales take training-wallet codes only, and real sales real ones",
    ),
    "currency_mismatch": Text("钱包币种与交易币种不符", "The wallet's currency is not the sale's"),
    "pin_locked": Text(
        "密码错误次数过多，账户已暂时锁定", "Too many wrong PINs; the account is locked for a while"
    ),
    "insufficient_funds": Text("余额不足", "Insufficient funds"),
    "pin_timeout": Text("顾客未在时限内确认", "The customer did not confirm in time"),
    "reversed_first": Text(
        "该订单已被撤销（撤销先于支付到达）", "This sale was reversed before its payment arrived"
    ),
    "reversed": Text(
        "订单已撤销，未扣款或已退回", "The sale is reversed; no money moved or it was returned"
    ),
    "risk": Text("交易被风控规则拒绝", "Declined by the risk rules"),
    "terminal_locked": Text(
        "本终端无效付款码过多，暂停收款一段时间",
        "Too many invalid codes at this terminal: its payments are paused for a while",
    ),
    "velocity": Text(
        "本终端收款过于频繁，请稍后再试", "Too many payments at this terminal: try again shortly"
    ),
    "merchant_limit": Text("超出商户交易限额", "Over the merchant's transaction limit"),
    "wallet_limit": Text("超出付款账户限额", "Over the payer account's limit"),
    "currency_limits": Text(
        "该币种尚未设置风控限额，暂不能收款，请联系收单机构",
        "No risk limits are set for this currency: the acquirer must set them first",
    ),
}

# The reason a risk decline is stored with: what the cashier is told.
_RISK_REASONS = {
    Rule.FAILED_CODES: "terminal_locked",
    Rule.VELOCITY: "velocity",
    Rule.TXN_AMOUNT: "merchant_limit",
    Rule.DAILY_AMOUNT: "merchant_limit",
    Rule.WALLET_TXN_AMOUNT: "wallet_limit",
    Rule.WALLET_DAILY_AMOUNT: "wallet_limit",
}


def risk_reason(decision: RiskDecision) -> str:
    """The stored reason for a risk decline (its first declining rule)."""
    first = next(r for r in decision.results if r.outcome is RiskOutcome.DECLINE)
    if first.unpriced:
        return "currency_limits"
    return _RISK_REASONS.get(first.rule, "risk")


def message_for(code: str, reason: str | None) -> Message:
    """The cashier's message for a result code, or the specific one for ``reason``
    (a network's decline: ``network:CODE``, in that network's words)."""
    text = REASONS.get(reason or "")
    if text is None and reason and ":" in reason:
        text = decline_message(*reason.split(":", 1))
    text = text or result_code(code).message
    return Message.model_validate(text.as_dict())


_message = message_for


def pin_wait(row: Payment, now: datetime | None) -> tuple[datetime | None, float | None]:
    """A payment waiting for the PIN: its deadline, and the seconds left at ``now``
    (never negative); ``(None, None)`` for any other payment or without ``now``.
    The host alone decides the deadline: the terminal and the wallet page count
    down to it (a terminal by the seconds left, since its clock may differ)."""
    if row.status != PaymentState.USER_PAYING or row.pin_deadline is None or now is None:
        return None, None
    left = max(0.0, (row.pin_deadline - now).total_seconds())
    return row.pin_deadline, round(left, 3)


def to_body(row: Payment, now: datetime | None = None) -> PaymentBody:
    """The API's view of a stored payment (``now``: the PIN deadline's seconds left)."""
    deadline, left = pin_wait(row, now)
    return PaymentBody(
        out_trade_no=row.out_trade_no,
        payment_id=row.public_id,
        status=PaymentStatus(row.status),
        code=row.code,
        message=_message(row.code, row.reason),
        amount=row.amount,
        currency=row.currency,
        wallet=row.wallet,
        payer=row.payer,
        refunded_amount=row.refunded_amount,
        training=row.training,
        created_at=row.created_at,
        paid_at=row.paid_at,
        pin_deadline=deadline,
        pin_expires_in=left,
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
        decided = _authorise(ctx, session, opening.mcc, auth, request, row, now)
        payer = decided.payer
        known: dict[str, ledger.KnownAccount] = {}
        if opening.clearing_pk is not None:
            kind = AccountKind(opening.clearing_kind)
            known[clearing] = (opening.clearing_pk, kind, opening.clearing_currency)
        if payer is not None and payer.number is not None:
            # A wallet's own ledger account is opened with it: a wallet account, its currency.
            code = ledger.wallet_code(payer.number)
            known[code] = (payer.ledger_account_id, AccountKind.WALLET, payer.currency)
        apply_event(session, row, decided.event, now, new=True, payer=payer, known=known)
        _store(session, row)
        leg_pk = None
        if decided.channel is not None:
            # Journaled before the call: a crash from here on leaves a leg to recover.
            leg_pk = network_legs.open_leg(ctx, session, row, now)
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
        if decided.channel is None:
            return Created(to_body(row, now), False)
        call = PayRequest(
            channel=decided.channel,
            trade_no=row.public_id,
            auth_code=request.auth_code,
            amount=row.amount,
            currency=row.currency,
            description=(request.description or opening.name or "scanpay")[:127],
        )
    # The network is called outside any transaction, the payment committed USER_PAYING.
    assert leg_pk is not None
    return Created(network_legs.pay(ctx, leg_pk, call, to_body), False)


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
    _expire_if_due(ctx, session, row, now)
    return Created(to_body(row, now), True)


@dataclass(frozen=True, slots=True)
class _Decided:
    """What authorising a new payment decided: the state machine's event, the risk
    decision, the payer's built-in account, and the network channel it is routed to."""

    event: Event
    risk: RiskDecision | None = None
    payer: WalletAccount | None = None
    channel: Channel | None = None


def _authorise(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    now: datetime,
) -> _Decided:
    """Parse the code, ask the risk rules, then route it to its issuer: a payment
    network through the merchant's channel (the call is made after commit), or the
    built-in wallet.

    The risk rules run before the issuer looks at the code: a terminal locked
    for too many failed codes gets no code checked at all.
    """
    try:
        code = parse_payment_code(request.auth_code, wallet_rules=ctx.wallet_rules)
    except CodeError:
        row.reason, row.payer = "bad_code", mask_text(request.auth_code[:64])
        return _Decided(Declined("14"))
    if not isinstance(code, WalletCode | ConsumerPresentedCode):
        row.reason, row.payer = "merchant_presented", None
        return _Decided(Declined("14"))
    if isinstance(code, WalletCode):
        row.wallet, row.payer = code.wallet, mask_text(code.payload)
    else:
        row.wallet = "scanpay" if BUILTIN_AID in code.aids else code.scheme
        row.payer = mask_text(code.pan) if code.pan else None
    if row.wallet != "scanpay":
        return _route(ctx, session, mcc, auth, request, row, now)
    claimed = wallets.claimed_account(ctx, code)
    account = wallets.load_claimed(session, claimed)  # read once: risk rules and issuer
    claimed_pk = account.id if account is not None else None
    decision = _risk(ctx, session, mcc, auth, request, row, claimed_pk, claimed)
    if decision.outcome is RiskOutcome.DECLINE:
        return _Decided(Declined(decision.code), decision, account)
    answer = wallets.authorise_code(
        ctx,
        session,
        code,
        amount=request.amount,
        currency=row.currency,
        training=request.training,
        account=account,
    )
    if answer.account is not None:
        row.wallet_account_id = answer.account.id
    if answer.verdict is wallets.CodeVerdict.DECLINE:
        row.reason = answer.reason
        if answer.reason in wallets.CODE_FAILURES:
            risk.record_failure(ctx, session, "terminal", auth.terminal_id, answer.reason or "")
        return _Decided(Declined(answer.code), decision, answer.account)
    if answer.verdict is wallets.CodeVerdict.PIN:
        row.pin_deadline = wallets.pin_deadline(ctx, now)
        return _Decided(PinRequired(), decision, answer.account)
    return _Decided(Authorised(), decision, answer.account)


def _risk(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    wallet_pk: int | None,
    wallet: str | None,
) -> RiskDecision:
    """The risk rules' decision on a new payment (its flags and decline reason set)."""
    decision = risk.evaluate(
        ctx,
        session,
        kind=Kind.PAYMENT,
        merchant_pk=auth.merchant_pk,
        merchant_id=auth.merchant_id,
        mcc=mcc,
        amount=request.amount,
        currency=row.currency,
        training=request.training,
        terminal_pk=auth.terminal_pk,
        terminal_id=auth.terminal_id,
        wallet_pk=wallet_pk,
        wallet=wallet,
        exclude_payment=row.id,
    )
    row.risk_flags = decision.flags
    if decision.outcome is RiskOutcome.DECLINE:
        row.reason = risk_reason(decision)
    return decision


def _route(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    now: datetime,
) -> _Decided:
    """A code another network issued: through the merchant's channel to that network,
    the payment waiting (USER_PAYING) while the network decides."""
    assert row.wallet is not None
    if request.training:
        # Training sales never reach a real network.
        row.reason = "training_mismatch"
        return _Decided(Declined("57"))
    channel = channel_for(ctx, auth.merchant_pk, row.wallet, session=session)
    if channel is None:
        row.reason = "no_channel"
        return _Decided(Declined("57"))
    decision = _risk(ctx, session, mcc, auth, request, row, None, None)
    if decision.outcome is RiskOutcome.DECLINE:
        return _Decided(Declined(decision.code), decision)
    row.network = channel.network
    # What the terminal counts down to: the leg's own deadline from the pay call.
    row.pin_deadline = now + timedelta(seconds=ctx.leg_rules.deadline)
    return _Decided(PinRequired(), decision, None, channel)


def _expire_if_due(ctx: HostContext, session: Session, row: Payment, now: datetime) -> bool:
    """Fail a USER_PAYING payment whose PIN deadline passed (the caller holds its row lock)."""
    if (
        row.status == PaymentState.USER_PAYING
        and row.network is None  # a network's payment waits for its leg, not a clock
        and row.pin_deadline
        and now >= row.pin_deadline
    ):
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
            if row is not None and _expire_if_due(ctx, session, row, now):
                done += 1
    return done


def get_payment(ctx: HostContext, auth: TerminalIdentity, out_trade_no: str) -> PaymentBody:
    """The current state of one of the merchant's payments (404 for anything else)."""
    with ctx.db.read() as session:
        row = _find(session, auth.merchant_pk, out_trade_no, lock=False)
        if row is None:
            # Another merchant's trade number looks exactly like one that does not exist.
            raise HostError("25", field="out_trade_no")
        now = ctx.now()
        due = (
            row.status == PaymentState.USER_PAYING
            and row.network is None
            and row.pin_deadline is not None
            and now >= row.pin_deadline
        )
        if not due:
            return to_body(row, now)
    with ctx.db.write() as session:
        row = _find(session, auth.merchant_pk, out_trade_no, lock=True)
        assert row is not None  # rows are never deleted
        now = ctx.now()
        _expire_if_due(ctx, session, row, now)
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


# ----------------------------------------------------------------------------------------
# The customer's PIN confirmation.


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
        _expire_if_due(ctx, session, row, now)
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
            _message(code, row.reason if code == row.code else None),
            tries,
            merchant.name,
        )


# ----------------------------------------------------------------------------------------
# The merchant's list.


def _encode_cursor(row: Payment) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None or not isinstance(pk, int):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise HostError(
            "30", Text("分页游标无效", "the cursor is not valid"), field="cursor"
        ) from None
    # A made-up time at the edge of the calendar would overflow on its way to UTC.
    return periods.check_time(when, UTC, "cursor"), pk


def list_transactions(
    ctx: HostContext,
    auth: TerminalIdentity,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: PaymentStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> TransactionsPage:
    """The merchant's payments, newest first; ``start`` inclusive, ``end`` exclusive."""
    zone = ctx.settings.zone
    query = select(Payment).where(
        Payment.merchant_id == auth.merchant_pk, Payment.request_hash.is_not(None)
    )
    # Refused with 400/30 outside the calendar's sane span (an edge date overflows in UTC).
    if start is not None:
        query = query.where(Payment.created_at >= periods.check_time(start, zone, "from"))
    if end is not None:
        query = query.where(Payment.created_at < periods.check_time(end, zone, "to"))
    if status is not None:
        query = query.where(Payment.status == status.value)
    if cursor:
        when, pk = _decode_cursor(cursor)
        query = query.where(
            or_(Payment.created_at < when, and_(Payment.created_at == when, Payment.id < pk))
        )
    query = query.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit + 1)
    with ctx.db.read() as session:
        rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return TransactionsPage(
        items=[to_body(r) for r in rows],
        next_cursor=_encode_cursor(rows[-1]) if more and rows else None,
    )
