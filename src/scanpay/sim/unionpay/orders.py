"""The network's rules for a C2B consume, its query and the customer's password step.

- A valid code (19 digits starting 62, one use, short-lived) debits its wallet and
  credits the merchant: respCode 00 with origRespCode 00.
- Above the wallet's password limit the consume is only accepted (respCode 00, no
  origRespCode) and waits (origRespCode 05) for the customer: confirmed or cancelled
  on ``/sim/pay/{queryId}``, or after the wallet's delay; past its deadline (the
  settings' ``pay_deadline``) it fails with 69.
- A consume refused after the code was read is an order too (its query answers the
  decline); an unknown code is 88, a used one 86, an expired one 80, too little in
  the wallet 64. The same orderId again is 12, whatever it asks.

Delays fall due whenever an order is read, and on the notification deliverer's tick
while the app serves: the simulator's clock (a test's) decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scanpay.sim.common.clock import BEIJING, Clock
from scanpay.sim.common.codes import issue_code
from scanpay.sim.common.crypto import code_hash, random_digits
from scanpay.sim.unionpay import notify
from scanpay.sim.unionpay.outcomes import WAITS, Chosen, Outcome
from scanpay.sim.unionpay.store import Code, Merchant, Order, Store, Wallet
from scanpay.sim.unionpay.views import order_fields
from scanpay.sim.unionpay.wire import answer

__all__ = ["CODE_PREFIXES", "ConsumeRequest", "Network", "Result", "valid_code"]

CODE_PREFIXES = ("62",)
_CODE_DIGITS = 17
_REMEMBERED = WAITS | {Outcome.CANCEL_RETRY}
_DELIVERY = {Outcome.SLOW, Outcome.CHARGED_NO_REPLY, Outcome.WRONG_SIGNATURE}
_NOT_TAKEN = {Outcome.SYSTEM_ERROR: "03", Outcome.BUSY: "06"}


def valid_code(code: str) -> bool:
    """UnionPay's payment code (``qrNo``): 19 digits starting 62."""
    return len(code) == 19 and code.isdigit() and code.startswith(CODE_PREFIXES)


@dataclass(frozen=True)
class ConsumeRequest:
    merchant: Merchant
    order_id: str
    txn_time: str
    amount: int
    qr_no: str
    back_url: str | None


@dataclass(frozen=True)
class Result:
    """A reply's own fields, and the outcome that shapes how it is delivered."""

    fields: dict[str, str]
    chosen: Chosen | None = None


class Network:
    """Orders on the store, at the clock's time."""

    def __init__(
        self, store: Store, clock: Clock, code_ttl: float = 60.0, pay_deadline: float = 300.0
    ) -> None:
        self.store = store
        self.clock = clock
        self.code_ttl = code_ttl
        self.pay_deadline = pay_deadline

    def issue_code(self, wallet_id: int, chosen: Chosen | None = None) -> tuple[str, datetime]:
        """A fresh one-time code for a wallet (19 digits), and its expiry."""
        return issue_code(
            self.store,
            self.clock.now(),
            self.code_ttl,
            CODE_PREFIXES,
            wallet_id,
            digits=_CODE_DIGITS,
            outcome=chosen.outcome.value if chosen else None,
            resp_code=chosen.resp_code if chosen else None,
            seconds=chosen.seconds if chosen else None,
        )

    def new_order(
        self, merchant: Merchant, order_id: str, txn_time: str, **values: object
    ) -> Order:
        """An order as made now, under a fresh queryId (21 digits)."""
        now = self.clock.now()
        while True:
            query_id = now.astimezone(BEIJING).strftime("%y%m%d%H%M%S") + random_digits(9)
            if self.store.order_by_query_id(query_id) is None:
                break
        base = Order(
            query_id=query_id,
            mer_id=merchant.mer_id,
            order_id=order_id,
            txn_time=txn_time,
            txn_type="01",
            amount=0,
            orig_query_id=None,
            code_hash=None,
            wallet_id=None,
            back_url=None,
            state="05",
            moved=0,
            refunded=0,
            cancelled=False,
            outcome=None,
            seconds=None,
            due_at=None,
            due_result=None,
            deadline_at=None,
            created_at=now,
            done_at=None,
        )
        return replace(base, **values)  # type: ignore[arg-type]

    # consume

    def consume(self, request: ConsumeRequest, header: Chosen | None = None) -> Result:
        with self.store.transaction():
            return self._consume(request, header, self.clock.now())

    def _consume(self, request: ConsumeRequest, header: Chosen | None, now: datetime) -> Result:
        store = self.store
        if store.order(request.merchant.mer_id, request.order_id) is not None:
            return Result(answer("12"))
        hashed = code_hash(request.qr_no)
        code = store.code(hashed)
        chosen = header
        if chosen is None and code is not None and code.outcome and not code.fired:
            chosen = Chosen(Outcome(code.outcome), code.seconds, code.resp_code)
            store.update_code(hashed, fired=1)
        outcome = chosen.outcome if chosen is not None else None
        if outcome in _NOT_TAKEN:
            # Nothing taken: no order, the code unused, the same request again goes on.
            return Result(answer(_NOT_TAKEN[outcome]))
        delivery = chosen if outcome in _DELIVERY else None
        order = self.new_order(
            request.merchant,
            request.order_id,
            request.txn_time,
            amount=request.amount,
            code_hash=hashed,
            back_url=request.back_url,
        )
        refused = self._code_refusal(code, request.qr_no, now)
        if refused is not None:
            return self._declined(order, refused, now, delivery)
        assert code is not None
        store.update_code(hashed, used_at=now)
        wallet = store.wallet(code.wallet_id)
        assert wallet is not None  # codes reference wallets
        order = replace(order, wallet_id=wallet.id)
        if outcome in _REMEMBERED:
            order = replace(order, outcome=str(outcome), seconds=chosen.seconds if chosen else None)
        asks = wallet.password_above is not None and request.amount > wallet.password_above
        decline = chosen.resp_code if outcome is Outcome.DECLINE and chosen else None
        if decline is None and outcome not in WAITS and not asks and wallet.balance < order.amount:
            decline = "64"
        if decline is not None:
            return self._declined(order, decline, now, delivery)
        if outcome in WAITS or asks:
            due_at: datetime | None = None
            if outcome in (Outcome.WAIT_PASSWORD_SUCCESS, Outcome.WAIT_PASSWORD_FAIL):
                due_at = now + timedelta(seconds=chosen.delay if chosen else 0.0)
            elif outcome is None and wallet.password_seconds is not None:
                due_at = now + timedelta(seconds=wallet.password_seconds)
            result = "65" if outcome is Outcome.WAIT_PASSWORD_FAIL else "00"
            order = replace(
                order,
                due_at=due_at,
                due_result=result,
                deadline_at=now + timedelta(seconds=self.pay_deadline),
            )
            store.add_order(order)
            fields = order_fields(order)
            return Result(
                answer("00", queryId=fields["queryId"], txnAmt=fields["txnAmt"]), delivery
            )
        order = self._charge(order, wallet, now)
        store.add_order(order)
        self.emit(order)
        if outcome is Outcome.CHARGED_THEN_UNKNOWN:
            return Result(answer("04"))
        return Result(answer("00", origRespCode="00", **order_fields(order)), delivery)

    def _code_refusal(self, code: Code | None, qr_no: str, now: datetime) -> str | None:
        if code is None or not valid_code(qr_no):
            return "88"
        if code.used_at is not None:
            return "86"
        if code.expires_at <= now:
            return "80"
        return None

    def _declined(self, order: Order, code: str, now: datetime, delivery: Chosen | None) -> Result:
        self.store.add_order(replace(order, state=code, done_at=now))
        return Result(answer(code), delivery)

    def emit(self, order: Order) -> None:
        """Queue the order's notification (in the caller's transaction)."""
        notify.enqueue(self.store, order, self.clock.now())

    def _charge(self, order: Order, wallet: Wallet, now: datetime) -> Order:
        """Move the money (the caller checked the balance)."""
        self.store.move_wallet(wallet.id, -order.amount)
        self.store.credit_merchant(order.mer_id, order.amount)
        return replace(order, state="00", moved=order.amount, due_at=None, done_at=now)

    # the customer's password step, and deadlines

    def settle_at(self, order: Order, now: datetime) -> Order:
        """The order with its password step or deadline applied if due (in a transaction)."""
        if not order.pending:
            return order
        if order.due_at is not None and order.due_at <= now:
            return self._complete(order, order.due_result == "00", order.due_result or "01", now)
        if order.deadline_at is not None and order.deadline_at <= now:
            return self._complete(order, False, "69", now)
        return order

    def _complete(self, order: Order, pay: bool, code: str, now: datetime) -> Order:
        wallet = self.store.wallet(order.wallet_id) if order.wallet_id is not None else None
        if pay and wallet is not None and wallet.balance >= order.amount:
            done = self._charge(order, wallet, now)
        else:
            done = replace(order, state="64" if pay else code, due_at=None, done_at=now)
        self.store.save_order(done)
        self.emit(done)
        return done

    def settle_all(self) -> None:
        with self.store.transaction():
            now = self.clock.now()
            for order in self.store.pending_orders():
                self.settle_at(order, now)

    def decide(self, query_id: str, confirm: bool) -> Order | None:
        """The customer confirms (enters the password) or cancels. None: no such order;
        an order not waiting for the customer is left as it is."""
        with self.store.transaction():
            order = self.store.order_by_query_id(query_id)
            if order is None:
                return None
            now = self.clock.now()
            order = self.settle_at(order, now)
            if not order.pending or order.outcome == Outcome.WAIT_PASSWORD_NEVER:
                return order
            return self._complete(order, confirm, "01", now)

    # lookups

    def query(self, mer_id: str, order_id: str, txn_time: str) -> dict[str, str]:
        """A query's own fields: the order's state as ``origRespCode``; 34 when there is
        no such order (or it was sent at another ``txnTime``)."""
        with self.store.transaction():
            order = self.store.order(mer_id, order_id)
            if order is None or order.txn_time != txn_time:
                return answer("34")
            order = self.settle_at(order, self.clock.now())
            return answer(
                "00",
                origRespCode=order.state,
                origRespMsg=answer(order.state)["respMsg"],
                **order_fields(order),
            )
