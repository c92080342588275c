"""Running show-to-pay orders: the order machine's commands against the journal
and the host (``/v1/orders``, issue 5).

An order is journaled before it is created on the host; a lost answer is
looked up before the order is created again (same ``out_trade_no``); the
result is learnt by long-polling; a cancelled order is closed on the host,
which refunds any payment that arrives after the close.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

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
        wallet="order",
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

    def open(
        self,
        amount: int,
        currency: str | None,
        operator_id: str,
        *,
        note: str | None = None,
        expires_in: int = 300,
    ) -> OrderRecord:
        """Ask the host for a show-to-pay order; returns once it is shown (or failed)."""
        if self.engine.block_reason is not None:
            raise TerminalError("sales_blocked", reason=self.engine.block_reason.en)
        now = self.engine.clock()
        step = open_order(
            self.engine.trade_number(),
            amount,
            currency or self.engine.config.currency,
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
        self.drive(step.order.out_trade_no, step.commands)
        end = time.monotonic() + 15.0
        while time.monotonic() < end:
            order = self.engine.journal.get_order(step.order.out_trade_no)
            assert order is not None
            if order.state != OrderState.CREATING:
                return order
            time.sleep(0.02)
        return self.get(step.order.out_trade_no)

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
