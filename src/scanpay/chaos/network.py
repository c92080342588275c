"""The run's payment network: WeChat Pay, at its simulator, behind the hosts' own proxies.

With ``network_share`` above zero that share of the sales is paid with WeChat Pay
codes from the customers' wallets at the WeChat Pay simulator (``scanpay sim
wechat``, its own process and state), some with an outcome attached (a system error,
the password step, a reply never sent, a slow answer...). Each host reaches the
simulator through a fault proxy of its own (requests dropped, replies dropped after
the network charged, delays past the host's pay timeout, SYSTEMERROR asked of the
network, resets). The host's leg timing is shortened (:data:`NETWORK_SETTINGS`) like
the terminals'.

:class:`ChaosNetwork` holds that side of a run: the simulator, the proxies, the run's
merchant there and its channel at the host, the customers' wallets; it reads the
network's facts for the invariants and its figures for the report. Among the facts:
the host's own daily reconciliation (``scanpay host reconcile run``) of each network
day of the run, run in this process on the run's host database once every process
has stopped, its statement fetched straight from the simulator.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from scanpay.chaos.collect import read_network
from scanpay.chaos.config import DELAY_PAST_TIMEOUT, ChaosConfig, ChaosError, SaleRecord
from scanpay.chaos.customers import NetworkBook, NetworkCodeKind, NetworkWallet
from scanpay.chaos.facts import Facts, HostLeg, NetworkFacts, ReconciledBreak, ReconciledRun
from scanpay.chaos.faults import Switch
from scanpay.chaos.processes import ManagedProcess
from scanpay.chaos.proxy import Fault, FaultProxy, RandomFaults
from scanpay.host.settings import HostSettings

__all__ = ["NETWORK_FAULT_KINDS", "NETWORK_SETTINGS", "ChaosNetwork", "open_legs"]

#: The hosts' network settings for the run: WeChat Pay's leg timing and the adapter's
#: timeouts scaled down like the terminals' (the rules are the same).
NETWORK_SETTINGS: dict[str, float] = {
    "deadline": 8.0,
    "reverse_after": 3.0,
    "poll": 1.0,
    "pay_timeout": 3.0,
    "query_timeout": 2.0,
    "reverse_timeout": 2.0,
    "connect_timeout": 1.0,
}

#: The faults between the hosts and the network (counted apart from the terminals'),
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
# What the WeChat Pay simulator is asked for by a request the proxy gives UPSTREAM_ERROR.
_NETWORK_ERROR_HEADER = ("Wechatpay-Negative-Test", "SYSTEMERROR")

# The seconds attached to outcomes: the password step well inside the deadline; a reply
# never sent or sent late, past the host's pay timeout (then the query finds the charge).
_NETWORK_SECONDS = {
    NetworkCodeKind.USERPAYING_SUCCESS: 2.0,
    NetworkCodeKind.USERPAYING_FAIL: 2.0,
    NetworkCodeKind.CHARGED_NO_REPLY: NETWORK_SETTINGS["pay_timeout"] + 2.0,
    NetworkCodeKind.SLOW: NETWORK_SETTINGS["pay_timeout"] + 1.0,
}
# Each terminal's customers at the network: (poor, how many, opening balance).
_NETWORK_WALLETS = ((False, 4, 1_000_000_000), (True, 1, 100))


class ChaosNetwork:
    """The network's side of one run: the simulator, one fault proxy from each host to
    it, the run's merchant there, its channel, the customers' wallets."""

    def __init__(self, config: ChaosConfig, directory: Path, env: dict[str, str]) -> None:
        from scanpay.stack import free_port

        self.config = config
        port = free_port()
        self.sim = ManagedProcess(
            "sim",
            _sim_command(port, directory / "sim"),
            port=port,
            env=env,
            log=directory / "sim.log",
            health_path="/sim/platform",
        )
        self.proxies: list[FaultProxy] = []
        self.switches: list[Switch] = []
        self.merchant: dict[str, Any] = {}
        self.secrets: dict[str, str] = {}
        self.wallets: list[list[NetworkWallet]] = []
        self.opened = 0
        """What the customers' wallets at the network were loaded with, in all."""

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call to the simulator's admin (the customers' phones, the run's set-up)."""
        r = httpx.request(method, self.sim.url + path, json=body, timeout=30.0, trust_env=False)
        if r.status_code >= 400:
            raise ChaosError(f"simulator {method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def setup(self, ctx: Any, merchant_id: str, env: dict[str, str]) -> None:
        """The run's merchant at the network and its channel at the host, the customers'
        wallets there, one fault proxy per host to the simulator; the hosts' network
        settings into ``env``."""
        from scanpay.host.services import channels

        merchant = self.admin("POST", "/sim/merchants", {"kind": "direct", "mode": "public_key"})
        self.merchant = {"mchid": merchant["mchid"], "appid": merchant["appid"]}
        self.secrets = {
            "api": "v3",
            "private_key": merchant["client_private_key"],
            "cert_serial": merchant["client_serial"],
            "api_v3_key": merchant["api_v3_key"],
            "wechatpay_public_key": merchant["platform"]["public_key"],
            "wechatpay_public_key_id": merchant["platform"]["public_key_id"],
        }
        channels.add_channel(
            ctx,
            merchant_id,
            network="wechat_pay",
            mode="direct",
            app_id=merchant["appid"],
            mch_id=merchant["mchid"],
            secrets=self.secrets,
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
        for h in range(self.config.host_count):
            switch = Switch(
                RandomFaults(
                    self.config.fault_rate,
                    seed=self.config.seed * 104729 + h,
                    kinds=_NETWORK_PROXY_FAULTS,
                )
            )
            calls = max(net["pay_timeout"], net["query_timeout"], net["reverse_timeout"])
            proxy = FaultProxy(
                "127.0.0.1",
                self.sim.port,
                plan=switch,
                delay_seconds=calls + DELAY_PAST_TIMEOUT,
                error_header=_NETWORK_ERROR_HEADER,
            ).start()
            self.switches.append(switch)
            self.proxies.append(proxy)
        env.update(
            SCANPAY_NETWORK_DEADLINE=str(net["deadline"]),
            SCANPAY_NETWORK_REVERSE_AFTER=str(net["reverse_after"]),
            SCANPAY_NETWORK_POLL=str(net["poll"]),
            SCANPAY_NETWORK__WECHAT_PAY__PAY_TIMEOUT=str(net["pay_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__QUERY_TIMEOUT=str(net["query_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__REVERSE_TIMEOUT=str(net["reverse_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__CONNECT_TIMEOUT=str(net["connect_timeout"]),
        )

    def book(self, index: int, rng: random.Random) -> NetworkBook:
        """Terminal ``index``'s customers at the network, making codes with ``rng``."""
        return NetworkBook(self.wallets[index], rng, self.admin, dict(_NETWORK_SECONDS))

    def facts(
        self,
        legs: list[HostLeg],
        records: list[SaleRecord],
        started_at: datetime,
        settings: HostSettings,
    ) -> NetworkFacts:
        """The network's side: the simulator's books and orders, the statement of each
        Beijing day of the run through the host's adapter (straight, no proxy), and,
        when the run had network sales, the host's reconciliation of each of those days
        (on the host's database of ``settings``: call it once every process stopped)."""
        from scanpay.host.services.reconciliation import network_zone
        from scanpay.networks import registry
        from scanpay.networks.port import Channel, ChannelMode

        beijing = network_zone("wechat_pay")
        first = started_at.astimezone(beijing).date()
        last = datetime.now(UTC).astimezone(beijing).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        adapter = registry.create("wechat_pay", self._adapter_options())
        channel = Channel(
            "wechat_pay",
            ChannelMode.DIRECT,
            self.merchant["appid"],
            self.merchant["mchid"],
            secrets=self.secrets,
        )
        wallet_ids = [w.wallet_id for book in self.wallets for w in book]
        with httpx.Client(base_url=self.sim.url, timeout=60.0, trust_env=False) as admin:
            side = read_network(admin, adapter, channel, self.merchant["mchid"], wallet_ids, days)
        sales = frozenset(
            r.out_trade_no
            for r in records
            if r.plan.network is not None and r.out_trade_no is not None
        )
        reconciled = self._reconcile(settings, days) if sales else []
        return NetworkFacts(
            network="wechat_pay",
            sales=sales,
            legs=legs,
            orders=side.orders,
            statement=side.statement,
            statement_problems=side.statement_problems,
            wallets_opened=self.opened,
            wallets_now=side.wallets,
            merchant_received=side.merchant_balance,
            books_balanced=side.balanced,
            books=side.books,
            reconciled=reconciled,
        )

    def _adapter_options(self) -> dict[str, str]:
        """The host's WeChat Pay adapter straight at the simulator (the proxies are down
        by then), with time for a day's statement."""
        return {"gateway": self.sim.url, "statement_timeout": "60"}

    def _reconcile(self, settings: HostSettings, days: list[date]) -> list[ReconciledRun]:
        """Each of ``days`` reconciled by the host's own ``reconcile``, in this process,
        on the run's host database with the hosts' settings (master key, the channel's
        sealed secrets), the adapter's gateway the simulator itself."""
        from scanpay.host.services.context import HostContext
        from scanpay.host.services.reconciliation import reconcile

        host = replace(
            settings,
            networks={**settings.networks, "wechat_pay": self._adapter_options()},
        )
        ctx = HostContext.open(host)
        try:
            found: list[ReconciledRun] = []
            for day in days:
                for info in reconcile(ctx, day, "wechat_pay"):
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
        self, facts: Facts, faults: Counter[str], records: list[SaleRecord]
    ) -> dict[str, Any]:
        """The network's figures; its proxies' faults go into ``faults`` as ``network_*``."""
        assert facts.network is not None
        for kind in NETWORK_FAULT_KINDS:
            faults.setdefault(kind, 0)
        requests = 0
        for proxy in self.proxies:
            for kind, n in proxy.stats.items():
                requests += n if kind != "refused" else 0
                if kind == Fault.UPSTREAM_ERROR.value:
                    faults["network_system_error"] += n
                elif kind not in ("none", "refused"):
                    faults[f"network_{kind}"] += n
        states = {s.out_trade_no: s.state for s in facts.sales}
        network_sales = [r for r in records if r.plan.network is not None]
        outcomes = Counter(
            states.get(r.out_trade_no or "", "OPEN_INTERRUPTED") for r in network_sales
        )
        return {
            "network": facts.network.network,
            "share": self.config.network_share,
            "sales": len(network_sales),
            "outcomes": dict(outcomes),
            "requests": requests,
            "legs": dict(Counter(leg.status for leg in facts.network.legs)),
            "orders": dict(Counter(o.state for o in facts.network.orders)),
            "statement_lines": len(facts.network.statement),
            "reconciliation": _reconciliation_totals(facts.network),
            "merchant_received": facts.network.merchant_received,
            "books": dict(facts.network.books),
            "settings": dict(NETWORK_SETTINGS),
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


def _sim_command(port: int, data: Path) -> list[str]:
    """``scanpay sim wechat`` on ``port`` with its state in ``data``."""
    return [
        sys.executable,
        "-c",
        "from scanpay.cli import main; main()",
        "sim",
        "wechat",
        "--port",
        str(port),
        "--data",
        str(data),
        "--code-ttl",
        "300",
    ]
