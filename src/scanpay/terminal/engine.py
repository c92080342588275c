"""The engine: runs the pure machines' commands against the journal, the host
and the printer, and owns every retry, backoff and deadline.

For every event the engine (1) advances the machine, (2) writes the new
snapshot and the event row to the journal in one transaction, and only then
(3) runs the commands. A crash between any two of these leaves a journal
that :meth:`Engine.recover` finishes from: nothing is lost, nothing is done
twice (the host is idempotent on ``out_trade_no`` and ``out_refund_no``, and
reversals leave tombstones).

Threads: each sale, refund and order in flight has a driver thread that sleeps
until its ``wake_at``, ticks the machine and runs what it says; cashier actions
run in the API's threads; the reversal queue has its own worker. One lock
orders all transitions (they are short: HTTP calls happen outside it), and a
condition wakes long-polls and drivers on every change.

The full payment code is kept in memory only, for the send and its re-sends:
the journal holds its masked form.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scanpay.codes import (
    DEFAULT_WALLET_RULES,
    CodeError,
    MerchantPresentedCode,
    PaymentCode,
    WalletRules,
    parse_payment_code,
)
from scanpay.codes.names import masked_number, network_name
from scanpay.i18n import Text
from scanpay.money import get_currency
from scanpay.protocol.models import (
    CodeVerifyResponse,
    Payment,
    PaymentRequest,
)
from scanpay.terminal.client import Answer, HostClient, Refusal
from scanpay.terminal.config import TerminalConfig
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.journal import Journal
from scanpay.terminal.receipts import ReceiptPrinter, build_receipt, render_escpos, render_html
from scanpay.terminal.refunding import RefundRunner
from scanpay.terminal.reversals import ReversalQueue
from scanpay.terminal.sale import (
    IN_DOUBT_STATES,
    OPEN_STATES,
    CancelRequested,
    CodeScanned,
    CodeSummary,
    Command,
    Confirmed,
    Event,
    NoAnswer,
    NotFound,
    NotSent,
    PaymentReplied,
    Print,
    Query,
    Recovered,
    Refused,
    RescanRequested,
    ReversalAcknowledged,
    Reverse,
    Sale,
    SaleState,
    Send,
    Step,
    Submitted,
    Tick,
    advance,
)
from scanpay.terminal.showpay import OrderRunner
from scanpay.terminal.tls import CERTIFICATE_ERRORS

__all__ = ["Engine", "ScanOutcome", "failpoint"]

log = logging.getLogger("scanpay.terminal")

AGENT = "agent"
"""Actor recorded for steps the agent takes by itself (ticks, host answers)."""

_FAILPOINTS = frozenset(
    p.strip() for p in os.environ.get("SCANPAY_TERMINAL_FAILPOINTS", "").split(",") if p.strip()
)


def failpoint(name: str) -> None:
    """Fault injection for the recovery tests: ``SCANPAY_TERMINAL_FAILPOINTS=after:SUBMITTED``
    makes the agent SIGKILL itself right after that state is journaled (before it
    acts on it). Inert unless the variable is set."""
    if name in _FAILPOINTS:
        os.kill(os.getpid(), signal.SIGKILL)


def _text(message: Any) -> Text | None:
    if message is None:
        return None
    return Text(message.zh_cn, message.en)


def _asked(sale: Sale) -> tuple[int, str, str, str | None, bool]:
    """What starting ``sale`` asked for: the same again is the same sale."""
    return sale.amount, sale.currency, sale.operator_id, sale.note, sale.training


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What scanning a text gave."""

    code: dict[str, Any]
    """What the screen may show about the code (masked; see :meth:`Engine.describe_code`)."""
    charged: bool
    """False for a merchant-presented code: shown for checking, never sent as a payment."""
    sale: Sale
    sticker: dict[str, Any] | None = None
    """The host's verdict on a merchant-presented code (the swapped-sticker check)."""


class Engine:
    """Runs sales, refunds, orders and their recovery for one terminal."""

    def __init__(
        self,
        *,
        config: TerminalConfig,
        journal: Journal,
        client: HostClient,
        printer: ReceiptPrinter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.timings = config.timings
        self.journal = journal
        self.client = client
        self.printer = printer or ReceiptPrinter(config.printer)
        self.clock = clock
        self.wallet_rules: WalletRules = DEFAULT_WALLET_RULES.with_builtin_prefix(
            config.wallet_prefix
        )
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        self._codes: dict[str, str] = {}
        # Request key -> the sale or order its start opened: a start sent again with its
        # key (a double click, a retry after a lost answer) gets that one back. Memory
        # only: after a restart the same key opens anew, superseding the unsent one.
        self._start_keys: dict[str, str] = {}
        self._drivers: dict[str, threading.Thread] = {}
        self.stopping = threading.Event()
        self.block_reason: Text | None = None
        """Set by the self-test when sales must stop (software too old)."""
        self.recovering = False
        self.reversals = ReversalQueue(
            journal=journal,
            client=client,
            clock=clock,
            on_ack=self._reversal_acked,
            cap=config.reversal_backoff_cap,
        )
        self.refunds = RefundRunner(self)
        self.orders = OrderRunner(self)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Recover what the journal left in flight, then start the reversal worker."""
        self.recover()
        self.reversals.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()
        self.reversals.stop(timeout)
        for thread in list(self._drivers.values()):
            thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no driver runs (tests and the demo use it)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not any(t.is_alive() for t in self._drivers.values()):
                return True
            time.sleep(0.02)
        return False

    # --------------------------------------------------------------- views

    @property
    def training(self) -> bool:
        return self.journal.get_meta("training", "0") == "1"

    def set_training(self, enabled: bool, operator_id: str) -> None:
        self.journal.set_meta("training", "1" if enabled else "0")
        self.journal.append(
            at=self.clock(),
            kind="setting",
            ref="training",
            event="training_on" if enabled else "training_off",
            operator_id=operator_id,
            training=enabled,
        )

    def sale(self, out_trade_no: str) -> Sale:
        sale = self.journal.get_sale(out_trade_no)
        if sale is None:
            raise TerminalError("sale_not_found", out_trade_no=out_trade_no)
        return sale

    def wait_for_change(self, out_trade_no: str, version: int, timeout: float) -> Sale:
        """Block until the sale's version differs from ``version`` (long-poll)."""
        end = time.monotonic() + max(0.0, timeout)
        with self.changed:
            while True:
                sale = self.sale(out_trade_no)
                left = end - time.monotonic()
                if sale.version != version or left <= 0 or self.stopping.is_set():
                    return sale
                self.changed.wait(min(left, 1.0))

    def wait_answered(self, out_trade_no: str, timeout: float) -> Sale:
        """Block until the sale has an answer to show: it is no longer being sent or
        queried (APPROVED, DECLINED, USER_PAYING, REVERSING... or ``timeout``)."""
        end = time.monotonic() + timeout
        sale = self.sale(out_trade_no)
        while sale.state in (SaleState.CONFIRMED, SaleState.SUBMITTED, SaleState.UNKNOWN):
            left = end - time.monotonic()
            if left <= 0:
                break
            sale = self.wait_for_change(out_trade_no, sale.version, left)
        return sale

    def in_doubt(self) -> list[Sale]:
        return self.journal.sales(states=IN_DOUBT_STATES)

    # ---------------------------------------------------------- transitions

    def apply(
        self,
        no: str,
        event: Event,
        *,
        operator_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Step:
        """Advance one sale and journal it before anything acts on it (the caller
        runs the returned commands). Also used by the refund runner."""
        with self.changed:
            sale = self.sale(no)
            step = advance(sale, event, self.timings)
            if step.ignored is None or not isinstance(event, Tick):
                info = dict(detail or {})
                if operator_id is None:
                    info["actor"] = AGENT
                if step.ignored is not None:
                    info["ignored"] = step.ignored
                self.journal.save_sale(
                    step.sale,
                    event=event.name,
                    at=event.now,
                    operator_id=operator_id or sale.operator_id,
                    from_state=sale.state.value,
                    detail=info or None,
                )
            self.changed.notify_all()
        if step.ignored is None and step.sale.state != sale.state:
            failpoint(f"after:{step.sale.state.value}")
        return step

    def _run(self, commands: Iterable[Command]) -> None:
        """Run a step's commands, and those of the steps they lead to."""
        queue = list(commands)
        while queue:
            command = queue.pop(0)
            if isinstance(command, Send):
                queue.extend(self._send(command))
            elif isinstance(command, Query):
                queue.extend(self._query(command))
            elif isinstance(command, Reverse):
                self.reversals.enqueue(command.out_trade_no, command.reason.value)
            elif isinstance(command, Print):
                self.print_receipts(command.out_trade_no)
            # Show: the journal write already woke every long-poll.

    def _send(self, command: Send) -> tuple[Command, ...]:
        sale = self.sale(command.out_trade_no)
        code = self._codes.get(sale.out_trade_no)
        now = self.clock
        if code is None:
            step = self.apply(sale.out_trade_no, NoAnswer(now(), "send", "code not in memory"))
            return step.commands
        request = self._payment_request(sale, code)
        reply = self.client.pay(request)
        event: Event
        detail: dict[str, Any] = {"attempt": command.attempt}
        if isinstance(reply, Answer):
            event = self._replied(reply.body, "send")
            detail.update(status=reply.body.status.value, code=reply.body.code)
        elif isinstance(reply, Refusal):
            event = Refused(
                now(), "send", reply.error.code, _text(reply.error.message), reply.error.field
            )
            detail.update(code=reply.error.code, http=reply.status, field=reply.error.field)
        elif not reply.sent and reply.error is not None and reply.error.code in CERTIFICATE_ERRORS:
            # The certificate was refused in the handshake: the request never left.
            # (A refused connection never left either, but a sale keeps asking: it has
            # a deadline and its code in memory, so a host back in time gets the same
            # request again with nothing for the cashier to do.)
            event = NotSent(now(), "send", reply.error.code, reply.error.text)
            detail.update(reason=reply.reason, sent=False)
        else:
            event = NoAnswer(now(), "send", reply.reason)
            detail.update(reason=reply.reason)
        return self._after_reply(sale.out_trade_no, event, detail)

    def _query(self, command: Query) -> tuple[Command, ...]:
        no = command.out_trade_no
        reply = self.client.query(no)
        now = self.clock()
        event: Event
        detail: dict[str, Any] = {"purpose": command.purpose}
        if isinstance(reply, Answer):
            event = self._replied(reply.body, "query")
            detail.update(status=reply.body.status.value, code=reply.body.code)
        elif isinstance(reply, Refusal) and reply.status == 404:
            event = NotFound(now, can_resend=no in self._codes)
            detail.update(code=reply.error.code)
        elif isinstance(reply, Refusal):
            event = Refused(now, "query", reply.error.code, _text(reply.error.message))
            detail.update(code=reply.error.code, http=reply.status)
        else:
            event = NoAnswer(now, "query", reply.reason)
            detail.update(reason=reply.reason)
        return self._after_reply(no, event, detail)

    def _after_reply(self, no: str, event: Event, detail: dict[str, Any]) -> tuple[Command, ...]:
        step = self.apply(no, event, detail=detail)
        if step.sale.state not in IN_DOUBT_STATES:
            # Settled (or handed to the reversal queue): the code is no longer needed.
            self._codes.pop(no, None)
        return step.commands

    def _replied(self, payment: Payment, source: Any) -> PaymentReplied:
        return PaymentReplied(
            self.clock(),
            source,
            payment.status.value,
            payment.code,
            _text(payment.message),
            payment.payment_id,
            payment.wallet,
            payment.payer,
            payment.paid_at.isoformat() if payment.paid_at else None,
            payment.refunded_amount,
            payment.pin_expires_in,
        )

    def _payment_request(self, sale: Sale, code: str) -> PaymentRequest:
        # The same body on every send: the host compares it with the first one (code 95).
        return PaymentRequest(
            out_trade_no=sale.out_trade_no,
            amount=sale.amount,
            currency=sale.currency,
            auth_code=code,
            description=sale.note,
            operator_id=sale.operator_id,
            training=sale.training,
        )

    # --------------------------------------------------------------- drivers

    def _drive(self, no: str, commands: tuple[Command, ...]) -> None:
        """Drive a sale in doubt until it is settled or handed to the reversal queue."""

        def loop() -> None:
            pending: tuple[Command, ...] = commands
            while not self.stopping.is_set():
                try:
                    self._run(pending)
                    pending = ()
                    with self.changed:
                        sale = self.sale(no)
                        if sale.state not in IN_DOUBT_STATES:
                            return
                        now = self.clock()
                        if sale.wake_at is not None and now < sale.wake_at:
                            self.changed.wait(min(sale.wake_at - now, 0.5))
                            continue
                    step = self.apply(no, Tick(self.clock()))
                    if step.ignored is not None:
                        self.stopping.wait(0.05)
                    pending = step.commands
                except Exception:
                    # The journal holds the state; a tick retries, and the deadline
                    # still comes even if this keeps failing (e.g. a full disk).
                    log.exception("sale driver %s: step failed; retrying", no)
                    pending = ()
                    self.stopping.wait(1.0)

        self.start_thread(no, loop)

    def start_thread(self, key: str, target: Callable[[], None]) -> None:
        with self._lock:
            current = self._drivers.get(key)
            if current is not None and current.is_alive():
                return
            thread = threading.Thread(target=target, name=f"driver-{key}", daemon=True)
            self._drivers[key] = thread
            thread.start()

    # ----------------------------------------------------------- recovery

    def recover(self) -> int:
        """Resume everything the journal left in flight; returns how many sales were in doubt.

        CONFIRMED sales were never sent (SUBMITTED is journaled first): cancelled.
        Sales in doubt are queried (and reversed past their deadline) by their
        drivers; REVERSING ones go back to the queue; unsettled refunds are sent
        again; orders are looked up again.
        """
        self.recovering = True
        now = self.clock()
        recovering = self.journal.sales(
            states={SaleState.CONFIRMED, SaleState.CODE_READ, SaleState.REVERSING} | IN_DOUBT_STATES
        )
        in_doubt = 0
        for sale in recovering:
            if sale.state == SaleState.REVERSING:
                entry = self.journal.reversal(sale.out_trade_no)
                if entry is not None and entry.acked_at is not None and entry.host_status:
                    # Acknowledged, but the sale's own row did not follow: finish it.
                    self.apply(
                        sale.out_trade_no,
                        ReversalAcknowledged(now, entry.host_status, "00"),
                        detail={"recovered": True},
                    )
                    continue
            step = self.apply(sale.out_trade_no, Recovered(now))
            if step.sale.state in IN_DOUBT_STATES:
                in_doubt += 1
                self._drive(sale.out_trade_no, step.commands)
            else:
                self._run(step.commands)
        self.refunds.recover(now)
        self.orders.recover(now)
        threading.Thread(target=self._recovery_watch, daemon=True, name="recovery").start()
        return in_doubt

    def _recovery_watch(self) -> None:
        while not self.stopping.is_set() and self.journal.count_in_doubt():
            self.stopping.wait(0.1)
        self.recovering = False

    # ---------------------------------------------------------------- sales

    def trade_number(self) -> str:
        """``<terminal><journal id>-<yymmdd><sequence>``: unique per terminal, ≤ 32 characters."""
        tid = "".join(ch for ch in self.config.terminal_id if ch.isalnum())
        if len(tid) > 12:
            tid = tid[:4] + hashlib.sha256(tid.encode()).hexdigest()[:8]
        journal_id = self.journal.get_meta("journal_id")
        if journal_id is None:
            journal_id = os.urandom(2).hex()
            self.journal.set_meta("journal_id", journal_id)
        day = datetime.fromtimestamp(self.clock(), self.config.zone).strftime("%y%m%d")
        return f"{tid}{journal_id}-{day}{self.journal.next_number('sale_seq'):05d}"

    def open_sale(
        self, amount: int, currency: str | None, operator_id: str, note: str | None = None
    ) -> Sale:
        """Start a sale (NEW); see :meth:`start_sale`."""
        return self.start_sale(amount, currency, operator_id, note)[0]

    def start_sale(
        self,
        amount: int,
        currency: str | None,
        operator_id: str,
        note: str | None = None,
        *,
        request_key: str | None = None,
    ) -> tuple[Sale, bool]:
        """Start a sale (NEW); returns it and whether it is the one already open.

        Refused while sales are blocked or a sale is in doubt. One start, one sale:
        the same request again with the same ``request_key`` while its sale is still
        NEW (a double click, a retry after a lost answer) gets that sale back -
        idempotent, like the host. Any other start - without a key, or with another
        key, even for the same amount - cancels the sale still open and never sent,
        and closes a show-to-pay order still payable: the screen has walked away
        from both.
        """
        if self.block_reason is not None:
            raise TerminalError("sales_blocked", reason=self.block_reason.en)
        doubt = self.journal.count_in_doubt()
        if doubt:
            raise TerminalError("sales_in_doubt", count=doubt)
        currency = get_currency(currency or self.config.currency).alpha
        now = self.clock()
        with self.changed:
            open_sales = self.journal.sales(states=OPEN_STATES)
            newest = open_sales[0] if open_sales else None
            asked = (amount, currency, operator_id, note, self.training)
            if (
                newest is not None
                and newest.state == SaleState.NEW
                and self.started_by(request_key) == newest.out_trade_no
                and _asked(newest) == asked
            ):
                return newest, True
            self.supersede_sales(now, operator_id)
            closing = self.orders.supersede(now, operator_id)
            with self.journal.transaction():
                sale = Sale.open(
                    self.trade_number(),
                    amount,
                    currency or self.config.currency,
                    operator_id=operator_id,
                    now=now,
                    training=self.training,
                    note=note,
                )
                self.journal.save_sale(
                    sale,
                    event="opened",
                    at=now,
                    operator_id=operator_id,
                    from_state=None,
                    detail={"amount": sale.amount, "currency": sale.currency},
                )
            self.remember_start(request_key, sale.out_trade_no)
            self.changed.notify_all()
        self.orders.close_later(closing)
        failpoint("after:NEW")
        return sale, False

    def started_by(self, request_key: str | None) -> str | None:
        """The trade number the start with ``request_key`` opened (None: no key, or unknown)."""
        return self._start_keys.get(request_key) if request_key else None

    def remember_start(self, request_key: str | None, out_trade_no: str) -> None:
        """Note which sale or order a keyed start opened (the newest few hundred)."""
        if not request_key:
            return
        self._start_keys[request_key] = out_trade_no
        while len(self._start_keys) > 256:
            self._start_keys.pop(next(iter(self._start_keys)))

    def supersede_sales(self, now: float, operator_id: str) -> None:
        """Cancel every sale still open and never sent (a new start walks away from it);
        ``sale_in_progress`` while one is being sent. Call with :attr:`changed` held."""
        for open_sale in self.journal.sales(states=OPEN_STATES):
            if open_sale.state == SaleState.CONFIRMED:
                raise TerminalError("sale_in_progress", out_trade_no=open_sale.out_trade_no)
            # Never sent: an abandoned sale is simply cancelled by the next one.
            self._codes.pop(open_sale.out_trade_no, None)
            self.apply(
                open_sale.out_trade_no,
                CancelRequested(now),
                operator_id=operator_id,
                detail={"superseded": True},
            )

    def parse_code(self, text: str) -> PaymentCode:
        """Parse a scanned text locally; :class:`TerminalError` ``code_refused`` with the reason."""
        cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
        try:
            return parse_payment_code(cleaned, wallet_rules=self.wallet_rules)
        except CodeError as exc:
            raise TerminalError(
                "code_refused",
                field=exc.field,
                detail={
                    "code": exc.code,
                    "field": exc.field,
                    "offset": exc.offset,
                    "message": exc.text.as_dict(),
                },
                reason=exc.text.en,
            ) from None

    def verify_sticker(self, code: MerchantPresentedCode) -> dict[str, Any]:
        """The host's verdict on a merchant-presented code (issue 5's sticker check)."""
        reply = self.client.verify_code(code.payload)
        if isinstance(reply, Answer):
            body: CodeVerifyResponse = reply.body
            return {
                "verdict": body.verdict,
                "merchant_name": body.merchant_name,
                "payee": body.payee,
                "message": {"zh-CN": body.message.zh_cn, "en": body.message.en},
            }
        if isinstance(reply, Refusal):
            return {"verdict": "unavailable", "code": reply.error.code}
        return {"verdict": "unavailable", "reason": reply.reason}

    def describe_code(self, code: PaymentCode) -> dict[str, Any]:
        """What the screen may show about a code (never the full one-time code)."""
        masked = code.mask()
        data: dict[str, Any] = {
            "kind": code.kind,
            "scheme": code.scheme,
            "masked": masked,
            # for people: the network by name, the code without the network's identifier
            "scheme_name": network_name(code.scheme).as_dict(),
            "number": masked_number(code.kind, masked),
        }
        if isinstance(code, MerchantPresentedCode):
            try:
                amount = code.amount
            except CodeError:
                amount = None
            payee = code.payee
            data.update(
                merchant_name=code.merchant_name,
                merchant_city=code.merchant_city,
                amount=amount,
                currency=code.currency_alpha,
                payee=payee.payee if payee else None,
                dynamic=code.is_dynamic,
            )
        elif code.warnings:
            data["warnings"] = [w.to_dict() for w in code.warnings]
        return data

    def scan(self, out_trade_no: str, text: str, operator_id: str) -> ScanOutcome:
        """A scanned text for a sale. Malformed: refused with the reason. Merchant-presented:
        shown with the host's sticker verdict, never charged. Otherwise: CODE_READ."""
        code = self.parse_code(text)
        info = self.describe_code(code)
        if isinstance(code, MerchantPresentedCode):
            sticker = self.verify_sticker(code)
            self.journal.append(
                at=self.clock(),
                kind="sale",
                ref=out_trade_no,
                event="merchant_code_scanned",
                operator_id=operator_id,
                detail={"masked": code.mask(), "verdict": sticker.get("verdict")},
            )
            return ScanOutcome(info, False, self.sale(out_trade_no), sticker)
        summary = CodeSummary(code.kind, code.scheme, code.mask())
        step = self.apply(
            out_trade_no,
            CodeScanned(self.clock(), summary),
            operator_id=operator_id,
            detail=summary.to_dict(),
        )
        self._codes[out_trade_no] = code.payload
        return ScanOutcome(info, True, step.sale)

    def rescan(self, out_trade_no: str, operator_id: str) -> Sale:
        step = self.apply(out_trade_no, RescanRequested(self.clock()), operator_id=operator_id)
        self._codes.pop(out_trade_no, None)
        return step.sale

    def confirm(self, out_trade_no: str, operator_id: str) -> Sale:
        """Confirm and send. CONFIRMED then SUBMITTED are journaled before the first byte."""
        if self.block_reason is not None:
            raise TerminalError("sales_blocked", reason=self.block_reason.en)
        if out_trade_no not in self._codes:
            sale = self.sale(out_trade_no)
            if sale.state == SaleState.CODE_READ:
                # The code did not survive a restart of the agent: scan again.
                self.apply(
                    out_trade_no,
                    RescanRequested(self.clock()),
                    operator_id=operator_id,
                    detail={"reason": "code not in memory"},
                )
        self.apply(out_trade_no, Confirmed(self.clock()), operator_id=operator_id)
        step = self.apply(out_trade_no, Submitted(self.clock()), operator_id=operator_id)
        self._drive(out_trade_no, step.commands)
        return step.sale

    def cancel(self, out_trade_no: str, operator_id: str) -> Sale:
        step = self.apply(out_trade_no, CancelRequested(self.clock()), operator_id=operator_id)
        if step.sale.state not in IN_DOUBT_STATES:
            self._codes.pop(out_trade_no, None)
        self._run(step.commands)
        return step.sale

    def _reversal_acked(self, no: str, payment: Payment) -> None:
        """The queue got the host's acknowledgement: mark it and finish the sale, atomically."""
        now = self.clock()
        with self.changed, self.journal.transaction():
            self.journal.reversal_acked(no, payment.status.value, now)
            self.apply(
                no,
                ReversalAcknowledged(
                    now, payment.status.value, payment.code, _text(payment.message)
                ),
                detail={"status": payment.status.value, "code": payment.code},
            )
        self._codes.pop(no, None)

    # ------------------------------------------------------------- printing

    def receipts_html(self, out_trade_no: str, *, reprint: bool = False) -> str:
        sale = self.sale(out_trade_no)
        copies = [
            build_receipt(sale, self.config, "merchant", reprint=reprint),
            build_receipt(sale, self.config, "customer", reprint=reprint),
        ]
        return render_html(copies, self.config.printer.language, self.config.printer.width)

    def receipts_escpos(self, out_trade_no: str, *, reprint: bool = False) -> bytes:
        sale = self.sale(out_trade_no)
        copies = [
            build_receipt(sale, self.config, "merchant", reprint=reprint),
            build_receipt(sale, self.config, "customer", reprint=reprint),
        ]
        p = self.config.printer
        return render_escpos(copies, width=p.width, encoding=p.encoding, language=p.language)

    def print_receipts(
        self, out_trade_no: str, *, reprint: bool = False, operator_id: str | None = None
    ) -> bool:
        """Print both copies; a printer failure is journaled, never fatal to the sale."""
        sale = self.sale(out_trade_no)
        try:
            self.printer.send(self.receipts_escpos(out_trade_no, reprint=reprint))
            self.printer.keep_html(
                f"{out_trade_no}{'-reprint' if reprint else ''}",
                self.receipts_html(out_trade_no, reprint=reprint),
            )
        except TerminalError as exc:
            self.journal.append(
                at=self.clock(),
                kind="print",
                ref=out_trade_no,
                event="print_failed",
                operator_id=operator_id or sale.operator_id,
                training=sale.training,
                detail={"reason": exc.text.en},
            )
            return False
        self.journal.append(
            at=self.clock(),
            kind="print",
            ref=out_trade_no,
            event="reprinted" if reprint else "printed",
            operator_id=operator_id or sale.operator_id,
            training=sale.training,
            detail={"state": sale.state.value},
        )
        return True

    # ------------------------------------------------------------ helpers

    def replace_config(self, config: TerminalConfig) -> None:
        self.config = config
        self.timings = config.timings
        self.printer = ReceiptPrinter(config.printer)
