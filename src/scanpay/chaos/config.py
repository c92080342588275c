"""What a chaos run is asked to do, and what it plans and keeps of each sale.

:class:`ChaosConfig` is the run's command line; :class:`SalePlan` what the cashier
and the customer will do in one sale, drawn from the seed alone (so a seed fixes
the run's sales whatever the threads do); :class:`SaleRecord` what the harness did
and saw in it. :data:`TERMINAL_SETTINGS` scale the terminals' timing down for the run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from scanpay.chaos.customers import CodeKind, NetworkCodeKind

__all__ = [
    "DELAY_PAST_TIMEOUT",
    "NETWORKS",
    "TERMINAL_SETTINGS",
    "ChaosConfig",
    "ChaosError",
    "Database",
    "SalePlan",
    "SaleRecord",
]

Database = Literal["sqlite", "postgresql"]

#: The payment networks a run may pay through (the host's names for them).
NETWORKS = ("wechat_pay", "alipay")

#: The terminals' settings for the run: the shop defaults scaled down so that a
#: deadline passes in seconds, not minutes (the rules are the same).
TERMINAL_SETTINGS: dict[str, Any] = {
    "unknown_deadline": 6.0,
    "customer_deadline": 3.0,
    "poll_interval": 0.3,
    "request_timeout": 2.0,
    "connect_timeout": 0.5,
    "query_backoff_first": 0.2,
    "query_backoff_cap": 1.0,
    "reversal_backoff_cap": 1.0,
    "camera": "none",
    "language": "en",
}

#: A delayed reply arrives this long after the terminal gave up on it.
DELAY_PAST_TIMEOUT = 1.0

# How often each kind of code is scanned (weights).
_CODE_MIX = {
    CodeKind.VALID: 40,
    CodeKind.VALID_CPM: 15,
    CodeKind.EXPIRED: 5,
    CodeKind.REUSED: 6,
    CodeKind.INVALID: 4,
    CodeKind.INSUFFICIENT: 6,
    CodeKind.PIN_CONFIRMED: 12,
    CodeKind.PIN_ABANDONED: 4,
}

# How often each kind of WeChat Pay code is scanned (weights).
_NETWORK_CODE_MIX = {
    NetworkCodeKind.VALID: 50,
    NetworkCodeKind.REUSED: 4,
    NetworkCodeKind.POOR: 5,
    NetworkCodeKind.AUTHCODEEXPIRE: 4,
    NetworkCodeKind.USERPAYING_SUCCESS: 10,
    NetworkCodeKind.USERPAYING_FAIL: 4,
    NetworkCodeKind.USERPAYING_NEVER: 3,
    NetworkCodeKind.SYSTEMERROR: 7,
    NetworkCodeKind.CHARGED_NO_REPLY: 5,
    NetworkCodeKind.SLOW: 4,
    NetworkCodeKind.REVERSE_RECALL: 4,
    NetworkCodeKind.REFUND_PROCESSING: 6,
}
_REFUNDS: tuple[Literal["partial", "full", "partial_then_rest"], ...] = (
    "partial",
    "full",
    "partial_then_rest",
)


class ChaosError(RuntimeError):
    """The run itself could not be carried out (not an invariant violation)."""


@dataclass(frozen=True, slots=True)
class ChaosConfig:
    """What to run. Kill counts left ``None`` scale with the sales and the fault rate."""

    sales: int = 300
    fault_rate: float = 0.2
    db: Database = "sqlite"
    seed: int = 1
    terminals: int = 4
    hosts: int | None = None
    """Host processes (default: 1 on SQLite, 2 sharing PostgreSQL)."""
    host_kills: int | None = None
    agent_kills: int | None = None
    db_restarts: int | None = None
    directory: Path | None = None
    """Where the run's files go (default: a temporary folder)."""
    keep: bool = False
    """Keep the run's folder (it is always kept when an invariant fails)."""
    recover_timeout: float = 300.0
    network_share: float = 0.0
    """The share of sales paid through a payment network (0-1)."""
    networks: tuple[str, ...] = NETWORKS
    """The networks those sales are split between, evenly (drawn from the seed)."""

    def __post_init__(self) -> None:
        if self.sales < 1 or self.terminals < 1:
            raise ValueError("sales and terminals must be at least 1")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("the fault rate is between 0 and 1")
        if not 0.0 <= self.network_share <= 1.0:
            raise ValueError("the network share is between 0 and 1")
        if not self.networks or not set(self.networks) <= set(NETWORKS):
            raise ValueError(f"networks are some of {', '.join(NETWORKS)}")
        if len(set(self.networks)) != len(self.networks):
            raise ValueError("a network is named twice")
        if self.db not in ("sqlite", "postgresql"):
            raise ValueError("db is sqlite or postgresql")

    @property
    def host_count(self) -> int:
        return self.hosts or (2 if self.db == "postgresql" else 1)

    def strikes(self) -> tuple[int, int, int]:
        """(host kills, agent kills, PostgreSQL restarts): at least one of each kind
        that applies, more with more sales and more faults."""
        scale = self.sales * self.fault_rate
        hosts = self.host_kills if self.host_kills is not None else max(1, round(scale / 50))
        agents = (
            self.agent_kills
            if self.agent_kills is not None
            else max(self.terminals, round(scale / 15))
        )
        restarts = 0
        if self.db == "postgresql":
            restarts = (
                self.db_restarts if self.db_restarts is not None else max(1, round(scale / 150))
            )
        if self.fault_rate == 0:
            return (self.host_kills or 0, self.agent_kills or 0, self.db_restarts or 0)
        return hosts, agents, restarts


@dataclass(frozen=True, slots=True)
class SalePlan:
    """What the cashier and the customer will do in one sale (from the seed)."""

    index: int
    amount: int
    code: CodeKind
    cancel: Literal["none", "before", "after"]
    refund: Literal["none", "partial", "full", "partial_then_rest"]
    pin_delay: float
    """Seconds the customer takes to type the PIN (may be past the terminal's deadline)."""
    network: NetworkCodeKind | None = None
    """Paid with a network's code of this kind (``code`` is then unused); its refunds go
    back through the network."""
    via: str = NETWORKS[0]
    """Which network (a network sale's)."""

    @classmethod
    def make(
        cls,
        seed: int,
        index: int,
        network_share: float = 0.0,
        networks: tuple[str, ...] = NETWORKS[:1],
    ) -> SalePlan:
        """The plan of sale ``index``; the network's part is drawn apart, so a run without
        one plans its built-in sales as it always did (and a run through one network its
        sales as before a second was added)."""
        plan = cls._make(seed, index)
        if network_share <= 0:
            return plan
        rng = random.Random(f"{seed}/network/{index}")
        if rng.random() >= network_share:
            return plan
        kind = rng.choices(list(_NETWORK_CODE_MIX), weights=list(_NETWORK_CODE_MIX.values()))[0]
        # The poor hold 1.00 at the network too.
        amount = rng.randint(200, 50_000) if kind is NetworkCodeKind.POOR else plan.amount
        refund = plan.refund
        if kind is NetworkCodeKind.REFUND_PROCESSING and refund == "none":
            # The code's outcome is its first refund's: one is asked.
            refund = rng.choice(_REFUNDS)
        via = networks[0] if len(networks) == 1 else rng.choice(networks)
        return replace(plan, network=kind, amount=amount, refund=refund, via=via)

    @classmethod
    def _make(cls, seed: int, index: int) -> SalePlan:
        rng = random.Random(f"{seed}/sale/{index}")
        code = rng.choices(list(_CODE_MIX), weights=list(_CODE_MIX.values()))[0]
        low = 200 if code is CodeKind.INSUFFICIENT else 1  # the poor hold 1.00
        amount = rng.randint(low, 50_000)
        roll = rng.random()
        cancel: Literal["none", "before", "after"] = (
            "before" if roll < 0.04 else "after" if roll < 0.10 else "none"
        )
        roll = rng.random()
        refund: Literal["none", "partial", "full", "partial_then_rest"] = (
            "partial"
            if roll < 0.10
            else "full"
            if roll < 0.16
            else "partial_then_rest"
            if roll < 0.19
            else "none"
        )
        pin_delay = rng.uniform(0.0, TERMINAL_SETTINGS["customer_deadline"] * 1.3)
        return cls(index, amount, code, cancel, refund, round(pin_delay, 3))


@dataclass
class SaleRecord:
    """What the harness did in one sale and saw at the end of it."""

    index: int
    terminal_id: str
    plan: SalePlan
    out_trade_no: str | None = None
    code: str | None = None
    state: str | None = None
    interrupted: bool = False
    """The agent was killed during the cashier's steps."""
    pin_answer: str | None = None
    refunds: list[str] = field(default_factory=list)
    error: str | None = None
