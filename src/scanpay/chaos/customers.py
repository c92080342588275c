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

A WeChat Pay customer's phone (:class:`NetworkBook`) asks the WeChat Pay
simulator for a fresh 18-digit code (``POST /sim/wallets/{id}/codes``), with
the outcome the sale plan chose attached to the code where it has one (a
system error, the password step, a reply the network never sends...): the
host's adapter sends no test headers, so the code carries the network's side of
the plan. Codes already paid with are shown again for a reused code.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from scanpay.host.domain.wallet_codes import CodeFormat, make_cpm, make_digits, otp

__all__ = [
    "NETWORK_OUTCOMES",
    "CodeBook",
    "CodeKind",
    "Customer",
    "IssuedCode",
    "NetworkBook",
    "NetworkCodeKind",
    "NetworkWallet",
    "Role",
]


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
    kind: CodeKind | NetworkCodeKind


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


# ---------------------------------------------------------------------- WeChat Pay codes


class NetworkCodeKind(StrEnum):
    """The kinds of WeChat Pay code a sale is paid with (the network's answer in brackets).

    Each but ``valid``, ``reused`` and ``poor`` is an outcome the simulator attaches
    to the code (``docs/networks.md``, "Outcomes a test chooses")."""

    VALID = "wx_valid"  # SUCCESS
    REUSED = "wx_reused"  # a code paid with before: AUTH_CODE_INVALID (14)
    POOR = "wx_notenough"  # a wallet without the money: NOTENOUGH (51)
    AUTHCODEEXPIRE = "wx_expired"  # AUTHCODEEXPIRE (54)
    USERPAYING_SUCCESS = "wx_password_ok"  # USERPAYING, then paid seconds later
    USERPAYING_FAIL = "wx_password_fail"  # USERPAYING, then PAYERROR
    USERPAYING_NEVER = "wx_password_never"  # USERPAYING until the deadline's reverse
    SYSTEMERROR = "wx_systemerror"  # SYSTEMERROR on pay: the order NOTPAY, nothing charged
    CHARGED_NO_REPLY = "wx_charged_no_reply"  # charged, the pay call never answered
    SLOW = "wx_slow"  # charged, answered past the host's pay timeout
    REVERSE_RECALL = "wx_reverse_recall"  # the order's first reverse answers recall=Y
    REFUND_PROCESSING = "wx_refund_processing"  # SUCCESS; its first refund PROCESSING there


#: The WeChat Pay simulator's outcome attached to each kind's code (None: a plain code).
NETWORK_OUTCOMES: dict[NetworkCodeKind, str | None] = {
    NetworkCodeKind.VALID: None,
    NetworkCodeKind.POOR: None,
    NetworkCodeKind.AUTHCODEEXPIRE: "AUTHCODEEXPIRE",
    NetworkCodeKind.USERPAYING_SUCCESS: "USERPAYING_SUCCESS",
    NetworkCodeKind.USERPAYING_FAIL: "USERPAYING_FAIL",
    NetworkCodeKind.USERPAYING_NEVER: "USERPAYING_NEVER",
    NetworkCodeKind.SYSTEMERROR: "SYSTEMERROR",
    NetworkCodeKind.CHARGED_NO_REPLY: "CHARGED_NO_REPLY",
    NetworkCodeKind.SLOW: "SLOW",
    NetworkCodeKind.REVERSE_RECALL: "REVERSE_RECALL",
    NetworkCodeKind.REFUND_PROCESSING: "REFUND_PROCESSING",
}


@dataclass
class NetworkWallet:
    """A customer's wallet at the network (the simulator): its id and opening balance."""

    wallet_id: int
    balance: int
    poor: bool = False


class NetworkBook:
    """One terminal's WeChat Pay customers. Not thread-safe: one cashier thread uses it.

    ``admin`` is the simulator's admin call (method, path, JSON body) -> JSON answer;
    ``seconds`` says, per kind, the delay attached to its outcome (the password step's
    length, how long a reply is held); ``outcomes`` the simulator's name of each kind's
    outcome (default: WeChat Pay's, :data:`NETWORK_OUTCOMES`)."""

    def __init__(
        self,
        wallets: list[NetworkWallet],
        rng: random.Random,
        admin: Callable[[str, str, dict[str, Any] | None], Any],
        seconds: dict[NetworkCodeKind, float],
        outcomes: Mapping[NetworkCodeKind, str | None] = NETWORK_OUTCOMES,
        prefix: str = "wx_",
    ) -> None:
        self.wallets = wallets
        self.rng = rng
        self.admin = admin
        self.seconds = seconds
        self.outcomes = outcomes
        self.prefix = prefix
        self._used: deque[str] = deque(maxlen=32)
        self._turn = 0

    def label(self, kind: NetworkCodeKind) -> str:
        """The report's name of a code of ``kind`` from this book (``wx_valid``, ``ali_valid``)."""
        return self.prefix + kind.value.removeprefix("wx_")

    def issue(self, kind: NetworkCodeKind) -> IssuedCode:
        """A code of ``kind`` (a reused code falls back to a valid one when none was used)."""
        if kind is NetworkCodeKind.REUSED:
            if self._used:
                return IssuedCode(self.rng.choice(list(self._used)), "", kind)
            kind = NetworkCodeKind.VALID
        poor = kind is NetworkCodeKind.POOR
        pool = [w for w in self.wallets if w.poor is poor]
        if not pool:
            raise ValueError(f"no {'poor' if poor else 'rich'} network wallet in the book")
        wallet = pool[self._turn % len(pool)]
        self._turn += 1
        body: dict[str, Any] | None = None
        outcome = self.outcomes[kind]
        if outcome is not None:
            body = {"outcome": outcome}
            if kind in self.seconds:
                body["seconds"] = self.seconds[kind]
        made = self.admin("POST", f"/sim/wallets/{wallet.wallet_id}/codes", body)
        code = str(made["auth_code"])
        self._used.append(code)
        return IssuedCode(code, str(wallet.wallet_id), kind)
