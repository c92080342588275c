"""The wallet's PIN rule and lockout arithmetic, and the wallet page's login throttle.

Above an account's ``pin_above`` amount a payment waits for the customer's
PIN (USER_PAYING). ``max_tries`` wrong PINs in a row lock the account for
``lock_seconds``; the right PIN resets the count. Pure: the caller passes the
time and stores the :class:`PinState`.

Logins are apart from that lock: anyone can send an account number and a PIN to
the wallet page, so a login that could lock the account would let anyone stop
its payments. A login is slowed instead (:class:`LoginDelays`): per client
address and per account number, known or not, a few failures in a row are free,
then each one makes the next try wait, twice as long each time.

>>> from datetime import UTC, datetime
>>> delays = LoginDelays(free=2, first_seconds=10, max_seconds=60, forget_seconds=600)
>>> t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
>>> state = LoginState()
>>> for _ in range(4):
...     claim = delays.claim(state, t0)
...     state = claim.after
...     print(claim.allowed, claim.retry_after, state.failures)
True 0 1
True 0 2
False 10 2
False 10 2
>>> [delays.delay(n) for n in range(1, 7)]
[0, 10, 20, 40, 60, 60]
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scanpay.i18n import Text

__all__ = [
    "ACCOUNT_LOGINS",
    "CLIENT_LOGINS",
    "LoginClaim",
    "LoginDelays",
    "LoginState",
    "PinPolicy",
    "PinState",
    "client_subject",
    "is_valid_pin",
    "needs_pin",
    "tries_left_text",
]


def is_valid_pin(pin: str) -> bool:
    """A wallet PIN is exactly six digits."""
    return len(pin) == 6 and pin.isascii() and pin.isdigit()


def needs_pin(amount: int, pin_above: int) -> bool:
    """Whether a payment of ``amount`` needs the PIN on an account with limit ``pin_above``."""
    return amount > pin_above


def tries_left_text(tries: int) -> Text:
    """How many more PINs may be tried, said as a person says it.

    >>> [tries_left_text(n).en for n in (2, 1, 0)]
    ['2 tries left', '1 try left', 'no tries left']
    >>> tries_left_text(1).zh_cn
    '还可尝试 1 次'
    """
    if tries <= 0:
        return Text("已无尝试机会", "no tries left")
    return Text(f"还可尝试 {tries} 次", "1 try left" if tries == 1 else f"{tries} tries left")


@dataclass(frozen=True, slots=True)
class PinState:
    """Wrong PINs in a row, and when a lock (if any) ends."""

    failures: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PinPolicy:
    """How many wrong PINs lock an account, and for how long."""

    max_tries: int = 3
    lock_seconds: int = 900

    def is_locked(self, state: PinState, now: datetime) -> bool:
        return state.locked_until is not None and now < state.locked_until

    def tries_left(self, state: PinState, now: datetime) -> int:
        if self.is_locked(state, now):
            return 0
        return max(self.max_tries - self._live_failures(state, now), 0)

    def failure(self, state: PinState, now: datetime) -> PinState:
        """The state after a wrong PIN; the last allowed one starts the lock."""
        failures = self._live_failures(state, now) + 1
        if failures >= self.max_tries:
            return PinState(0, now + timedelta(seconds=self.lock_seconds))
        return PinState(failures, None)

    def success(self) -> PinState:
        """The state after the right PIN."""
        return PinState()

    def _live_failures(self, state: PinState, now: datetime) -> int:
        # A lock that has run out starts a fresh count.
        if state.locked_until is not None and now >= state.locked_until:
            return 0
        return state.failures


@dataclass(frozen=True, slots=True)
class LoginState:
    """Failed logins in a row of one client or account, the last one's time, and until
    when the next one waits (None: it need not)."""

    failures: int = 0
    last_at: datetime | None = None
    blocked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoginClaim:
    """The answer to "may this login be checked now?": if not, in how many seconds;
    ``after`` is the state to store when it is (it counts the try as failed until the
    PIN proves otherwise, so parallel tries are counted before any is checked)."""

    allowed: bool
    retry_after: int
    after: LoginState


@dataclass(frozen=True, slots=True)
class LoginDelays:
    """Growing delays between failed logins: ``free`` in a row wait for nothing, the
    next makes the one after it wait ``first_seconds``, then twice that each time, up
    to ``max_seconds``; ``forget_seconds`` without a failure start the count afresh."""

    free: int
    first_seconds: int
    max_seconds: int
    forget_seconds: int

    def __post_init__(self) -> None:
        if self.free < 1 or self.first_seconds < 1 or self.max_seconds < self.first_seconds:
            raise ValueError("at least one free try and a positive, bounded delay")
        if self.forget_seconds <= 0:
            raise ValueError("forget_seconds is positive")

    def delay(self, failures: int) -> int:
        """Seconds the next try waits after ``failures`` in a row."""
        if failures < self.free:
            return 0
        # Capped before the power, so an attacker's long run cannot make a huge number.
        doublings = min(failures - self.free, 32)
        return min(self.first_seconds << doublings, self.max_seconds)

    def _current(self, state: LoginState, now: datetime) -> LoginState:
        forgotten = state.last_at is not None and (
            (now - state.last_at).total_seconds() >= self.forget_seconds
        )
        return LoginState() if forgotten else state

    def claim(self, state: LoginState, now: datetime) -> LoginClaim:
        """May a login be checked at ``now``? When it may, the try is already counted."""
        state = self._current(state, now)
        if state.blocked_until is not None and now < state.blocked_until:
            wait = math.ceil((state.blocked_until - now).total_seconds())
            return LoginClaim(False, max(wait, 1), state)
        failures = state.failures + 1
        wait = self.delay(failures)
        blocked = now + timedelta(seconds=wait) if wait else None
        return LoginClaim(True, 0, LoginState(failures, now, blocked))

    def refund(self, state: LoginState) -> LoginState:
        """A claimed try that turned out not to be a failure (the right PIN for a client
        address, or a try the host could not check): it counts no more. The wait it
        may have started stays (it is short, and only ever too long, never too short)."""
        return replace(state, failures=max(state.failures - 1, 0))

    def success(self) -> LoginState:
        """The state of an account after its right PIN: nothing against it."""
        return LoginState()


#: An account number: three wrong PINs in a row are free (as at payment), then 15 s,
#: 30 s, ... up to 15 minutes between tries; a quiet hour forgets.
ACCOUNT_LOGINS = LoginDelays(free=3, first_seconds=15, max_seconds=900, forget_seconds=3600)
#: A client address (one machine, or one network behind NAT: more slack): twenty
#: failures in a row, then 5 s, 10 s, ... up to 15 minutes.
CLIENT_LOGINS = LoginDelays(free=20, first_seconds=5, max_seconds=900, forget_seconds=3600)


def client_subject(address: str) -> str:
    """Who a client address is for the throttle: the address itself, but for IPv6 its
    /64 network (one customer's line gets a /64 and can use any address in it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)
