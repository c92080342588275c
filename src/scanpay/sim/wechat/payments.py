"""The network's rules for a code payment: the same for API v2 and API v3.

- A valid code (one-time, expiring) debits its wallet and credits the merchant: SUCCESS.
- When the wallet asks for its password at that amount (above its limit), the answer
  is USERPAYING; the order completes after the wallet's delay, or when the customer
  confirms or cancels on ``/sim/pay/{transaction_id}``: SUCCESS, or PAYERROR.
- The same out_trade_no again: the same request (code and amount) gets the order's
  answer (ORDERPAID, ORDERCLOSED, ORDERREVERSED, USERPAYING, its decline again), or
  goes on if it had stopped at a system error (NOTPAY); anything else is OUT_TRADE_NO_USED.

A delay falls due lazily, whenever the order is read (query, reverse, refund, the
page, the admin endpoints): no timers, and a test's clock decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scanpay.sim.common.clock import BEIJING, Clock
from scanpay.sim.common.codes import issue_code
from scanpay.sim.common.crypto import code_hash, random_digits
from scanpay.sim.wechat.outcomes import Chosen, Outcome
from scanpay.sim.wechat.store import Merchant, Order, Store
from scanpay.sim.wechat.wire import STATE_DESC, Refusal

__all__ = ["CODE_PREFIXES", "Network", "Paid", "PayRequest", "valid_code"]

CODE_PREFIXES = ("10", "11", "12", "13", "14", "15")
_USERPAYING = {Outcome.USERPAYING_SUCCESS, Outcome.USERPAYING_FAIL, Outcome.USERPAYING_NEVER}
# Outcomes the order remembers: they shape its later steps.
_REMEMBERED = _USERPAYING | {Outcome.REVERSE_RECALL, Outcome.REFUND_PROCESSING}
_DELIVERY = {Outcome.SLOW, Outcome.CHARGED_NO_REPLY, Outcome.WRONG_SIGNATURE}


def valid_code(code: str) -> bool:
    """WeChat Pay's payment code: 18 digits starting 10 to 15."""
    return len(code) == 18 and code.isdigit() and code[:2] in CODE_PREFIXES


@dataclass(frozen=True)
class PayRequest:
    owner: Merchant  # whose order: a direct merchant, or the sub-merchant
    sp: Merchant | None  # the service provider, in the partner form
    appid: str
    sub_appid: str | None
    out_trade_no: str
    auth_code: str
    total: int
    currency: str
    description: str
    attach: str | None
    device: str | None
    api: str


@dataclass(frozen=True)
class Paid:
    """The order after a pay call, and how a code's outcome wants the reply delivered."""

    order: Order
    delivery: Chosen | None = None


class Network:
    """Payments on the store, at the clock's time."""

    def __init__(self, store: Store, clock: Clock, code_ttl: float = 60.0) -> None:
        self.store = store
        self.clock = clock
        self.code_ttl = code_ttl

    # codes

    def issue_code(
        self, wallet_id: int, outcome: Outcome | None = None, seconds: float | None = None
    ) -> tuple[str, datetime]:
        """A fresh one-time code for a wallet, and when it expires."""
        return issue_code(
            self.store,
            self.clock.now(),
            self.code_ttl,
            CODE_PREFIXES,
            wallet_id,
            outcome=outcome.value if outcome else None,
            seconds=seconds,
        )

    # pay

    def pay(self, request: PayRequest, header: Chosen | None = None) -> Paid:
        """Pay, or a :class:`Refusal` (raised after the state it leaves is committed)."""
        with self.store.transaction():
            result = self._pay(request, header, self.clock.now())
        if isinstance(result, Refusal):
            raise result
        return result

    def _pay(self, request: PayRequest, header: Chosen | None, now: datetime) -> Paid | Refusal:
        hashed = code_hash(request.auth_code)
        existing = self.store.order(request.owner.mchid, request.out_trade_no)
        if existing is not None:
            existing = self.settle_at(existing, now)
            if existing.code_hash != hashed or existing.total != request.total:
                return Refusal(
                    "OUT_TRADE_NO_USED", "商户订单号重复，同一订单号不能用于不同的付款码或金额"
                )
            answer = _repeat_answer(existing)
            if answer is not None:
                return answer
        code = self.store.code(hashed)
        chosen = header
        if chosen is None and code is not None and code.outcome and not code.outcome_fired:
            chosen = Chosen(Outcome(code.outcome), code.seconds)
            self.store.update_code(hashed, outcome_fired=1)
        if chosen is not None and chosen.outcome in (Outcome.SYSTEMERROR, Outcome.BANKERROR):
            # Nothing reached the wallet: the order waits, unpaid, for the same request again.
            if existing is None:
                self.store.add_order(self._new_order(request, hashed, None, now))
            if chosen.outcome is Outcome.BANKERROR:
                return Refusal("BANKERROR", "银行系统异常，请用相同参数重新调用")
            return Refusal("SYSTEMERROR", "系统超时，请用相同参数重新调用")
        if code is None or code.used_at is not None:
            return Refusal("AUTH_CODE_INVALID", "付款码无效或已使用，请用户刷新后重新扫码")
        if (
            chosen is not None and chosen.outcome is Outcome.AUTHCODEEXPIRE
        ) or code.expires_at <= now:
            self.store.update_code(hashed, used_at=now)
            return Refusal("AUTHCODEEXPIRE", "二维码已过期，请用户在微信上刷新后再试")
        self.store.update_code(hashed, used_at=now)
        wallet = self.store.wallet(code.wallet_id)
        assert wallet is not None  # codes reference wallets
        order = existing or self._new_order(request, hashed, None, now)
        order = replace(order, wallet_id=wallet.id, openid=wallet.openid)
        if chosen is not None and chosen.outcome in _REMEMBERED:
            order = replace(order, outcome=chosen.outcome.value, seconds=chosen.seconds)
        delivery = chosen if chosen is not None and chosen.outcome in _DELIVERY else None
        asks = wallet.password_above is not None and request.total > wallet.password_above
        outcome = chosen.outcome if chosen is not None else None
        if outcome is Outcome.NOTENOUGH or (
            outcome not in _USERPAYING and not asks and wallet.balance < request.total
        ):
            order = replace(
                order, state="PAYERROR", state_desc="支付失败，余额不足", err_code="NOTENOUGH"
            )
            self._save(existing, order)
            return Refusal("NOTENOUGH", "用户余额不足，请提示用户换卡或充值")
        if outcome in _USERPAYING or asks:
            due_at: datetime | None = None
            due_result = "SUCCESS"
            if outcome is Outcome.USERPAYING_FAIL:
                due_result = "PAYERROR"
            if outcome in (Outcome.USERPAYING_SUCCESS, Outcome.USERPAYING_FAIL):
                due_at = now + timedelta(seconds=chosen.delay if chosen else 0.0)
            elif outcome is not Outcome.USERPAYING_NEVER and wallet.password_seconds is not None:
                due_at = now + timedelta(seconds=wallet.password_seconds)
            order = replace(
                order,
                state="USERPAYING",
                state_desc=STATE_DESC["USERPAYING"],
                due_at=due_at,
                due_result=due_result,
            )
            self._save(existing, order)
            return Paid(order, delivery)
        order = self._charge(order, now)
        self._save(existing, order)
        return Paid(order, delivery)

    def _new_order(
        self, request: PayRequest, hashed: str, wallet_id: int | None, now: datetime
    ) -> Order:
        return Order(
            transaction_id=_transaction_id(now),
            mchid=request.owner.mchid,
            sp_mchid=request.sp.mchid if request.sp else None,
            appid=request.appid,
            sub_appid=request.sub_appid,
            out_trade_no=request.out_trade_no,
            code_hash=hashed,
            wallet_id=wallet_id,
            openid=None,
            total=request.total,
            currency=request.currency,
            description=request.description,
            attach=request.attach,
            device=request.device,
            state="NOTPAY",
            state_desc=STATE_DESC["NOTPAY"],
            err_code=None,
            api=request.api,
            outcome=None,
            seconds=None,
            due_at=None,
            due_result=None,
            recalls=0,
            refunded=0,
            created_at=now,
            success_time=None,
            ended_at=None,
        )

    def _save(self, existing: Order | None, order: Order) -> None:
        if existing is None:
            self.store.add_order(order)
            return
        self.store.update_order(
            order.transaction_id,
            wallet_id=order.wallet_id,
            openid=order.openid,
            state=order.state,
            state_desc=order.state_desc,
            err_code=order.err_code,
            outcome=order.outcome,
            seconds=order.seconds,
            due_at=order.due_at,
            due_result=order.due_result,
            success_time=order.success_time,
            ended_at=order.ended_at,
        )

    def _charge(self, order: Order, now: datetime) -> Order:
        """Move the money: the wallet pays the merchant (the caller checked the balance)."""
        assert order.wallet_id is not None
        self.store.move_wallet(order.wallet_id, -order.total)
        self.store.credit_merchant(order.mchid, order.total)
        return replace(
            order,
            state="SUCCESS",
            state_desc=STATE_DESC["SUCCESS"],
            err_code=None,
            due_at=None,
            success_time=now,
            ended_at=now,
        )

    # the customer's password step

    def _complete(self, order: Order, result: str, now: datetime, desc: str) -> Order:
        wallet = self.store.wallet(order.wallet_id) if order.wallet_id is not None else None
        if result == "SUCCESS" and wallet is not None and wallet.balance >= order.total:
            done = self._charge(order, now)
        elif result == "SUCCESS":
            done = replace(
                order, state="PAYERROR", state_desc="支付失败，余额不足", err_code="NOTENOUGH"
            )
        else:
            done = replace(order, state="PAYERROR", state_desc=desc, err_code="TRADE_ERROR")
        done = replace(done, due_at=None, ended_at=now)
        self._save(order, done)
        return done

    def settle_at(self, order: Order, now: datetime) -> Order:
        """The order with its password step completed if due at ``now`` (in a transaction)."""
        if order.state == "USERPAYING" and order.due_at is not None and order.due_at <= now:
            return self._complete(
                order, order.due_result or "SUCCESS", now, "支付失败，用户未完成支付"
            )
        return order

    def settle(self, order: Order) -> Order:
        """The order with its password step completed if it has fallen due."""
        with self.store.transaction():
            return self.settle_at(order, self.clock.now())

    def settle_all(self) -> None:
        with self.store.transaction():
            now = self.clock.now()
            for order in self.store.due_orders(now):
                self.settle_at(order, now)

    def decide(self, transaction_id: str, confirm: bool) -> Order | None:
        """The customer confirms (enters the password) or cancels on the simulator's page.
        None when there is no such order; an order that is not waiting is left as it is."""
        with self.store.transaction():
            order = self.store.order_by_id(transaction_id)
            if order is None:
                return None
            now = self.clock.now()
            order = self.settle_at(order, now)
            if order.state != "USERPAYING" or order.outcome == Outcome.USERPAYING_NEVER:
                return order
            result = "SUCCESS" if confirm else "PAYERROR"
            return self._complete(order, result, now, "支付失败，用户取消支付")

    # lookups

    def find(self, owner: str, out_trade_no: str, sp: str | None) -> Order:
        """An order by its merchant and out_trade_no, settled; ORDERNOTEXIST otherwise."""
        with self.store.transaction():
            order = self.store.order(owner, out_trade_no)
            if order is None or order.sp_mchid != sp:
                raise Refusal("ORDERNOTEXIST", "订单不存在")
            return self.settle_at(order, self.clock.now())

    def find_by_id(self, owner: str, transaction_id: str, sp: str | None) -> Order:
        with self.store.transaction():
            order = self.store.order_by_id(transaction_id)
            if order is None or order.mchid != owner or order.sp_mchid != sp:
                raise Refusal("ORDERNOTEXIST", "订单不存在")
            return self.settle_at(order, self.clock.now())


def _repeat_answer(order: Order) -> Refusal | Paid | None:
    """The answer to the same pay request again, by the order's state (None: go on)."""
    if order.state in ("SUCCESS", "REFUND"):
        return Refusal("ORDERPAID", "订单已支付，请勿重复提交；如是新订单请更换订单号")
    if order.state == "REVOKED":
        return Refusal("ORDERREVERSED", "订单已撤销")
    if order.state == "CLOSED":
        return Refusal("ORDERCLOSED", "订单已关闭")
    if order.state == "PAYERROR":
        return Refusal(order.err_code or "TRADE_ERROR", order.state_desc)
    if order.state == "USERPAYING":
        return Paid(order)
    return None


def _transaction_id(now: datetime) -> str:
    # WeChat's are 28 digits with the Beijing date in the middle: 4200000848202011296519816622.
    return (
        "420000" + random_digits(4) + now.astimezone(BEIJING).strftime("%Y%m%d") + random_digits(10)
    )
