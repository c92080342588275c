"""The wallet's PIN rule and lockout arithmetic.

Above an account's ``pin_above`` amount a payment waits for the customer's
PIN (USER_PAYING). ``max_tries`` wrong PINs in a row lock the account for
``lock_seconds``; the right PIN resets the count. Pure: the caller passes the
time and stores the :class:`PinState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["PinPolicy", "PinState", "is_valid_pin", "needs_pin"]


def is_valid_pin(pin: str) -> bool:
    """A wallet PIN is exactly six digits."""
    return len(pin) == 6 and pin.isascii() and pin.isdigit()


def needs_pin(amount: int, pin_above: int) -> bool:
    """Whether a payment of ``amount`` needs the PIN on an account with limit ``pin_above``."""
    return amount > pin_above


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
