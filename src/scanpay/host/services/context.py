"""What every service needs: settings, the database, the clock, the PIN hasher, the
master key's secret box, the metrics, and the in-process change announcements."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from argon2 import PasswordHasher

from scanpay.codes import DEFAULT_WALLET_RULES, WalletRules
from scanpay.host.clock import Clock, SystemClock
from scanpay.host.db.engine import Database
from scanpay.host.domain.sealing import SecretBox
from scanpay.host.metrics import HostMetrics
from scanpay.host.settings import HostSettings
from scanpay.networks.leg import LegRules
from scanpay.networks.port import Network

__all__ = ["HostContext", "Listener"]

#: Called with (topic, key) after a committed change, e.g. ("order", "O1A2B...").
Listener = Callable[[str, str], None]


@dataclass
class HostContext:
    """One host process's handles. Holds no request state: every fact is in the database."""

    settings: HostSettings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    metrics: HostMetrics = field(default_factory=HostMetrics)
    _chores: dict[str, float] = field(default_factory=dict, repr=False)
    _chores_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _listeners: list[Listener] = field(default_factory=list, repr=False)
    _box: SecretBox | None = field(default=None, repr=False)
    _networks: dict[str, Network] = field(default_factory=dict, repr=False)

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

    @property
    def secret_box(self) -> SecretBox:
        """Seals terminal keys and wallet secrets under the master key (loaded and checked
        once; :class:`~scanpay.host.services.secrets.MasterKeyError` for another key)."""
        if self._box is None:
            from scanpay.host.services.secrets import open_box

            # Checked against the database's fingerprint: another key is refused here.
            self._box = open_box(self)
        return self._box

    def use_secret_box(self, box: SecretBox) -> None:
        """Seal and open with ``box`` from now on (after a master key rotation)."""
        self._box = box

    @property
    def leg_rules(self) -> LegRules:
        """The timing a network leg follows when its adapter has no rules of its own
        (WeChat Pay's, unless configured)."""
        s = self.settings
        first = min(5.0, s.network_poll)
        return LegRules(
            deadline=s.network_deadline,
            first_query_after=first,
            poll_interval=s.network_poll,
            reverse_after=s.network_reverse_after,
        )

    def rules_for(self, network: str) -> LegRules:
        """The timing of ``network``'s legs: when to reverse and how often to retry it are
        the network's (its adapter's ``leg_rules``: Alipay cancels at once, WeChat Pay
        waits 15 s); the deadline and the pace of queries are the host's settings, so a
        cashier waits as long whichever wallet the customer holds."""
        base = self.leg_rules
        own: LegRules | None = getattr(self.network(network), "leg_rules", None)
        if not isinstance(own, LegRules):
            return base
        return replace(
            own,
            deadline=base.deadline,
            first_query_after=min(own.first_query_after, base.first_query_after),
            poll_interval=base.poll_interval,
            reverse_after=min(own.reverse_after, base.deadline),
        )

    def network(self, name: str) -> Network:
        """This process's adapter for network ``name``, made on first use from the
        settings' options (:func:`scanpay.networks.registry.create`); ``NetworkError``
        ``network_unknown`` for a network without one."""
        with self._chores_lock:
            found = self._networks.get(name)
            if found is None:
                from scanpay.networks.registry import create

                # The host answers the terminal before its request times out: a pay call
                # longer than that is no answer (query), unless the options say otherwise.
                options = {
                    "pay_timeout": f"{self.settings.network_pay_timeout:g}",
                    **self.settings.networks.get(name, {}),
                }
                found = create(name, options)
                self._networks[name] = found
            return found

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

    def subscribe(self, listener: Listener) -> None:
        """Be told of committed changes made by this process (long-poll and SSE wake-ups).

        Only a hint: other host processes change the database too, so waiters
        also re-read it on a short period.
        """
        self._listeners.append(listener)

    def announce(self, topic: str, key: str) -> None:
        """Tell this process's listeners that ``key`` of ``topic`` changed (after commit)."""
        for listener in list(self._listeners):
            listener(topic, key)

    def close(self) -> None:
        for network in self._networks.values():
            closing = getattr(network, "close", None)
            if callable(closing):
                closing()
        self._networks.clear()
        self.db.dispose()
