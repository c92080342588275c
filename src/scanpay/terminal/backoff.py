"""Retry delays: exponential backoff with a cap and optional jitter (pure).

The sale machine uses it without jitter (one terminal, one sale: nothing to
spread out); the reversal queue passes a random number in, so that many
terminals coming back after a host outage do not all retry at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``first * factor**attempt`` seconds, never more than ``cap``.

    ``jitter`` is the share of the delay that may be taken away at random
    (0 = none, 0.5 = anywhere between half and the full delay).
    """

    first: float = 1.0
    factor: float = 2.0
    cap: float = 8.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.first <= 0 or self.factor < 1 or self.cap < self.first:
            raise ValueError("backoff needs first > 0, factor >= 1 and cap >= first")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a share in [0, 1)")

    def delay(self, attempt: int, rand: float = 1.0) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based).

        ``rand`` in [0, 1] is the caller's random draw (the module is pure);
        1.0 gives the full delay.
        """
        # The exponent is bounded so that a queue retried for days cannot overflow.
        base = min(self.cap, self.first * self.factor ** min(max(0, attempt), 64))
        return base * (1 - self.jitter * (1 - min(1.0, max(0.0, rand))))
