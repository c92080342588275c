"""What every service needs: settings, the database, the clock, the PIN hasher, the risk rules."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher

from scanpay.codes import DEFAULT_WALLET_RULES, WalletRules
from scanpay.host.clock import Clock, SystemClock
from scanpay.host.db.engine import Database
from scanpay.host.domain.risk import RiskRule
from scanpay.host.settings import HostSettings

__all__ = ["HostContext"]


@dataclass
class HostContext:
    """One host process's handles. Holds no request state: every fact is in the database."""

    settings: HostSettings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    #: Issue 5's risk rules plug in here; none means approve-all.
    risk_rules: Sequence[RiskRule] = ()
    _chores: dict[str, float] = field(default_factory=dict, repr=False)
    _chores_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: HostSettings, clock: Clock | None = None) -> HostContext:
        """Connect to the settings' database (no schema change: see ``db.migrate.upgrade``)."""
        return cls(settings, Database(settings.database_url), clock or SystemClock())

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def wallet_rules(self) -> WalletRules:
        """The wallet code table with the built-in wallet on the configured prefix."""
        return DEFAULT_WALLET_RULES.with_builtin_prefix(
            self.settings.wallet_prefix, self.settings.code_format.length
        )

    def due(self, chore: str, every_seconds: float) -> bool:
        """Whether housekeeping ``chore`` should run now (at most once per period per process).

        A throttle, not a fact: losing it (a restart) only makes the chore run early.
        """
        now = self.now().timestamp()
        with self._chores_lock:
            last = self._chores.get(chore)
            if last is not None and 0 <= now - last < every_seconds:
                return False
            self._chores[chore] = now
            return True

    def close(self) -> None:
        self.db.dispose()
