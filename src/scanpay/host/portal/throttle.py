"""Login throttling: how many failed logins lock an e-mail or an address, and until when.

Pure. The service stores every attempt; this module decides from the failures
that came after the last success. A login is locked while the trailing window
holds ``max_failures`` failures (per e-mail) or ``max_per_address`` (per
client address, which stops one machine trying many e-mails); it unlocks when
the oldest of those leaves the window. While locked the password is not even
checked, and the refused attempt counts as a failure.

>>> from datetime import UTC, datetime, timedelta
>>> policy = ThrottlePolicy(max_failures=3, window=timedelta(minutes=15))
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
>>> fails = [t0, t0 + timedelta(minutes=1), t0 + timedelta(minutes=2)]
>>> policy.locked_until(fails, t0 + timedelta(minutes=3), per_address=False)
datetime.datetime(2026, 3, 2, 9, 15, tzinfo=datetime.timezone.utc)
>>> policy.locked_until(fails, t0 + timedelta(minutes=16), per_address=False) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ThrottlePolicy"]


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Failed logins allowed in a trailing window, per e-mail and per client address."""

    max_failures: int = 5
    max_per_address: int = 30
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.max_per_address < 1:
            raise ValueError("the throttle allows at least one failure")
        if self.window <= timedelta(0):
            raise ValueError("the throttle's window is positive")

    def since(self, now: datetime) -> datetime:
        """The oldest failure time that still counts at ``now``."""
        return now - self.window

    def locked_until(
        self, failures: Sequence[datetime], now: datetime, *, per_address: bool
    ) -> datetime | None:
        """When the lock ends, or None when a login may be tried now.

        ``failures``: failure times after the last success (any order; older ones
        than the window are ignored).
        """
        limit = self.max_per_address if per_address else self.max_failures
        recent = sorted((t for t in failures if now - self.window < t <= now), reverse=True)
        if len(recent) < limit:
            return None
        # The lock lasts until the limit-th most recent failure leaves the window.
        return recent[limit - 1] + self.window
