"""The run's payment networks, WeChat Pay and Alipay: simulators behind the hosts' proxies.

With ``network_share`` above zero that share of the sales is paid with codes from the
customers' wallets at a network's simulator (``scanpay sim wechat``, ``scanpay sim
alipay``: each its own process and state), split evenly between the networks of the
run, some with an outcome attached (a system error, the password step, a reply never
sent, a slow answer...). Each host reaches each simulator through a fault proxy of its
own (requests dropped, replies dropped after the network charged, delays past the
host's pay timeout, a system error asked of the network, resets). The host's leg
timing is shortened (:data:`NETWORK_SETTINGS`) like the terminals'.

:class:`ChaosNetwork` holds one network's side of a run - its simulator, proxies, the
run's merchant there and its channel at the host, the customers' wallets - on the
particulars of its :class:`~scanpay.chaos.rails.Rail`; it reads the network's facts
for the invariants and its figures for the report. Among the facts: the host's own
daily reconciliation (``scanpay host reconcile run``) of each of the network's days of
the run, run in this process on the run's host database once every process has
stopped, its statement fetched straight from the simulator.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from scanpay.chaos.collect import read_network
from scanpay.chaos.config import DELAY_PAST_TIMEOUT, NETWORKS, ChaosConfig, ChaosError, SaleRecord
from scanpay.chaos.customers import NetworkBook, NetworkCodeKind, NetworkWallet
from scanpay.chaos.facts import Facts, HostLeg, NetworkFacts, ReconciledBreak, ReconciledRun
from scanpay.chaos.faults import Switch
from scanpay.chaos.processes import ManagedProcess
from scanpay.chaos.proxy import Fault, FaultProxy, RandomFaults
from scanpay.chaos.rails import Merchant, Rail, rail
from scanpay.host.settings import HostSettings

__all__ = [
    "NETWORK_FAULT_KINDS",
    "NETWORK_SETTINGS",
    "ChaosNetwork",
    "open_legs",
    "open_refunds",
]

#: The hosts' network settings for the run: the leg timing and the adapters' timeouts
#: scaled down like the terminals' (the rules are the same).
NETWORK_SETTINGS: dict[str, float] = {
    "deadline": 8.0,
    "reverse_after": 3.0,
    "poll": 1.0,
    "pay_timeout": 3.0,
    "query_timeout": 2.0,
    "reverse_timeout": 2.0,
    "connect_timeout": 1.0,
    "refund_retry_max": 5.0,
}
_ADAPTER_TIMEOUTS = ("pay_timeout", "query_timeout", "reverse_timeout", "connect_timeout")

#: The faults between the hosts and the networks (counted apart from the terminals'),
#: and the host kills that landed while that host had a network call in flight.
NETWORK_FAULT_KINDS = (
    "network_drop_request",
    "network_drop_reply",
    "network_delay",
    "network_reset",
    "network_system_error",
    "host_sigkill_in_network_call",
)
_NETWORK_PROXY_FAULTS = (
    Fault.DROP_REQUEST,
    Fault.DROP_REPLY,
    Fault.DELAY,
    Fault.RESET,
    Fault.UPSTREAM_ERROR,
)

# The seconds attached to outcomes: the password step well inside the deadline; a reply
# never sent or sent late, past the host's pay timeout (then the query finds the charge).
_NETWORK_SECONDS = {
    NetworkCodeKind.USERPAYING_SUCCESS: 2.0,
    NetworkCodeKind.USERPAYING_FAIL: 2.0,
    NetworkCodeKind.CHARGED_NO_REPLY: NETWORK_SETTINGS["pay_timeout"] + 2.0,
    NetworkCodeKind.SLOW: NETWORK_SETTINGS["pay_timeout"] + 1.0,
}
# Each terminal's customers at a network: (poor, how many, opening balance).
_NETWORK_WALLETS = ((False, 4, 1_000_000_000), (True, 1, 100))


class ChaosNetwork:
    """One network's side of one run: its simulator, one fault proxy from each host to
    it, the run's merchant there, its channel, the customers' wallets."""

    def __init__(
        self, config: ChaosConfig, name: str, directory: Path, env: dict[str, str]
    ) -> None:
        from scanpay.stack import free_port

        self.config = config
        self.rail: Rail = rail(name)
        port = free_port()
        data = directory / f"sim-{self.rail.sim}"
        self.sim = ManagedProcess(
            f"sim-{self.rail.sim}",
            self.rail.sim_command(port, str(data)),
            port=port,
            env=env,
            log=directory / f"sim-{self.rail.sim}.log",
            health_path=self.rail.health_path,
        )
        self.proxies: list[FaultProxy] = []
        """One per host, in the hosts' order."""
        self.switches: list[Switch] = []
        self.merchant = Merchant("", "", {})
        self.wallets: list[list[NetworkWallet]] = []
        self.opened = 0
        """What the customers' wallets at the network were loaded with, in all."""

    @property
    def name(self) -> str:
        """The host's name for the network (``wechat_pay``, ``alipay``)."""
        return self.rail.name

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call to the simulator's admin (the customers' phones, the run's set-up)."""
        r = httpx.request(method, self.sim.url + path, json=body, timeout=30.0, trust_env=False)
        if r.status_code >= 400:
            raise ChaosError(f"simulator {method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def setup(self, ctx: Any, merchant_id: str, env: dict[str, str]) -> None:
        """The run's merchant at the network and its channel at the host, the customers'
        wallets there, one fault proxy per host to the simulator; the hosts' settings
        for the network into ``env`` (each host's gateway is its proxy: see
        :meth:`gateway_env`)."""
        from scanpay.host.services import channels

        with httpx.Client(base_url=self.sim.url, timeout=30.0, trust_env=False) as admin:
            self.merchant = self.rail.open_merchant(admin)
        channels.add_channel(
            ctx,
            merchant_id,
            network=self.name,
            mode="direct",
            app_id=self.merchant.app_id,
            mch_id=self.merchant.mch_id,
            secrets=self.merchant.secrets,
        )
        for i in range(self.config.terminals):
            wallets: list[NetworkWallet] = []
            for poor, count, balance in _NETWORK_WALLETS:
                for n in range(count):
                    name = f"{'poor' if poor else 'rich'} {i}-{n}"
                    made = self.admin("POST", "/sim/wallets", {"balance": balance, "name": name})
                    wallets.append(NetworkWallet(int(made["wallet_id"]), balance, poor))
                    self.opened += balance
            self.wallets.append(wallets)
        net = NETWORK_SETTINGS
        # WeChat Pay's draws are the ones a run through it alone always had.
        offset = 1000 * NETWORKS.index(self.name)
        for h in range(self.config.host_count):
            switch = Switch(
                RandomFaults(
                    self.config.fault_rate,
                    seed=self.config.seed * 104729 + offset + h,
                    kinds=_NETWORK_PROXY_FAULTS,
                )
            )
            calls = max(net["pay_timeout"], net["query_timeout"], net["reverse_timeout"])
            proxy = FaultProxy(
                "127.0.0.1",
                self.sim.port,
                plan=switch,
                delay_seconds=calls + DELAY_PAST_TIMEOUT,
                error_header=self.rail.error_header,
            ).start()
            self.switches.append(switch)
            self.proxies.append(proxy)
        env.update(
            SCANPAY_NETWORK_DEADLINE=str(net["deadline"]),
            SCANPAY_NETWORK_REVERSE_AFTER=str(net["reverse_after"]),
            SCANPAY_NETWORK_POLL=str(net["poll"]),
            # Refunds asked again within seconds, as the legs are: the run's recovery
            # waits for every refund's last word, which must not be 5 minutes away.
            SCANPAY_NETWORK_REFUND_RETRY_MAX=str(net["refund_retry_max"]),
        )
        env.update({self._env_key(k): str(net[k]) for k in _ADAPTER_TIMEOUTS})

    def _env_key(self, option: str) -> str:
        return f"SCANPAY_NETWORK__{self.name.upper()}__{option.upper()}"

    def gateway_env(self, host: int) -> dict[str, str]:
        """Host ``host``'s gateway to the network: its own proxy (a kill aimed at a call
        in flight sees that host's calls only)."""
        return {self._env_key("gateway"): self.rail.gateway(self.proxies[host].url)}

    def book(self, index: int, rng: random.Random) -> NetworkBook:
        """Terminal ``index``'s customers at the network, making codes with ``rng``."""
        return NetworkBook(
            self.wallets[index],
            rng,
            self.admin,
            dict(_NETWORK_SECONDS),
            self.rail.outcomes,
            self.rail.code_prefix,
        )

    def channel(self) -> Any:
        """The run's channel at the network, as the host's adapter takes it."""
        from scanpay.networks.port import Channel, ChannelMode

        merchant = self.merchant
        return Channel(
            self.name,
            ChannelMode.DIRECT,
            merchant.app_id,
            merchant.mch_id,
            secrets=merchant.secrets,
        )

    def adapter_options(self) -> dict[str, str]:
        """The host's adapter straight at the simulator (the proxies are down by then),
        with time for a day's statement."""
        return {"gateway": self.rail.gateway(self.sim.url), "statement_timeout": "60"}

    def sales(self, records: list[SaleRecord]) -> list[SaleRecord]:
        """The run's sales paid with this network's codes."""
        return [r for r in records if r.plan.network is not None and r.plan.via == self.name]

    def facts(
        self,
        legs: list[HostLeg],
        records: list[SaleRecord],
        started_at: datetime,
        settings: HostSettings,
    ) -> NetworkFacts:
        """The network's side: the simulator's books, orders and refunds, the statement
        of each of its days of the run (Beijing days) through the host's adapter
        (straight, no proxy), and, when the run had sales through it, the host's
        reconciliation of each of those days (on the host's database of ``settings``:
        call it once every process stopped)."""
        from scanpay.host.services.reconciliation import network_zone
        from scanpay.networks import registry

        zone = network_zone(self.name)
        first = started_at.astimezone(zone).date()
        last = datetime.now(UTC).astimezone(zone).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        adapter = registry.create(self.name, self.adapter_options())
        wallet_ids = [w.wallet_id for book in self.wallets for w in book]
        with httpx.Client(base_url=self.sim.url, timeout=60.0, trust_env=False) as admin:
            self.rail.publish(admin, self.merchant, days)
            side = read_network(
                admin, self.rail, adapter, self.channel(), self.merchant, wallet_ids, days
            )
        sales = frozenset(r.out_trade_no for r in self.sales(records) if r.out_trade_no is not None)
        reconciled = self._reconcile(settings, days) if sales else []
        return NetworkFacts(
            network=self.name,
            sales=sales,
            legs=[leg for leg in legs if leg.network == self.name],
            orders=side.orders,
            refunds=side.refunds,
            statement=side.statement,
            statement_problems=side.statement_problems,
            wallets_opened=self.opened,
            wallets_now=side.wallets,
            merchant_received=side.merchant_balance,
            books_balanced=side.balanced,
            books=side.books,
            reconciled=reconciled,
        )

    def _reconcile(self, settings: HostSettings, days: list[date]) -> list[ReconciledRun]:
        """Each of ``days`` reconciled by the host's own ``reconcile``, in this process,
        on the run's host database with the hosts' settings (master key, the channel's
        sealed secrets), the adapter's gateway the simulator itself."""
        from scanpay.host.services.context import HostContext
        from scanpay.host.services.reconciliation import reconcile

        host = replace(settings, networks={**settings.networks, self.name: self.adapter_options()})
        ctx = HostContext.open(host)
        try:
            found: list[ReconciledRun] = []
            for day in days:
                for info in reconcile(ctx, day, self.name):
                    found.append(
                        ReconciledRun(
                            day=info.day.isoformat(),
                            channel=info.channel_key,
                            status=info.status.value,
                            network_code=info.network_code,
                            matched=info.matched,
                            lines=info.lines,
                            breaks=[
                                ReconciledBreak(
                                    b.kind.value,
                                    b.trade_no,
                                    b.detail_text.en if b.detail_text else "",
                                )
                                for b in info.breaks
                                if not b.resolved
                            ],
                        )
                    )
            return found
        finally:
            ctx.close()

    def report(
        self, facts: NetworkFacts, all_facts: Facts, faults: Counter[str], records: list[SaleRecord]
    ) -> dict[str, Any]:
        """The network's figures; its proxies' faults are added into the run's ``faults``
        as ``network_*`` (and kept in its figures)."""
        mine: Counter[str] = Counter()
        requests = 0
        for proxy in self.proxies:
            for kind, n in proxy.stats.items():
                requests += n if kind != "refused" else 0
                if kind == Fault.UPSTREAM_ERROR.value:
                    mine["network_system_error"] += n
                elif kind not in ("none", "refused"):
                    mine[f"network_{kind}"] += n
        faults.update(mine)
        states = {s.out_trade_no: s.state for s in all_facts.sales}
        sales = self.sales(records)
        outcomes = Counter(states.get(r.out_trade_no or "", "OPEN_INTERRUPTED") for r in sales)
        return {
            "network": self.name,
            "share": self.config.network_share / len(self.config.networks),
            "sales": len(sales),
            "outcomes": dict(outcomes),
            "requests": requests,
            "faults": dict(sorted(mine.items())),
            "legs": dict(Counter(leg.status for leg in facts.legs)),
            "orders": dict(Counter(o.state for o in facts.orders)),
            "refunds": _refund_totals(facts, all_facts),
            "statement_lines": len(facts.statement),
            "reconciliation": _reconciliation_totals(facts),
            "merchant_received": facts.merchant_received,
            "books": dict(facts.books),
            "settings": dict(NETWORK_SETTINGS),
        }


def _refund_totals(network: NetworkFacts, facts: Facts) -> dict[str, Any]:
    """The refunds of the network's payments: the host's by status, what the network
    took (count, money) and the refunds its reverses made themselves."""
    host = Counter(r.status for r in facts.host_refunds if r.network == network.network)
    taken = [r for r in network.refunds if not r.reverse]
    return {
        "host": dict(sorted(host.items())),
        "at_network": len(taken),
        "amount": sum(r.amount for r in taken),
        "reverses": sum(r.reverse for r in network.refunds),
    }


def _reconciliation_totals(facts: NetworkFacts) -> dict[str, Any]:
    """The host's reconciliation of the run's network days, in all: runs (done of them),
    statement lines, matched, breaks by kind, and the same in one short line."""
    runs = facts.reconciled
    kinds = Counter(b.kind for run in runs for b in run.breaks)
    totals: dict[str, Any] = {
        "runs": len(runs),
        "done": sum(run.status == "done" for run in runs),
        "lines": sum(run.lines for run in runs),
        "matched": sum(run.matched for run in runs),
        "breaks": sum(kinds.values()),
        "break_kinds": dict(sorted(kinds.items())),
    }
    totals["summary"] = (
        f"{totals['done']}/{totals['runs']} day runs done, {totals['matched']} matched of "
        f"{totals['lines']} statement lines, {totals['breaks']} breaks"
    )
    return totals


def open_legs(settings: HostSettings) -> int:
    """Network legs not final yet (read while the hosts run)."""
    from sqlalchemy import func, select

    from scanpay.host.db.models import NetworkLeg
    from scanpay.host.services.context import HostContext

    ctx = HostContext.open(settings)
    try:
        with ctx.db.read() as session:
            found = session.scalar(
                select(func.count(NetworkLeg.id)).where(
                    NetworkLeg.status.not_in(("APPROVED", "DECLINED", "REVERSED"))
                )
            )
            return int(found or 0)
    finally:
        ctx.close()


def open_refunds(settings: HostSettings) -> int:
    """Refunds of routed payments still waiting for their network's word (read while the
    hosts run: their sweepers make the calls that are due)."""
    from sqlalchemy import func, select

    from scanpay.host.db.models import NetworkRefund
    from scanpay.host.services.context import HostContext

    ctx = HostContext.open(settings)
    try:
        with ctx.db.read() as session:
            found = session.scalar(
                select(func.count(NetworkRefund.id)).where(NetworkRefund.call.is_not(None))
            )
            return int(found or 0)
    finally:
        ctx.close()
