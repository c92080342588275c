"""How much password hashing one host process takes on at once.

An argon2 check costs 64 MiB and a good part of a second of CPU, and a login asks
for one before anyone is known: unbounded, a few dozen logins at once take the
host's memory and CPU from its payments. A process runs at most ``limit`` hashes
at once and lets ``queue`` more wait for their turn; one more is refused at once,
told when to come back. Pure: the adapter (``scanpay.host.services.hashing``)
counts and measures.

>>> budget = HashBudget(limit=2, queue=4)
>>> [budget.admits(n) for n in (0, 5, 6)]
[True, True, False]
>>> budget.retry_after(admitted=6, mean_seconds=0.3)
2
>>> HashBudget.for_cpus(2), HashBudget.for_cpus(16)
(HashBudget(limit=1, queue=4), HashBudget(limit=4, queue=16))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["HashBudget"]


@dataclass(frozen=True, slots=True)
class HashBudget:
    """Hashes one process runs at once (``limit``) and how many more may wait (``queue``)."""

    limit: int
    queue: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.queue < 0:
            raise ValueError("at least one hash at a time, and no negative queue")

    @classmethod
    def for_cpus(cls, cpus: int | None) -> HashBudget:
        """The default for a machine of ``cpus`` CPUs: one hash per two CPUs, one to four
        (each hash runs several lanes in threads of its own), and four waiting per slot."""
        limit = max(1, min(4, (cpus or 1) // 2))
        return cls(limit=limit, queue=4 * limit)

    def admits(self, admitted: int) -> bool:
        """Whether one more may run or wait, with ``admitted`` running or waiting now."""
        return admitted < self.limit + self.queue

    def retry_after(self, admitted: int, mean_seconds: float) -> int:
        """Whole seconds a refused caller should wait: about the time the hashes ahead
        of it take, ``limit`` at a time (at least one second)."""
        return max(1, math.ceil((admitted + 1) * max(mean_seconds, 0.0) / self.limit))
