"""A payment as the terminal API shows it, and the cashier's words for its outcome.

The result code says what happened; :data:`REASONS` (or, for a network's decline,
that network's own words) says it in a way a cashier can act on.
"""

from __future__ import annotations

from datetime import datetime

from scanpay.host.db.models import (
    Payment,
)
from scanpay.host.domain.payment_state import (
    PaymentState,
)
from scanpay.host.domain.risk import RiskDecision, RiskOutcome, Rule
from scanpay.i18n import Text
from scanpay.networks.results import decline_message
from scanpay.protocol.models import (
    Message,
    PaymentStatus,
)
from scanpay.protocol.models import (
    Payment as PaymentBody,
)
from scanpay.protocol.result_codes import result_code

__all__ = ["REASONS", "message_for", "pin_wait", "risk_reason", "to_body"]

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
        message=message_for(row.code, row.reason),
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
