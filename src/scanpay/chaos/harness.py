"""The chaos run behind ``scanpay chaos``: many sales under faults, then the invariants.

What runs (all real, all on loopback):

- the host: ``scanpay host serve`` processes on a SQLite file, or on a private
  PostgreSQL cluster (:mod:`scanpay.chaos.postgres`; two host processes share it);
- T terminal agents: ``python -m scanpay.terminal`` processes, each activated
  against the host *through its own* :class:`~scanpay.chaos.FaultProxy`, with a
  cashier and a supervisor;
- T cashier threads here, each driving its agent's HTTP API the way the
  cashier screen does (open a sale, scan, confirm, cancel, refund), and the
  customers' phones (:mod:`scanpay.chaos.customers`) making the codes and
  typing PINs on the host's wallet endpoint;
- the faults: every proxied request draws from :class:`~scanpay.chaos.RandomFaults`
  (drop the request, drop the reply after the host committed, delay it past
  the terminal's timeout, reset, duplicate, reorder); a seeded schedule of
  SIGKILLs of host and agent processes at random moments (a killed agent is
  sometimes restarted with a failpoint armed, so that it dies again right
  after journaling a given state), and crash-restarts of PostgreSQL;
- a supervisor thread that restarts whatever died;
- with ``network_share`` above zero, the payment networks' legs: that share of the
  sales is paid with codes from the customers' wallets at the networks of the run
  (WeChat Pay, ``scanpay sim wechat``, and Alipay, ``scanpay sim alipay``: each its
  own process and state; the sales split evenly), some with an outcome attached (a
  system error, the password step, a reply never sent, a slow answer, a refund
  answered PROCESSING...), and refunded like the wallet's, back through their
  network; each host reaches each simulator through a fault proxy of its own
  (requests dropped, replies dropped after the network charged, delays past the
  host's pay timeout, a system error asked of the network, resets), and half the
  host SIGKILLs are aimed at a moment when that host has a network call in flight.
  The host's leg timing is shortened (deadline 8 s, reverse after 3 s, queries
  every second) like the terminals'.

Then faults stop, every terminal recovers (sales in doubt resolved, reversals
acknowledged, refunds settled; sales never sent are cancelled by the cashier),
the hosts finish every network leg (queries and reverses) and every refund at a
network (their sweepers ask until it gives a final word), every process stops, the
run's business days are settled, each network's days of a run with sales through it
are reconciled by the host's own ``reconcile`` (against that network's statement),
and the facts of all parties - each network's orders, refunds, statement, books and
that reconciliation included - are judged by :mod:`scanpay.chaos.invariants`.

The seed fixes the sale plans (amounts, code kinds, cancels, refunds, PIN
delays), every fault draw's sequence and the kill schedule; thread timing on a
busy machine still varies, so two runs with one seed are alike, not identical.

The run's parts: :mod:`~scanpay.chaos.config` (what to run, the sale plans),
:mod:`~scanpay.chaos.shop` (the merchant, its terminals and customers at the host),
:mod:`~scanpay.chaos.terminals` (each terminal, its proxy and agent),
:mod:`~scanpay.chaos.cashier` (the cashier threads), :mod:`~scanpay.chaos.faults`
(the switch on the proxies, the kill schedule, the monkey and the supervisor),
:mod:`~scanpay.chaos.network` (a network's side, on the particulars of its
:mod:`~scanpay.chaos.rails`), :mod:`~scanpay.chaos.collect`
(reading every party into :mod:`~scanpay.chaos.facts`) and
:mod:`~scanpay.chaos.report` (the figures). This module sets them up, runs the
phases and tears everything down.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from scanpay.chaos.cashier import Cashier
from scanpay.chaos.collect import business_days, gather_facts, read_host, read_journal, settle_days
from scanpay.chaos.config import TERMINAL_SETTINGS, ChaosConfig, ChaosError, SaleRecord
from scanpay.chaos.customers import CodeBook
from scanpay.chaos.facts import Facts, InvariantResult
from scanpay.chaos.faults import Switch, monkey, restart, supervise
from scanpay.chaos.invariants import check_all
from scanpay.chaos.network import ChaosNetwork, open_legs, open_refunds
from scanpay.chaos.postgres import PostgresUnavailable, PrivatePostgres
from scanpay.chaos.processes import ManagedProcess, ProcessError, host_command
from scanpay.chaos.proxy import FaultProxy
from scanpay.chaos.report import ChaosReport, make_report
from scanpay.chaos.shop import open_customers, open_shop
from scanpay.chaos.terminals import Terminal, open_terminal, unsettled
from scanpay.host.settings import HostSettings

__all__ = ["ChaosRun", "run_chaos"]

log = logging.getLogger("scanpay.chaos")

Progress = Callable[[int, int, int], None]
"""Called with (sales done, sales in all, faults injected so far)."""


class ChaosRun:
    """One run; use :func:`run_chaos`."""

    def __init__(self, config: ChaosConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.directory = Path(config.directory or tempfile.mkdtemp(prefix="scanpay-chaos-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pg: PrivatePostgres | None = None
        self.hosts: list[ManagedProcess] = []
        self.terminals: list[Terminal] = []
        self.records: list[SaleRecord] = []
        self.notes: list[str] = []
        self.server_errors = 0
        self.strikes: Counter[str] = Counter()
        self.failpoints: Counter[str] = Counter()
        self.customers_opened = 0
        self.merchant_id = ""
        self.networks: list[ChaosNetwork] = []
        """Each payment network's side (network_share > 0), in the config's order."""
        self.stopping = threading.Event()
        """Set when the sales are over or the run broke off: the monkey and the supervisor stop."""
        self.phases: dict[str, float] = {}
        self.started_at = datetime.now(UTC)
        self._settings: HostSettings | None = None
        self._claimed = 0
        self._lock = threading.Lock()
        self._failure: BaseException | None = None

    @property
    def settings(self) -> HostSettings:
        """The host's settings for this run (database URL, master key): set by setup."""
        if self._settings is None:
            raise ChaosError("the run is not set up")
        return self._settings

    @property
    def claimed(self) -> int:
        """How many sales the cashiers have started."""
        return self._claimed

    @property
    def net_proxies(self) -> list[FaultProxy]:
        """The hosts' proxies to the networks (none without a network)."""
        return [proxy for network in self.networks for proxy in network.proxies]

    def host_net_proxies(self, host: int) -> list[FaultProxy]:
        """Host ``host``'s proxies, one to each network."""
        return [network.proxies[host] for network in self.networks if network.proxies]

    # -- bookkeeping shared by the threads -----------------------------------------------

    def claim(self) -> int | None:
        with self._lock:
            if self._claimed >= self.config.sales or self._failure is not None:
                return None
            self._claimed += 1
            return self._claimed

    def finished(self, record: SaleRecord) -> None:
        with self._lock:
            self.records.append(record)

    def note(self, text: str, *, server_error: bool = False) -> None:
        with self._lock:
            if server_error:
                self.server_errors += 1
            if len(self.notes) < 200:
                self.notes.append(text)
        log.info("note: %s", text)

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = exc
        self.stopping.set()

    def faults_so_far(self) -> int:
        # A kill in a network call is counted twice in strikes (as a kill, and as one
        # that landed in a call): once here.
        total = sum(self.strikes.values()) + sum(self.failpoints.values())
        total -= self.strikes["host_sigkill_in_network_call"]
        proxies = [*(t.proxy for t in self.terminals), *self.net_proxies]
        for proxy in proxies:
            total += sum(n for k, n in proxy.stats.items() if k not in ("none", "refused"))
        return total

    # -- setup ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        # Children get no SCANPAY_* settings from our environment, only the run's.
        return {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}

    def setup(self) -> None:
        from argon2 import PasswordHasher

        from scanpay.host.db.migrate import upgrade
        from scanpay.host.services.context import HostContext
        from scanpay.stack import free_port

        config = self.config
        host_dir = self.directory / "host"
        host_dir.mkdir(exist_ok=True)
        if config.db == "postgresql":
            self.pg = PrivatePostgres().start()
            url = self.pg.url
        else:
            url = f"sqlite:///{host_dir / 'host.db'}"
        master_key = secrets.token_hex(32)
        self._settings = HostSettings(
            database_url=url, data_dir=str(host_dir), master_key=master_key
        )
        ctx = HostContext.open(self._settings)
        # The run's customers get cheap argon2 parameters for their PIN hashes (a hash
        # names its parameters; the host verifies any): dozens of accounts open in a
        # second or two instead of half a minute. Everything the host hashes itself
        # keeps the host's cost.
        ctx.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        starting: list[Future[bool]] = []
        pool = ThreadPoolExecutor(max(config.host_count, config.terminals) + 1)
        sims_up: list[Future[bool]] = []
        if config.network_share > 0:
            # The networks come up while the host's database is made.
            self.networks = [
                ChaosNetwork(config, name, self.directory, self._env()) for name in config.networks
            ]
            sims_up = [pool.submit(network.sim.start) for network in self.networks]
        try:
            upgrade(ctx.db)
            self.merchant_id, issued = open_shop(ctx, config.terminals)
            env = self._env()
            env.update(
                SCANPAY_DATABASE_URL=url,
                SCANPAY_DATA_DIR=str(host_dir),
                SCANPAY_MASTER_KEY=master_key,
                SCANPAY_SWEEP_INTERVAL="1",
                # The host's PIN deadline is the terminals' too: as short as theirs was.
                SCANPAY_USER_PAYING_TIMEOUT=str(round(TERMINAL_SETTINGS["customer_deadline"])),
            )
            for network, up in zip(self.networks, sims_up, strict=True):
                if not up.result():
                    label, log_file = network.rail.label, network.sim.log
                    raise ChaosError(f"the {label} simulator exited at start (log: {log_file})")
                network.setup(ctx, self.merchant_id, env)
            for h in range(config.host_count):
                port = free_port()
                host_env = dict(env)
                for network in self.networks:
                    # Each host reaches each network through its own proxy: a kill aimed
                    # at a call in flight sees that host's calls only.
                    host_env.update(network.gateway_env(h))
                self.hosts.append(
                    ManagedProcess(
                        f"host{h}",
                        host_command(port),
                        port=port,
                        env=host_env,
                        log=self.directory / f"host{h}.log",
                    )
                )
            # The hosts come up while the customers' accounts are opened.
            starting = [pool.submit(host.start) for host in self.hosts]
            books, self.customers_opened = open_customers(ctx, config.terminals)
        finally:
            ctx.close()
            pool.shutdown(wait=True)
        for host, future in zip(self.hosts, starting, strict=True):
            if not future.result():
                raise ChaosError(f"{host.name} exited at start (log: {host.log})")
        fmt = self.settings.code_format
        for i, item in enumerate(issued):
            host = self.hosts[i % len(self.hosts)]
            terminal = open_terminal(config, i, item, host, self.directory, self._env())
            codes = CodeBook(fmt, books[i], random.Random(f"{config.seed}/codes/{i}"))
            networks = {
                # WeChat Pay's codes are drawn as a run through it alone always drew them.
                n.name: n.book(i, random.Random(f"{config.seed}/{n.rail.sim}/{i}"))
                for n in self.networks
            }
            terminal.cashier = Cashier(self, i, item.terminal_id, terminal.agent, codes, networks)
            self.terminals.append(terminal)
        with ThreadPoolExecutor(len(self.terminals)) as pool:
            started = list(pool.map(lambda t: t.agent.start(), self.terminals))
        for t, up in zip(self.terminals, started, strict=True):
            if not up:
                raise ChaosError(f"{t.agent.name} exited at start (log: {t.agent.log})")

    # -- phases --------------------------------------------------------------------------

    def _switches(self) -> list[Switch]:
        net = [switch for network in self.networks for switch in network.switches]
        return [*(t.switch for t in self.terminals), *net]

    def drive(self) -> None:
        """Faults on; the cashiers, the monkey and the supervisor run until every sale
        of the run has been driven to its end (or the run broke off)."""
        for switch in self._switches():
            switch.enabled = True
        threads = [
            threading.Thread(target=t.cashier.work, name=f"cashier-{t.index}", daemon=True)
            for t in self.terminals
            if t.cashier is not None
        ]
        blows = threading.Thread(target=monkey, args=(self,), name="monkey", daemon=True)
        guard = threading.Thread(target=supervise, args=(self,), name="supervisor", daemon=True)
        for thread in (*threads, blows, guard):
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if self.progress is not None:
                self.progress(len(self.records), self.config.sales, self.faults_so_far())
            for thread in threads:
                thread.join(0.25)
        self.stopping.set()
        blows.join(120)
        guard.join(120)
        if self.progress is not None:
            self.progress(len(self.records), self.config.sales, self.faults_so_far())
        if self._failure is not None:
            raise ChaosError(f"the run broke off: {self._failure}") from self._failure

    def recover(self) -> None:
        """Faults off; every process up and disarmed; the terminals settle everything."""
        for switch in self._switches():
            switch.enabled = False
        if self.pg is not None:
            self.pg.ensure_running()
        sim = [network.sim for network in self.networks]
        for process in [*sim, *self.hosts, *(t.agent for t in self.terminals)]:
            if process.armed or not process.alive():
                # An armed agent would die in the middle of its own recovery: disarm it.
                if process.armed and process.alive():
                    process.kill()
                restart(process, self.failpoints)
        for t in self.terminals:
            assert t.cashier is not None
            t.cashier.http = httpx.Client(
                base_url=t.agent.url, timeout=httpx.Timeout(40.0, connect=2.0), trust_env=False
            )
            t.cashier.token = None
            closed = t.cashier.close_open_sales()
            if closed:
                log.info("%s: cancelled %d sales never sent", t.terminal_id, closed)
        end = time.monotonic() + self.config.recover_timeout
        while time.monotonic() < end:
            left = sum(unsettled(t.directory) for t in self.terminals)
            if left == 0:
                break
            time.sleep(0.25)
        if self.networks:
            # The hosts finish their network legs: reverses of sales the terminals
            # reversed, legs of a host that died mid-call (their lease lapses first);
            # and their refunds at the network (their sweepers ask until a final word).
            while time.monotonic() < end and open_legs(self.settings) + open_refunds(self.settings):
                time.sleep(0.5)
        for t in self.terminals:
            assert t.cashier is not None
            t.cashier.http.close()
            t.agent.stop()
        for host in self.hosts:
            host.stop()
        for t in self.terminals:
            t.proxy.stop()
        for proxy in self.net_proxies:
            proxy.stop()

    def check(self) -> tuple[Facts, list[InvariantResult], dict[str, Any], dict[str, int]]:
        """Read every party, settle the run's days, judge: (facts, results, settlement,
        the host result codes the sales ended with)."""
        journals = [read_journal(t.directory, t.terminal_id) for t in self.terminals]
        days = business_days(self.started_at, datetime.now(UTC), self.settings)
        settled = settle_days(
            self.settings, self.merchant_id, days, out=self.directory / "settlements"
        )
        from scanpay.host.services.context import HostContext

        ctx = HostContext.open(self.settings)
        try:
            host = read_host(ctx, self.merchant_id)
        finally:
            ctx.close()
        networks = [
            network.facts(host.legs, self.records, self.started_at, self.settings)
            for network in self.networks
        ]
        facts = gather_facts(journals, host, settled, self.customers_opened, networks)
        results = check_all(facts)
        results.append(
            InvariantResult(
                "agents_answered",
                "no cashier request got a server error (5xx) from an agent",
                len(self.records),
                tuple(n for n in self.notes if " -> 5" in n)[:20],
                self.server_errors,
            )
        )
        codes: Counter[str] = Counter()
        for j in journals:
            codes.update(j.result_codes.values())
        settlement = {"days": settled.days, **settled.totals()}
        return facts, results, settlement, dict(codes)

    def shutdown(self) -> None:
        """Stop whatever still runs (after a failure too): agents, hosts, proxies, PostgreSQL."""
        self.stopping.set()
        for t in self.terminals:
            t.agent.kill()
            t.proxy.stop()
        for host in self.hosts:
            host.kill()
        for proxy in self.net_proxies:
            proxy.stop()
        for network in self.networks:
            network.sim.stop()
        if self.pg is not None:
            self.pg.stop()
            self.pg = None

    def phase(self, name: str, action: Callable[[], Any]) -> Any:
        began = time.monotonic()
        try:
            return action()
        finally:
            self.phases[name] = time.monotonic() - began


def run_chaos(config: ChaosConfig, progress: Progress | None = None) -> ChaosReport:
    """Run the whole thing and judge it. Raises :class:`ChaosError` when the run itself
    could not be carried out (PostgreSQL unavailable, a process that never starts...)."""
    began = time.monotonic()
    run = ChaosRun(config, progress)
    remove = False
    try:
        try:
            run.phase("setup", run.setup)
        except PostgresUnavailable as exc:
            raise ChaosError(f"cannot start a private PostgreSQL cluster: {exc}") from exc
        except ProcessError as exc:
            raise ChaosError(str(exc)) from exc
        run.phase("drive", run.drive)
        run.phase("recover", run.recover)
        facts, results, settlement, codes = run.phase("check", run.check)
        report = make_report(run, facts, results, settlement, codes, time.monotonic() - began)
        (run.directory / "report.json").write_text(json.dumps(report.to_dict(), indent=2))
        # The facts themselves, so that the pure invariants can judge them again later.
        (run.directory / "facts.json").write_text(json.dumps(asdict(facts), default=sorted))
        # A clean run in a folder of our own leaves nothing behind; a failed one keeps
        # its logs, journals, database and settlement files for the post-mortem.
        remove = report.ok and not config.keep and config.directory is None
        if remove:
            report.directory = None
        return report
    finally:
        run.shutdown()
        if remove:
            shutil.rmtree(run.directory, ignore_errors=True)
