"""The store-and-forward reversal queue.

A reversal is written to the journal (table ``reversals``) before it is sent,
and sent again - with capped, jittered exponential backoff - until the host
acknowledges it: a signed answer saying the payment is REVERSED (or FAILED:
nothing to give back). Nothing else counts: a refusal, a 5xx, silence or an
unsigned reply leave it in the queue, which survives restarts because it *is*
the journal. A reversal is never dropped, however long the host stays away
(research-payments.md §4: jPOS's SAF without an expiry).

Reversals are idempotent on the host, and one that arrives before its payment
leaves a tombstone there, so sending one too many is harmless; sending one too
few would leave money with the merchant for a sale the cashier saw fail.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from scanpay.protocol.models import Payment
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.client import Answer, HostClient, Refusal
from scanpay.terminal.journal import Journal, ReversalEntry

__all__ = ["ACK_STATUSES", "ReversalQueue"]

log = logging.getLogger("scanpay.terminal")

ACK_STATUSES = frozenset({"REVERSED", "FAILED"})
"""Payment statuses that acknowledge a reversal: no money stays with the merchant."""


class ReversalQueue:
    """Forwards queued reversals to the host until each is acknowledged."""

    def __init__(
        self,
        *,
        journal: Journal,
        client: HostClient,
        on_ack: Callable[[str, Payment], None],
        clock: Callable[[], float] = time.time,
        cap: float = 60.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._journal = journal
        self._client = client
        self._on_ack = on_ack
        self._clock = clock
        self._rand = rand
        self.backoff = Backoff(first=1.0, factor=2.0, cap=max(1.0, cap), jitter=0.3)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()

    def enqueue(self, out_trade_no: str, reason: str) -> None:
        """Queue a reversal (idempotent) and wake the worker."""
        self._journal.enqueue_reversal(out_trade_no, reason, self._clock())
        self._wake.set()

    def waiting(self) -> list[ReversalEntry]:
        """Reversals not acknowledged yet."""
        return self._journal.reversals(waiting=True)

    def run_once(self) -> int:
        """Send every reversal that is due; returns how many were acknowledged."""
        acked = 0
        with self._busy:
            now = self._clock()
            for entry in self._journal.reversals(waiting=True):
                if entry.next_attempt_at > now or self._stop.is_set():
                    continue
                if self._attempt(entry):
                    acked += 1
        return acked

    def _attempt(self, entry: ReversalEntry) -> bool:
        reply = self._client.reverse(entry.out_trade_no)
        now = self._clock()
        if isinstance(reply, Answer) and reply.body.status.value in ACK_STATUSES:
            self._on_ack(entry.out_trade_no, reply.body)
            return True
        if isinstance(reply, Answer):
            error = f"host status {reply.body.status.value}"
        elif isinstance(reply, Refusal):
            error = f"refused {reply.error.code} ({reply.status})"
        else:
            error = reply.reason
        delay = self.backoff.delay(entry.attempts, self._rand())
        self._journal.reversal_failed(entry.out_trade_no, error, now + delay)
        log.warning(
            "reversal of %s not acknowledged (%s); retry in %.1fs", entry.out_trade_no, error, delay
        )
        return False

    # ------------------------------------------------------------- worker

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="reversals", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # pragma: no cover - logged; the queue is in the journal
                log.exception("reversal queue pass failed")
            pending = self._journal.reversals(waiting=True)
            now = self._clock()
            delay = min((e.next_attempt_at - now for e in pending), default=5.0)
            self._wake.wait(max(0.05, min(delay, 5.0)))
            self._wake.clear()
