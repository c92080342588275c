"""The network's rules for a bar-code payment, its query and its cancel.

- A valid code (16–24 digits starting 25–30, one use, short-lived) debits its wallet
  and credits the app: TRADE_SUCCESS (10000).
- Above the wallet's password limit the answer is 10003 and the trade waits
  (WAIT_BUYER_PAY) for the buyer: confirmed or cancelled on ``/sim/pay/{trade_no}``, or
  after the wallet's delay; past its deadline (``timeout_express``, 15 m by default)
  an unpaid trade closes.
- The same out_trade_no again: with the same code and amount, the trade's answer
  (ACQ.TRADE_HAS_SUCCESS, ACQ.TRADE_HAS_CLOSE, 10003 again) or, after a system error,
  the pay goes on; anything else is ACQ.CONTEXT_INCONSISTENT.

Delays fall due whenever a trade is read, and on the notification deliverer's tick
while the app serves: the simulator's clock (a test's) decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scanpay.sim.alipay import notify
from scanpay.sim.alipay.money import fee_of
from scanpay.sim.alipay.outcomes import DECLINES, Chosen, Outcome
from scanpay.sim.alipay.store import App, Refund, Store, Trade, Wallet
from scanpay.sim.alipay.views import trade_fields
from scanpay.sim.alipay.wire import Answer, failed, success, unknown, waiting
from scanpay.sim.common.clock import BEIJING, Clock
from scanpay.sim.common.codes import issue_code
from scanpay.sim.common.crypto import code_hash, random_digits

__all__ = ["CODE_PREFIXES", "Network", "PayRequest", "Result", "valid_code"]

CODE_PREFIXES = ("25", "26", "27", "28", "29", "30")
_WAITS = {
    Outcome.WAIT_PASSWORD_SUCCESS,
    Outcome.WAIT_PASSWORD_FAIL,
    Outcome.WAIT_PASSWORD_NEVER,
}
# Outcomes the trade remembers: they shape its later steps.
_REMEMBERED = _WAITS | {Outcome.CANCEL_RETRY}
_NOT_EXIST = ("ACQ.TRADE_NOT_EXIST", "交易不存在")
_CODE_INVALID = "ACQ.PAYMENT_AUTH_CODE_INVALID"


def valid_code(code: str) -> bool:
    """Alipay's payment code: 16 to 24 digits starting 25 to 30."""
    return 16 <= len(code) <= 24 and code.isdigit() and code[:2] in CODE_PREFIXES


@dataclass(frozen=True)
class PayRequest:
    app: App
    out_trade_no: str
    auth_code: str
    total: int
    subject: str
    store_id: str | None
    operator_id: str | None
    terminal_id: str | None
    notify_url: str | None
    timeout: timedelta


@dataclass(frozen=True)
class Result:
    """An answer, and the outcome that shapes how it is delivered (SLOW, no reply...)."""

    answer: Answer
    chosen: Chosen | None = None


class Network:
    """Trades on the store, at the clock's time."""

    def __init__(self, store: Store, clock: Clock, code_ttl: float = 60.0) -> None:
        self.store = store
        self.clock = clock
        self.code_ttl = code_ttl

    def issue_code(self, wallet_id: int, chosen: Chosen | None = None) -> tuple[str, datetime]:
        """A fresh one-time code for a wallet (18 digits, as Alipay's are), and its expiry."""
        return issue_code(
            self.store,
            self.clock.now(),
            self.code_ttl,
            CODE_PREFIXES,
            wallet_id,
            outcome=chosen.outcome.value if chosen else None,
            sub_code=chosen.sub_code if chosen else None,
            seconds=chosen.seconds if chosen else None,
        )

    # pay

    def pay(self, request: PayRequest, header: Chosen | None = None) -> Result:
        with self.store.transaction():
            return self._pay(request, header, self.clock.now())

    def _pay(self, request: PayRequest, header: Chosen | None, now: datetime) -> Result:
        hashed = code_hash(request.auth_code)
        existing = self.store.trade(request.app.app_id, request.out_trade_no)
        if existing is not None:
            existing = self.settle_at(existing, now)
            if existing.code_hash != hashed or existing.total != request.total:
                return Result(failed("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"))
            again = self._repeat(existing)
            if again is not None:
                return Result(again)
        code = self.store.code(hashed)
        chosen = header
        if chosen is None and code is not None and code.outcome and not code.fired:
            chosen = Chosen(Outcome(code.outcome), code.seconds, code.sub_code)
            self.store.update_code(hashed, fired=1)
        outcome = chosen.outcome if chosen is not None else None
        if outcome in (Outcome.SYSTEM_ERROR, Outcome.ACQ_SYSTEM_ERROR):
            # Nothing reached the wallet: the trade waits, unpaid, for the same request.
            if existing is None:
                self.store.add_trade(self._new_trade(request, hashed, now))
            if outcome is Outcome.SYSTEM_ERROR:
                return Result(unknown())
            return Result(failed("ACQ.SYSTEM_ERROR", "系统错误"))
        if (
            code is None
            or code.used_at is not None
            or code.expires_at <= now
            or not valid_code(request.auth_code)
            or (chosen is not None and chosen.sub_code == _CODE_INVALID)
        ):
            if code is not None and code.used_at is None:
                self.store.update_code(hashed, used_at=now)
            return Result(failed(_CODE_INVALID, DECLINES[_CODE_INVALID]))
        self.store.update_code(hashed, used_at=now)
        wallet = self.store.wallet(code.wallet_id)
        assert wallet is not None  # codes reference wallets
        trade = existing or self._new_trade(request, hashed, now)
        trade = replace(trade, wallet_id=wallet.id)
        if outcome in _REMEMBERED:
            trade = replace(trade, outcome=outcome.value if outcome else None)
            trade = replace(trade, seconds=chosen.seconds if chosen else None)
        delivery = chosen if outcome in (Outcome.SLOW, Outcome.CHARGED_NO_REPLY) else None
        if outcome is Outcome.WRONG_SIGNATURE:
            delivery = chosen
        asks = wallet.password_above is not None and request.total > wallet.password_above
        decline = chosen.sub_code if outcome is Outcome.DECLINE and chosen else None
        if decline is None and outcome not in _WAITS and not asks and wallet.balance < trade.total:
            decline = "ACQ.BUYER_BALANCE_NOT_ENOUGH"
        if decline is not None:
            trade = replace(trade, status="TRADE_CLOSED", decline=decline, closed_at=now)
            self._save(existing, trade)
            return Result(
                failed(decline, DECLINES[decline], **trade_fields(trade, wallet)), delivery
            )
        if outcome in _WAITS or asks:
            due_at: datetime | None = None
            if outcome in (Outcome.WAIT_PASSWORD_SUCCESS, Outcome.WAIT_PASSWORD_FAIL):
                due_at = now + timedelta(seconds=chosen.delay if chosen else 0.0)
            elif outcome is None and wallet.password_seconds is not None:
                due_at = now + timedelta(seconds=wallet.password_seconds)
            result = "TRADE_CLOSED" if outcome is Outcome.WAIT_PASSWORD_FAIL else "TRADE_SUCCESS"
            trade = replace(trade, status="WAIT_BUYER_PAY", due_at=due_at, due_result=result)
            self._save(existing, trade)
            return Result(waiting(**trade_fields(trade, wallet)), delivery)
        trade = self._charge(trade, wallet, now)
        self._save(existing, trade)
        if outcome is Outcome.CHARGED_THEN_UNKNOWN:
            return Result(unknown())
        return Result(success(**trade_fields(trade, self.store.wallet(wallet.id))), delivery)

    def _repeat(self, trade: Trade) -> Answer | None:
        """The answer to the same pay again, by the trade's state (None: go on)."""
        if trade.status == "TRADE_SUCCESS":
            return failed("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if trade.status == "TRADE_CLOSED":
            return failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if trade.wallet_id is not None:  # waiting for the buyer's password
            return waiting(**trade_fields(trade, self.store.wallet(trade.wallet_id)))
        return None

    def _new_trade(self, request: PayRequest, hashed: str, now: datetime) -> Trade:
        return Trade(
            trade_no=now.astimezone(BEIJING).strftime("%Y%m%d") + "22001" + random_digits(15),
            app_id=request.app.app_id,
            out_trade_no=request.out_trade_no,
            code_hash=hashed,
            wallet_id=None,
            subject=request.subject,
            store_id=request.store_id,
            operator_id=request.operator_id,
            terminal_id=request.terminal_id,
            total=request.total,
            status="WAIT_BUYER_PAY",
            refunded=0,
            fee=0,
            notify_url=request.notify_url,
            outcome=None,
            seconds=None,
            decline=None,
            due_at=None,
            due_result=None,
            deadline_at=now + request.timeout,
            cancel_action=None,
            created_at=now,
            paid_at=None,
            closed_at=None,
        )

    def _save(self, existing: Trade | None, trade: Trade) -> None:
        if existing is None:
            self.store.add_trade(trade)
        else:
            self.store.save_trade(trade)
        changed = existing is None or existing.status != trade.status
        if changed and trade.status in ("TRADE_SUCCESS", "TRADE_CLOSED") and trade.wallet_id:
            self.emit(trade)

    def emit(self, trade: Trade, refund: Refund | None = None) -> None:
        """Queue the trade's notification (in the caller's transaction)."""
        app = self.store.app(trade.app_id)
        assert app is not None
        wallet = self.store.wallet(trade.wallet_id) if trade.wallet_id is not None else None
        notify.enqueue(self.store, app, trade, wallet, self.clock.now(), refund)

    def _charge(self, trade: Trade, wallet: Wallet, now: datetime) -> Trade:
        """Move the money (the caller checked the balance); the fee is the bill's."""
        app = self.store.app(trade.app_id)
        assert app is not None
        self.store.move_wallet(wallet.id, -trade.total)
        self.store.credit_app(trade.app_id, trade.total)
        return replace(
            trade,
            status="TRADE_SUCCESS",
            fee=fee_of(trade.total, app.fee_bp),
            due_at=None,
            paid_at=now,
        )

    # the buyer's password step, and deadlines

    def settle_at(self, trade: Trade, now: datetime) -> Trade:
        """The trade with its password step or deadline applied if due (in a transaction)."""
        if trade.status != "WAIT_BUYER_PAY":
            return trade
        if trade.due_at is not None and trade.due_at <= now:
            return self._complete(trade, trade.due_result == "TRADE_SUCCESS", now)
        if trade.deadline_at <= now:
            closed = replace(trade, status="TRADE_CLOSED", due_at=None, closed_at=now)
            self._save(trade, closed)
            return closed
        return trade

    def _complete(self, trade: Trade, pay: bool, now: datetime) -> Trade:
        wallet = self.store.wallet(trade.wallet_id) if trade.wallet_id is not None else None
        if pay and wallet is not None and wallet.balance >= trade.total:
            done = self._charge(trade, wallet, now)
        else:
            decline = "ACQ.BUYER_BALANCE_NOT_ENOUGH" if pay else None
            done = replace(
                trade, status="TRADE_CLOSED", decline=decline, due_at=None, closed_at=now
            )
        self._save(trade, done)
        return done

    def settle_all(self) -> None:
        with self.store.transaction():
            now = self.clock.now()
            for trade in self.store.waiting_trades():
                self.settle_at(trade, now)

    def decide(self, trade_no: str, confirm: bool) -> Trade | None:
        """The buyer confirms (enters the password) or cancels. None: no such trade; a
        trade not waiting for the buyer is left as it is."""
        with self.store.transaction():
            trade = self.store.trade_by_no(trade_no)
            if trade is None:
                return None
            now = self.clock.now()
            trade = self.settle_at(trade, now)
            if (
                trade.status != "WAIT_BUYER_PAY"
                or trade.wallet_id is None
                or trade.outcome == Outcome.WAIT_PASSWORD_NEVER
            ):
                return trade
            return self._complete(trade, confirm, now)

    # lookups

    def find(self, app_id: str, out_trade_no: str | None, trade_no: str | None) -> Trade | Answer:
        """A trade by out_trade_no or trade_no, settled; ACQ.TRADE_NOT_EXIST otherwise
        (in the caller's transaction)."""
        trade = None
        if trade_no:
            trade = self.store.trade_by_no(trade_no)
        elif out_trade_no:
            trade = self.store.trade(app_id, out_trade_no)
        if trade is None or trade.app_id != app_id:
            return failed(*_NOT_EXIST)
        return self.settle_at(trade, self.clock.now())
