"""Running show-to-pay orders: the order machine's commands against the journal
and the host (``/v1/orders``, issue 5).

An order is journaled before it is created on the host; a lost answer is
looked up before the order is created again (same ``out_trade_no``); the
result is learnt by long-polling; a cancelled order is closed on the host,
which refunds any payment that arrives after the close.

One start, one order: the same request again while its order is still payable
(a double click, a retry) gets that order back; any other start - of an order
or of a sale - closes the order still payable, since no screen shows it any
more (nor does a logout leave one open).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scanpay.codes.names import SHOW_TO_PAY
from scanpay.money import get_currency
from scanpay.protocol.models import OrderRequest
from scanpay.terminal.client import Answer, NoReply, Refusal
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.order import (
    CloseOrder,
    CreateOrder,
    OrderCancel,
    OrderCommand,
    OrderEvent,
    OrderNoAnswer,
    OrderNotFound,
    OrderRecord,
    OrderRecovered,
    OrderRefused,
    OrderReplied,
    OrderState,
    OrderStep,
    OrderTick,
    PrintOrder,
    QueryOrder,
    WaitOrder,
    advance_order,
    open_order,
)
from scanpay.terminal.receipts import build_receipt, render_escpos
from scanpay.terminal.sale import Sale, SaleState

if TYPE_CHECKING:
    from scanpay.terminal.engine import Engine

__all__ = ["OrderRunner", "order_as_sale"]

log = logging.getLogger("scanpay.terminal")

AGENT = "agent"


def _asked(order: OrderRecord) -> tuple[int, str, str, str | None, int]:
    """What opening ``order`` asked for: the same again is the same order."""
    return order.amount, order.currency, order.operator_id, order.note, order.expires_in


def order_as_sale(order: OrderRecord) -> Sale:
    """A paid order seen as the payment it is (for its receipt and the day's totals)."""
    paid = order.state == OrderState.PAID
    return Sale(
        out_trade_no=order.out_trade_no,
        amount=order.amount,
        currency=order.currency,
        operator_id=order.operator_id,
        created_at=order.created_at,
        note=order.note,
        state=SaleState.APPROVED if paid else SaleState.CANCELLED,
        submitted_at=order.created_at,
        payer=order.payer,
        paid_at=order.paid_at,
        # The wallet that paid; an older host does not say: marked as show-to-pay.
        wallet=order.wallet or SHOW_TO_PAY,
        payment_id=order.order_id,
        finished_at=order.finished_at,
    )


class OrderRunner:
    """Show-to-pay orders of one terminal: open, follow, cancel, recover."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recover(self, now: float) -> None:
        """Look up again every order the journal left open."""
        for order in self.engine.journal.orders(unsettled=True):
            step = self.apply(order.out_trade_no, OrderRecovered(now))
            self.drive(order.out_trade_no, step.commands)

    def apply(
        self,
        no: str,
        event: OrderEvent,
        operator_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> OrderStep:
        """Advance one order and journal it."""
        with self.engine.changed:
            order = self.engine.journal.get_order(no)
            if order is None:
                raise TerminalError("order_not_found", out_trade_no=no)
            step = advance_order(order, event)
            if step.ignored is None:
                self.engine.journal.save_order(
                    step.order,
                    event=event.name,
                    at=event.now,
                    operator_id=operator_id or order.operator_id,
                    from_state=order.state.value,
                    detail={"actor": AGENT, **(detail or {})} if operator_id is None else detail,
                )
            self.engine.changed.notify_all()
        return step

    def start(
        self,
        amount: int,
        currency: str | None,
        operator_id: str,
        *,
        note: str | None = None,
        expires_in: int = 300,
        request_key: str | None = None,
    ) -> tuple[OrderRecord, bool]:
        """Open a show-to-pay order, once it is shown (or failed), and whether it is the
        one already open: the same request with the same ``request_key`` while that
        order is payable gets it back. Any other start closes the payable order and
        cancels a sale never sent."""
        if self.engine.block_reason is not None:
            raise TerminalError("sales_blocked", reason=self.engine.block_reason.en)
        currency = get_currency(currency or self.engine.config.currency).alpha
        now = self.engine.clock()
        asked = (amount, currency, operator_id, note, expires_in)
        with self.engine.changed:
            payable = [o for o in self.engine.journal.orders(unsettled=True) if o.payable]
            newest = payable[0] if payable else None
            replay = (
                newest is not None
                and self.engine.started_by(request_key) == newest.out_trade_no
                and _asked(newest) == asked
                and (newest.expires_at is None or now < newest.expires_at)
            )
            if not replay:
                step, closing = self._open(amount, currency, operator_id, now, note, expires_in)
                self.engine.remember_start(request_key, step.order.out_trade_no)
        if replay:
            assert newest is not None
            # Waited for outside the lock: the order's driver needs it to move on.
            return self._shown(newest.out_trade_no), True
        self.close_later(closing)
        self.drive(step.order.out_trade_no, step.commands)
        return self._shown(step.order.out_trade_no), False

    def _open(
        self,
        amount: int,
        currency: str,
        operator_id: str,
        now: float,
        note: str | None,
        expires_in: int,
    ) -> tuple[OrderStep, list[OrderCommand]]:
        """A new order journaled, after the sale and the order it supersedes (the engine's
        lock held); returns its step and the closes to send."""
        self.engine.supersede_sales(now, operator_id)
        closing = self.supersede(now, operator_id)
        step = open_order(
            self.engine.trade_number(),
            amount,
            currency,
            operator_id=operator_id,
            now=now,
            expires_in=expires_in,
            note=note,
        )
        self.engine.journal.save_order(
            step.order,
            event="order_opened",
            at=now,
            operator_id=operator_id,
            from_state=None,
            detail={"amount": amount},
        )
        self.engine.changed.notify_all()
        return step, closing

    def _shown(self, no: str) -> OrderRecord:
        """The order once the host has answered its creation (or after 15 s)."""
        end = time.monotonic() + 15.0
        while time.monotonic() < end:
            order = self.get(no)
            if order.state != OrderState.CREATING:
                return order
            time.sleep(0.02)
        return self.get(no)

    def supersede(self, now: float, operator_id: str) -> list[OrderCommand]:
        """Start closing every order still payable (no screen shows it any more); returns
        the closes to send (:meth:`close_later`). Call with the engine's lock held."""
        commands: list[OrderCommand] = []
        for order in self.engine.journal.orders(unsettled=True):
            if order.payable:
                step = self.apply(
                    order.out_trade_no, OrderCancel(now), operator_id, {"superseded": True}
                )
                commands.extend(step.commands)
        return commands

    def close_later(self, commands: list[OrderCommand]) -> None:
        """Send these closes in the background (a start does not wait for the host); an
        unanswered close is retried by the order's own driver."""
        if not commands:
            return

        def send() -> None:
            try:
                self._run(commands)
            except Exception:
                log.exception("closing superseded orders failed; their drivers retry")

        threading.Thread(target=send, name="order-close", daemon=True).start()

    def close_open(self, operator_id: str) -> None:
        """Close every order still payable (the operator logged out: nothing shows it)."""
        with self.engine.changed:
            closing = self.supersede(self.engine.clock(), operator_id)
        self.close_later(closing)

    def cancel(self, out_trade_no: str, operator_id: str) -> OrderRecord:
        step = self.apply(out_trade_no, OrderCancel(self.engine.clock()), operator_id)
        self._run(step.commands)
        order = self.engine.journal.get_order(out_trade_no)
        assert order is not None
        return order

    def get(self, out_trade_no: str) -> OrderRecord:
        order = self.engine.journal.get_order(out_trade_no)
        if order is None:
            raise TerminalError("order_not_found", out_trade_no=out_trade_no)
        return order

    def _reply(self, no: str, reply: Any, *, creating: bool = False) -> OrderEvent:
        now = self.engine.clock()
        if isinstance(reply, Answer):
            body = reply.body
            return OrderReplied(
                now,
                body.status.value,
                body.payload,
                body.order_id,
                body.expires_at.timestamp() if body.expires_at else None,
                body.payer,
                body.paid_at.isoformat() if body.paid_at else None,
                body.wallet,
            )
        if isinstance(reply, Refusal):
            if reply.status == 404 and not creating:
                return OrderNotFound(now)
            return OrderRefused(now, reply.error.code, reply.error.field)
        assert isinstance(reply, NoReply)
        if creating and reply.status == 404:
            # An unsigned 404 on create: this host has no orders endpoint at all.
            return OrderRefused(now, "25")
        return OrderNoAnswer(now, reply.reason)

    def _run(self, commands: Iterable[OrderCommand]) -> None:
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            no = command.out_trade_no
            if isinstance(command, CreateOrder):
                order = self.get(no)
                reply = self.engine.client.create_order(
                    OrderRequest(
                        out_trade_no=no,
                        amount=order.amount,
                        currency=order.currency,
                        description=order.note,
                        expires_in=order.expires_in,
                    )
                )
                event = self._reply(no, reply, creating=True)
            elif isinstance(command, QueryOrder):
                event = self._reply(no, self.engine.client.get_order(no))
            elif isinstance(command, WaitOrder):
                event = self._reply(no, self.engine.client.get_order(no, wait=25))
            elif isinstance(command, CloseOrder):
                event = self._reply(no, self.engine.client.close_order(no))
            else:
                assert isinstance(command, PrintOrder)
                self._print(no)
                continue
            # One long-poll at a time: the driver issues the next, after its checks.
            queue.extend(c for c in self.apply(no, event).commands if not isinstance(c, WaitOrder))

    def _print(self, no: str) -> None:
        """Both receipt copies of a paid order; a printer failure is journaled only."""
        engine = self.engine
        sale = order_as_sale(self.get(no))
        p = engine.config.printer
        copies = [build_receipt(sale, engine.config, c) for c in ("merchant", "customer")]
        try:
            engine.printer.send(
                render_escpos(copies, width=p.width, encoding=p.encoding, language=p.language)
            )
            event = "printed"
        except TerminalError:
            event = "print_failed"
        engine.journal.append(
            at=engine.clock(), kind="print", ref=no, event=event, operator_id=sale.operator_id
        )

    def drive(self, no: str, commands: tuple[OrderCommand, ...]) -> None:
        """Follow the order (long-polls, retries, the expiry) until it is settled."""

        def loop() -> None:
            pending: tuple[OrderCommand, ...] = commands
            while not self.engine.stopping.is_set():
                try:
                    self._run(pending)
                    pending = ()
                    order = self.engine.journal.get_order(no)
                    if order is None or order.settled:
                        return
                    now = self.engine.clock()
                    step = self.apply(no, OrderTick(now))
                    if step.commands:
                        pending = step.commands
                    elif order.state == OrderState.SHOWN and order.wake_at is None:
                        pending = (WaitOrder(no),)
                    else:
                        due = order.wake_at if order.wake_at is not None else now + 0.1
                        self.engine.stopping.wait(min(max(due - now, 0.02), 0.5))
                except Exception:
                    log.exception("order driver %s: step failed; retrying", no)
                    pending = ()
                    self.engine.stopping.wait(1.0)

        self.engine.start_thread(f"order-{no}", loop)
