"""Running refunds: the refund machine's commands against the journal and the host.

A refund is journaled (PENDING) before it is sent; a lost answer is sent
again with the same ``out_refund_no`` until the host gives a definite one. A
first send that provably never left (certificate or connection refused) fails
the refund at once, with the reason (see :mod:`scanpay.terminal.refund`). A
successful refund and the sale's new state (PARTIALLY_REFUNDED, REFUNDED) are
written in one transaction.

Refunds made elsewhere - in the merchant's portal, by the acquirer - are learnt
from the host (``GET /v1/refunds``): when a sale is opened on the screen
(:meth:`RefundRunner.refresh`) and before a day's totals
(:meth:`RefundRunner.sync_day`). They are journaled as outside refunds, move the
sale to PARTIALLY_REFUNDED or REFUNDED like the terminal's own, and count in the
day close on the day they were made.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from scanpay.i18n import Text
from scanpay.protocol.models import Refund as RefundBody
from scanpay.protocol.models import RefundRequest
from scanpay.terminal.client import Answer, Refusal
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.refund import (
    OutsideRefund,
    RefundEvent,
    RefundNoAnswer,
    RefundNotSent,
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
from scanpay.terminal.sale import RefundApplied, SaleError

if TYPE_CHECKING:
    from scanpay.terminal.engine import Engine

__all__ = ["RefundRunner"]

log = logging.getLogger("scanpay.terminal")

AGENT = "agent"
_BATCH_NUMBER = re.compile(r"[A-Za-z0-9_\-]{1,32}")


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

    def _known_total(self, out_trade_no: str) -> int:
        """What the journal knows was refunded of a sale: its own successful refunds and
        those made elsewhere."""
        journal = self.engine.journal
        own = sum(
            r.amount
            for r in journal.refunds(out_trade_no=out_trade_no)
            if r.state == RefundState.SUCCESS
        )
        return own + sum(r.amount for r in journal.outside_refunds(out_trade_no=out_trade_no))

    def _refund_applied(self, refund: RefundRecord) -> None:
        self.engine.apply(
            refund.out_trade_no,
            RefundApplied(self.engine.clock(), self._known_total(refund.out_trade_no)),
            detail={"out_refund_no": refund.out_refund_no, "amount": refund.amount},
        )

    # ------------------------------------------------------ refunds made elsewhere

    def refresh(self, out_trade_no: str, *, timeout: float = 5.0) -> bool | None:
        """Ask the host about a paid sale's refunds and bring the journal up to date.

        True: the sale now says what the host says. False: the host could not be
        asked (the screen says its figures may be out of date). None: nothing to
        ask (the sale took no money).
        """
        sale = self.engine.sale(out_trade_no)
        if not sale.captured:
            return None
        client = self.engine.client
        payment = client.query(out_trade_no, timeout=timeout)
        if not isinstance(payment, Answer):
            return False
        listed = client.list_refunds(out_trade_no=out_trade_no, timeout=timeout)
        if not isinstance(listed, Answer):
            return False
        self._take(listed.body.items)
        self._catch_up(out_trade_no, payment.body.refunded_amount)
        return True

    def sync_day(self, day: date, currency: str, *, timeout: float = 5.0) -> bool:
        """Learn the refunds of ``day`` made elsewhere (before its totals are counted);
        False when the host could not be asked."""
        listed = self.engine.client.list_refunds(day=day, currency=currency, timeout=timeout)
        if not isinstance(listed, Answer):
            return False
        for out_trade_no in self._take(listed.body.items):
            self._catch_up(out_trade_no)
        return True

    def _take(self, items: Iterable[RefundBody]) -> set[str]:
        """Journal the host's refunds that this terminal did not make; returns the trade
        numbers of those that were new."""
        journal = self.engine.journal
        touched: set[str] = set()
        for item in items:
            if item.status.value != RefundState.SUCCESS.value:
                continue
            if journal.get_refund(item.out_refund_no) is not None:
                continue  # the terminal's own: its record settles it
            if not _BATCH_NUMBER.fullmatch(item.out_refund_no):
                # Not a number a batch line can carry: left to the host's differences.
                log.warning("refund %r made elsewhere: number not batchable", item.out_refund_no)
                continue
            sale = journal.get_sale(item.out_trade_no)
            record = OutsideRefund(
                out_refund_no=item.out_refund_no,
                out_trade_no=item.out_trade_no,
                amount=item.amount,
                currency=item.currency,
                refunded_at=item.created_at.timestamp(),
                refund_id=item.refund_id,
                reason=item.reason,
                training=sale.training if sale is not None else False,
            )
            if journal.add_outside_refund(record, at=self.engine.clock()):
                touched.add(item.out_trade_no)
        return touched

    def _catch_up(self, out_trade_no: str, host_total: int = 0) -> None:
        """Move a sale to what was refunded of it: what the journal knows, or what the
        host says (a refund the terminal cannot list still leaves less to refund)."""
        with self.engine.changed:
            sale = self.engine.journal.get_sale(out_trade_no)
            if sale is None or not sale.captured:
                return  # a show-to-pay order: its refunds count in the day's totals only
            total = max(self._known_total(out_trade_no), host_total)
            if total <= sale.refunded_amount:
                return
            try:
                self.engine.apply(
                    out_trade_no,
                    RefundApplied(self.engine.clock(), total),
                    detail={"source": "host", "refunded_total": total},
                )
            except SaleError:
                log.error("sale %s: the host's refunds (%s) pass its amount", out_trade_no, total)

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
        detail: dict[str, Any] = {"attempt": command.attempt}
        if isinstance(reply, Answer):
            body = reply.body
            event = RefundReplied(
                now, body.status.value, body.code, _text(body.message), body.refund_id
            )
        elif isinstance(reply, Refusal):
            event = RefundRefused(
                now, reply.error.code, _text(reply.error.message), reply.error.field
            )
        elif not reply.sent and reply.error is not None:
            # The certificate was refused in the handshake, or the connection: the
            # request never left (the machine decides what that means for this send).
            event = RefundNotSent(now, reply.error.code, reply.error.text)
            detail.update(reason=reply.reason, code=reply.error.code, sent=False)
        else:
            event = RefundNoAnswer(now, reply.reason)
            detail.update(reason=reply.reason)
        step = self.apply(refund.out_refund_no, event, detail)
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
