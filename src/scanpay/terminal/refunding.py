"""Running refunds: the refund machine's commands against the journal and the host.

A refund is journaled (PENDING) before it is sent; a lost answer is sent
again with the same ``out_refund_no`` until the host gives a definite one. A
successful refund and the sale's new state (PARTIALLY_REFUNDED, REFUNDED) are
written in one transaction.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scanpay.i18n import Text
from scanpay.protocol.models import RefundRequest
from scanpay.terminal.client import Answer, Refusal
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.refund import (
    RefundEvent,
    RefundNoAnswer,
    RefundRecord,
    RefundRecovered,
    RefundRefused,
    RefundReplied,
    RefundState,
    RefundStep,
    RefundTick,
    SendRefund,
    advance_refund,
    open_refund,
)
from scanpay.terminal.sale import RefundApplied

if TYPE_CHECKING:
    from scanpay.terminal.engine import Engine

__all__ = ["RefundRunner"]

log = logging.getLogger("scanpay.terminal")

AGENT = "agent"


def _text(message: Any) -> Text | None:
    return None if message is None else Text(message.zh_cn, message.en)


class RefundRunner:
    """Refunds of one terminal's sales: request, drive, recover."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recover(self, now: float) -> None:
        """Send again every refund the journal left without a definite answer."""
        for refund in self.engine.journal.refunds(unsettled=True):
            step = self.apply(refund.out_refund_no, RefundRecovered(now))
            self.drive(refund.out_refund_no, step.commands)

    def apply(
        self, no: str, event: RefundEvent, detail: dict[str, Any] | None = None
    ) -> RefundStep:
        """Advance one refund and journal it; a success updates its sale in the same
        transaction."""
        with self.engine.changed:
            refund = self.engine.journal.get_refund(no)
            if refund is None:
                raise TerminalError("refund_not_found", out_refund_no=no)
            step = advance_refund(refund, event)
            if step.ignored is None:
                with self.engine.journal.transaction():
                    self.engine.journal.save_refund(
                        step.refund,
                        event=event.name,
                        at=event.now,
                        operator_id=refund.operator_id,
                        from_state=refund.state.value,
                        detail={"actor": AGENT, **(detail or {})},
                    )
                    if step.refund.state == RefundState.SUCCESS:
                        self._refund_applied(step.refund)
            self.engine.changed.notify_all()
        return step

    def _refund_applied(self, refund: RefundRecord) -> None:
        total = sum(
            r.amount
            for r in self.engine.journal.refunds(out_trade_no=refund.out_trade_no)
            if r.state == RefundState.SUCCESS
        )
        self.engine.apply(
            refund.out_trade_no,
            RefundApplied(self.engine.clock(), total),
            detail={"out_refund_no": refund.out_refund_no, "amount": refund.amount},
        )

    def refund(
        self,
        out_trade_no: str,
        amount: int | None,
        *,
        operator_id: str,
        approved_by: str,
        reason: str | None = None,
        wait: float = 10.0,
    ) -> RefundRecord:
        """Refund ``amount`` (all that is left when None); waits up to ``wait`` s for the host."""
        now = self.engine.clock()
        with self.engine.changed:
            sale = self.engine.sale(out_trade_no)
            existing = self.engine.journal.refunds(out_trade_no=out_trade_no)
            pending = any(not r.settled for r in existing)
            out_refund_no = f"{out_trade_no}-R{len(existing) + 1}"
            step = open_refund(
                sale,
                out_refund_no,
                sale.refundable if amount is None else amount,
                operator_id=operator_id,
                approved_by=approved_by,
                now=now,
                reason=reason,
                pending=pending,
            )
            self.engine.journal.save_refund(
                step.refund,
                event="refund_requested",
                at=now,
                operator_id=operator_id,
                from_state=None,
                detail={"approved_by": approved_by, "amount": step.refund.amount},
            )
        self.drive(out_refund_no, step.commands)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            record = self.engine.journal.get_refund(out_refund_no)
            if record is not None and record.settled:
                return record
            time.sleep(0.02)
        record = self.engine.journal.get_refund(out_refund_no)
        assert record is not None
        return record

    def _send(self, command: SendRefund) -> tuple[SendRefund, ...]:
        refund = self.engine.journal.get_refund(command.out_refund_no)
        assert refund is not None
        request = RefundRequest(
            out_refund_no=refund.out_refund_no,
            out_trade_no=refund.out_trade_no,
            amount=refund.amount,
            reason=refund.reason,
            approved_by=refund.approved_by,
        )
        reply = self.engine.client.refund(request)
        now = self.engine.clock()
        event: RefundEvent
        if isinstance(reply, Answer):
            body = reply.body
            event = RefundReplied(
                now, body.status.value, body.code, _text(body.message), body.refund_id
            )
        elif isinstance(reply, Refusal):
            event = RefundRefused(
                now, reply.error.code, _text(reply.error.message), reply.error.field
            )
        else:
            event = RefundNoAnswer(now, reply.reason)
        step = self.apply(refund.out_refund_no, event, {"attempt": command.attempt})
        return tuple(step.commands)

    def drive(self, no: str, commands: tuple[SendRefund, ...]) -> None:
        """Send the refund (again) until the host gives a definite answer."""

        def loop() -> None:
            pending = list(commands)
            while not self.engine.stopping.is_set():
                try:
                    while pending:
                        pending.extend(self._send(pending.pop(0)))
                    refund = self.engine.journal.get_refund(no)
                    if refund is None or refund.settled:
                        return
                    now = self.engine.clock()
                    if refund.wake_at is not None and now < refund.wake_at:
                        self.engine.stopping.wait(min(refund.wake_at - now, 0.5))
                        continue
                    pending.extend(self.apply(no, RefundTick(now)).commands)
                except Exception:
                    # The journal holds the refund; the next tick sends it again.
                    log.exception("refund driver %s: step failed; retrying", no)
                    pending = []
                    self.engine.stopping.wait(1.0)

        self.engine.start_thread(no, loop)
