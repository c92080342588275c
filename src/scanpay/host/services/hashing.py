"""Every argon2 hash and check of the host, through one bounded gate per process.

:data:`GATE` runs at most its budget's ``limit`` hashes at once (its own worker
threads), lets ``queue`` more wait, and refuses the next at once with
:class:`HashBusy` (503, code 91, ``retry_after``): a flood of logins costs the
process a bounded amount of memory (64 MiB a hash) and CPU whatever its size, and
never holds more than ``limit + queue`` request threads. The workers run at a
lower CPU priority than the request threads, so what hashing there is yields to
payments. Wallet PINs and portal passwords both go through :func:`verify` and
:func:`make_hash`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2.exceptions import InvalidHashError, VerificationError

from scanpay.host.domain.hash_budget import HashBudget
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text

__all__ = ["GATE", "HashBusy", "HashGate", "dummy_hash", "make_hash", "verify"]

T = TypeVar("T")

#: Nice value of the hashing threads (Linux sets it per thread; argon2's lane threads
#: inherit it). Ten is about a tenth of the CPU share of a request thread beside it.
_NICE = 10


class HashBusy(HostError):
    """The process hashes all it can and its queue is full: try again in ``retry_after``
    seconds (503, code 91; nothing was checked, nothing changed)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "91",
            Text(
                f"系统繁忙，请 {retry_after} 秒后重试",
                f"The host is busy; try again in {retry_after} s",
            ),
        )
        self.retry_after = retry_after


def _yield_cpu() -> None:
    # Best effort: elsewhere than Linux the call may change the whole process or fail.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICE)


class HashGate:
    """Runs hashing work within a :class:`HashBudget` (see the module docstring)."""

    def __init__(self, budget: HashBudget) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._admitted = 0
        self._mean = 0.5  # seconds a hash takes; a first guess until one is measured
        self._pool: ThreadPoolExecutor | None = None
        if hasattr(os, "register_at_fork"):  # POSIX
            os.register_at_fork(after_in_child=self._forget)

    @property
    def admitted(self) -> int:
        """Hashes running or waiting now."""
        return self._admitted

    def _busy(self) -> HashBusy:
        # Spread over up to twice the estimate: callers refused in one burst do not all
        # come back in one burst.
        seconds = self.budget.retry_after(self._admitted, self._mean)
        return HashBusy(seconds + secrets.randbelow(seconds + 1))

    def refusal(self) -> HashBusy | None:
        """The refusal :meth:`run` would raise now, if any: a caller with work to do
        before its hash (a login's throttle) can refuse first and spare it."""
        with self._lock:
            return None if self.budget.admits(self._admitted) else self._busy()

    def _forget(self) -> None:
        # A forked host worker inherits neither the threads nor their work: it starts
        # afresh (and a lock some other thread held at the fork would never be released).
        self._lock = threading.Lock()
        self._admitted = 0
        self._pool = None

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.budget.limit, thread_name_prefix="scanpay-argon2", initializer=_yield_cpu
            )
        return self._pool

    def run(self, work: Callable[[], T]) -> T:
        """``work()`` on a hashing thread, once a slot is free; :class:`HashBusy` when the
        queue is full."""
        with self._lock:
            if not self.budget.admits(self._admitted):
                raise self._busy()
            self._admitted += 1
            pool = self._workers()
        try:
            return pool.submit(self._timed, work).result()
        finally:
            with self._lock:
                self._admitted -= 1

    def _timed(self, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return work()
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._mean = 0.8 * self._mean + 0.2 * elapsed


#: This process's gate.
GATE = HashGate(HashBudget.for_cpus(os.cpu_count()))


def verify(ctx: HostContext, stored: str, secret: str) -> bool:
    """Whether ``secret`` matches the argon2 hash ``stored`` (a malformed hash matches
    nothing); :class:`HashBusy` when the process cannot take the work on now."""

    def check() -> bool:
        try:
            return ctx.hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    return GATE.run(check)


def make_hash(ctx: HostContext, secret: str) -> str:
    """The argon2 hash of ``secret``; :class:`HashBusy` when the process is too busy."""
    return GATE.run(lambda: ctx.hasher.hash(secret))


_DUMMY: dict[str, str] = {}


def dummy_hash(ctx: HostContext) -> str:
    """A hash of nothing anyone knows, made once per process: a login for an unknown
    account or e-mail is checked against it, so it costs what a known one costs and
    its timing tells nothing."""
    found = _DUMMY.get("hash")
    if found is None:
        found = _DUMMY.setdefault("hash", make_hash(ctx, secrets.token_hex(16)))
    return found
