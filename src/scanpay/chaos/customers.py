"""The customers' phones: one-time codes of every kind a cashier meets.

The built-in wallet's codes are made offline from the account's secret and a
5-second time step (:mod:`scanpay.host.domain.wallet_codes`), exactly as a
phone makes them: valid ones (18 digits or EMV CPM), expired ones (a step long
gone), reused ones (a code already shown to a cashier), invalid ones (a wrong
one-time password), codes of an account without the money, and codes of an
account whose payments wait for the PIN.

The host accepts one code per account and time step, so a book keeps several
accounts and hands out each (account, step) once. Each terminal gets its own
book and its own accounts: its sales run one after another, so the counters of
EMV codes reach the host in the order they were made (two terminals sharing
an account could deliver them out of order, which the host rightly refuses).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from scanpay.host.domain.wallet_codes import CodeFormat, make_cpm, make_digits, otp

__all__ = ["CodeBook", "CodeKind", "Customer", "IssuedCode", "Role"]


class Role(StrEnum):
    """What an account is for in the run."""

    RICH = "rich"
    """Plenty of money, never asked for the PIN."""
    PIN = "pin"
    """Every payment waits for the customer's PIN."""
    POOR = "poor"
    """Less money than any sale asks for: insufficient funds (51)."""


class CodeKind(StrEnum):
    """The kinds of code a sale is paid with (the host's answer in brackets)."""

    VALID = "valid"  # 18 digits (00)
    VALID_CPM = "valid_cpm"  # EMV consumer-presented QR (00)
    EXPIRED = "expired"  # a step past the code's lifetime (54)
    REUSED = "reused"  # shown before (14)
    INVALID = "invalid"  # a wrong one-time password (14)
    INSUFFICIENT = "insufficient_funds"  # (51)
    PIN_CONFIRMED = "pin_confirmed"  # USER_PAYING, the customer types the PIN
    PIN_ABANDONED = "pin_abandoned"  # USER_PAYING, the customer walks away


_ROLE = {
    CodeKind.INSUFFICIENT: Role.POOR,
    CodeKind.PIN_CONFIRMED: Role.PIN,
    CodeKind.PIN_ABANDONED: Role.PIN,
}


@dataclass
class Customer:
    """A wallet account and what its phone knows: the secret, the steps it has shown."""

    account: str
    secret: bytes
    role: Role
    balance: int
    """The opening balance (minor units)."""
    pin: str
    used_steps: set[int] = field(default_factory=set)
    atc: int = 0
    """The last EMV application transaction counter this phone used."""


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code as scanned, the account it belongs to, and what kind it really is."""

    text: str
    account: str
    kind: CodeKind


@dataclass(frozen=True, slots=True)
class _Shown:
    text: str
    account: str
    step: int


class CodeBook:
    """One terminal's customers. Not thread-safe: one cashier thread uses it."""

    #: Fresh codes come from this many steps back up to one step ahead, so they are
    #: still live when a delayed or re-sent request first reaches the host.
    BACK_STEPS = 4
    AHEAD_STEPS = 1

    def __init__(
        self,
        fmt: CodeFormat,
        customers: list[Customer],
        rng: random.Random,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.fmt = fmt
        self.customers = customers
        self.rng = rng
        self.clock = clock
        self.sleep = sleep
        self._shown: deque[_Shown] = deque(maxlen=64)
        self._turn = 0

    def issue(self, kind: CodeKind) -> IssuedCode:
        """A code of ``kind`` (a reused code falls back to expired when none was shown yet)."""
        if kind is CodeKind.EXPIRED:
            return self._expired()
        if kind is CodeKind.REUSED:
            return self._reused()
        if kind is CodeKind.INVALID:
            customer, step = self._fresh(Role.RICH, consume=False)
            good = otp(customer.secret, step, self.fmt.otp_digits)
            wrong = str((int(good) + 1) % 10**self.fmt.otp_digits).rjust(len(good), "0")
            return IssuedCode(self.fmt.prefix + customer.account + wrong, customer.account, kind)
        customer, step = self._fresh(_ROLE.get(kind, Role.RICH))
        if kind is CodeKind.VALID_CPM:
            customer.atc += 1
            text = make_cpm(self.fmt, customer.account, customer.secret, step, customer.atc)
        else:
            text = make_digits(self.fmt, customer.account, customer.secret, step)
        self._shown.append(_Shown(text, customer.account, step))
        return IssuedCode(text, customer.account, kind)

    def _now_step(self) -> int:
        return self.fmt.step(int(self.clock()))

    def _fresh(self, role: Role, *, consume: bool = True) -> tuple[Customer, int]:
        """An account of ``role`` and a live step it has not shown yet (waits for the
        next step when every account has used every live one)."""
        pool = [c for c in self.customers if c.role is role]
        if not pool:
            raise ValueError(f"no {role} customer in the book")
        while True:
            now = self._now_step()
            steps = range(now - self.BACK_STEPS, now + self.AHEAD_STEPS + 1)
            for i in range(len(pool)):
                customer = pool[(self._turn + i) % len(pool)]
                free = [s for s in steps if s not in customer.used_steps]
                if free:
                    self._turn += i + 1
                    if consume:
                        customer.used_steps.add(free[0])
                        # Forget steps no live code can have any more.
                        customer.used_steps = {s for s in customer.used_steps if s > now - 40}
                    return customer, free[0]
            self.sleep(0.25)

    def _expired(self) -> IssuedCode:
        customer = self.rng.choice([c for c in self.customers if c.role is Role.RICH])
        # Well past the lifetime, well inside the look-back that makes it "expired" (54).
        step = self._now_step() - 2 * self.fmt.window_steps
        text = make_digits(self.fmt, customer.account, customer.secret, step)
        return IssuedCode(text, customer.account, CodeKind.EXPIRED)

    def _reused(self) -> IssuedCode:
        now = self._now_step()
        live = [s for s in self._shown if s.step > now - self.fmt.window_steps + 2]
        if not live:
            return self._expired()
        shown = self.rng.choice(live)
        return IssuedCode(shown.text, shown.account, CodeKind.REUSED)
