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
- with ``network_share`` above zero, the payment network's leg: that share of the
  sales is paid with WeChat Pay codes from the customers' wallets at the WeChat
  Pay simulator (``scanpay sim wechat``, its own process and state), some with an
  outcome attached (a system error, the password step, a reply never sent, a
  slow answer...); each host reaches the simulator through a fault proxy of its
  own (requests dropped, replies dropped after the network charged, delays past
  the host's pay timeout, SYSTEMERROR asked of the network, resets), and half
  the host SIGKILLs are aimed at a moment when that host has a network call in
  flight. The host's leg timing is shortened (deadline 8 s, reverse after 3 s,
  queries every second) like the terminals'.

Then faults stop, every terminal recovers (sales in doubt resolved, reversals
acknowledged, refunds settled; sales never sent are cancelled by the cashier),
the hosts finish every network leg (queries and reverses), every process stops,
the run's business days are settled and the facts of all parties - the
network's orders, statement and books included - are judged by
:mod:`scanpay.chaos.invariants`.

The seed fixes the sale plans (amounts, code kinds, cancels, refunds, PIN
delays), every fault draw's sequence and the kill schedule; thread timing on a
busy machine still varies, so two runs with one seed are alike, not identical.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from scanpay.chaos.collect import (
    business_days,
    flatten,
    read_host,
    read_journal,
    read_network,
    settle_days,
)
from scanpay.chaos.customers import (
    CodeBook,
    CodeKind,
    Customer,
    IssuedCode,
    NetworkBook,
    NetworkCodeKind,
    NetworkWallet,
    Role,
)
from scanpay.chaos.invariants import (
    FINAL_STATES,
    Facts,
    InvariantResult,
    NetworkFacts,
    check_all,
)
from scanpay.chaos.postgres import PostgresUnavailable, PrivatePostgres
from scanpay.chaos.processes import ManagedProcess, ProcessError, agent_command, host_command
from scanpay.chaos.proxy import Fault, FaultPlan, FaultProxy, RandomFaults, RequestInfo
from scanpay.host.settings import HostSettings

__all__ = [
    "FAULT_KINDS",
    "NETWORK_FAULT_KINDS",
    "NETWORK_SETTINGS",
    "TERMINAL_SETTINGS",
    "ChaosConfig",
    "ChaosError",
    "ChaosReport",
    "SalePlan",
    "run_chaos",
]

log = logging.getLogger("scanpay.chaos")

Database = Literal["sqlite", "postgresql"]

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

#: Every kind of fault the run injects: the proxy's and the process-level ones.
FAULT_KINDS = (
    Fault.DROP_REQUEST.value,
    Fault.DROP_REPLY.value,
    Fault.DELAY.value,
    Fault.RESET.value,
    Fault.DUPLICATE.value,
    Fault.REORDER.value,
    "host_sigkill",
    "agent_sigkill",
    "agent_failpoint",
    "postgres_restart",
)

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
}
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

CASHIER = ("c01", "1234")
SUPERVISOR = ("s01", "987654")
CUSTOMER_PIN = "123456"
USCC = "91350100M000100Y43"

# What each terminal's customers are: (role, how many, opening balance).
_CUSTOMERS = ((Role.RICH, 12, 100_000_000), (Role.PIN, 3, 100_000_000), (Role.POOR, 1, 100))

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
_PIN_KINDS = frozenset({CodeKind.PIN_CONFIRMED, CodeKind.PIN_ABANDONED})


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
    """The share of sales paid with WeChat Pay codes through the network (0-1)."""

    def __post_init__(self) -> None:
        if self.sales < 1 or self.terminals < 1:
            raise ValueError("sales and terminals must be at least 1")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("the fault rate is between 0 and 1")
        if not 0.0 <= self.network_share <= 1.0:
            raise ValueError("the network share is between 0 and 1")
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
    """Paid with a WeChat Pay code of this kind (``code`` is then unused), refunds not
    asked (the host refuses a network payment's refund: the network's platform does it)."""

    @classmethod
    def make(cls, seed: int, index: int, network_share: float = 0.0) -> SalePlan:
        """The plan of sale ``index``; the network's part is drawn apart, so a run without
        one plans its built-in sales as it always did."""
        plan = cls._make(seed, index)
        if network_share <= 0:
            return plan
        rng = random.Random(f"{seed}/network/{index}")
        if rng.random() >= network_share:
            return plan
        kind = rng.choices(list(_NETWORK_CODE_MIX), weights=list(_NETWORK_CODE_MIX.values()))[0]
        # The poor hold 1.00 at the network too.
        amount = rng.randint(200, 50_000) if kind is NetworkCodeKind.POOR else plan.amount
        return replace(plan, network=kind, amount=amount, refund="none")

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


@dataclass
class ChaosReport:
    """Everything a run found: figures, faults, invariants."""

    config: dict[str, Any]
    started_at: str
    wall_seconds: float
    phases: dict[str, float]
    sales_driven: int
    sales_interrupted: int
    """Sales during which the cashier's agent was killed (then resumed after its restart)."""
    outcomes: dict[str, int]
    by_code: dict[str, dict[str, int]]
    result_codes: dict[str, int]
    refunds: dict[str, int]
    faults: dict[str, int]
    failpoints: dict[str, int]
    requests: int
    invariants: list[InvariantResult]
    settlement: dict[str, Any]
    harness_notes: list[str]
    directory: str | None
    network: dict[str, Any] | None = None
    """The network's figures, when the run paid through it: sales, legs, orders, faults."""

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.invariants)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["invariants"] = [i.to_dict() for i in self.invariants]
        data["ok"] = self.ok
        return data


Progress = Callable[[int, int, int], None]
"""Called with (sales done, sales in all, faults injected so far)."""


# ---------------------------------------------------------------------------- run-wide parts


class _Switch:
    """A fault plan that can be turned off (setup and recovery run fault-free)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.enabled = False

    def __call__(self, info: RequestInfo) -> Fault:
        return self.plan(info) if self.enabled else Fault.NONE


@dataclass(frozen=True, slots=True)
class _Strike:
    """One scheduled blow: when (sales started), what, to whom."""

    at: int
    kind: Literal["host", "agent", "postgres"]
    target: int
    arm: str = ""
    down: float = 0.0
    in_call: bool = False
    """A host kill aimed at a moment when the host has a network call in flight."""


# States an armed agent dies right after journaling (before acting on them), the
# common ones first so that a short run reaches its first few.
_FAILPOINT_STATES = (
    "SUBMITTED",
    "APPROVED",
    "CONFIRMED",
    "UNKNOWN",
    "USER_PAYING",
    "REVERSING",
    "DECLINED",
    "CANCELLED",
    "REVERSED",
)


def _schedule(config: ChaosConfig) -> list[_Strike]:
    """The run's blows, by the number of sales started when each falls: host and agent
    SIGKILLs and PostgreSQL restarts at seeded random points; every other agent kill
    restarts the agent with the next failpoint of :data:`_FAILPOINT_STATES` armed;
    with a network, every other host kill waits for a network call in flight."""
    rng = random.Random(f"{config.seed}/monkey")
    hosts, agents, restarts = config.strikes()
    low, high = max(1, int(config.sales * 0.03)), max(2, int(config.sales * 0.95))
    strikes: list[_Strike] = []
    for n in range(hosts):
        target = rng.randrange(config.host_count)
        at, down = rng.randint(low, high), rng.uniform(0, 1.5)
        in_call = config.network_share > 0 and n % 2 == 0
        strikes.append(_Strike(at, "host", target, down=down, in_call=in_call))
    for n in range(agents):
        arm = _FAILPOINT_STATES[(n // 2) % len(_FAILPOINT_STATES)] if n % 2 == 0 else ""
        strikes.append(
            _Strike(rng.randint(low, high), "agent", rng.randrange(config.terminals), arm=arm)
        )
    for _ in range(restarts):
        strikes.append(_Strike(rng.randint(low, high), "postgres", 0))
    return sorted(strikes, key=lambda s: s.at)


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


class AgentDown(Exception):
    """The agent did not answer (killed, or restarting)."""


# --------------------------------------------------------------------------------- the cashier


class Cashier:
    """One terminal's cashier (and its customers): drives sales through the agent's API."""

    def __init__(
        self,
        run: ChaosRun,
        index: int,
        terminal_id: str,
        agent: ManagedProcess,
        codes: CodeBook,
        network: NetworkBook | None = None,
    ) -> None:
        self.run = run
        self.index = index
        self.terminal_id = terminal_id
        self.agent = agent
        self.codes = codes
        self.network = network
        self.rng = random.Random(f"{run.config.seed}/cashier/{index}")
        self.http = httpx.Client(
            base_url=agent.url, timeout=httpx.Timeout(40.0, connect=2.0), trust_env=False
        )
        self.token: str | None = None

    # -- plumbing ------------------------------------------------------------------------

    def _wait_up(self) -> None:
        if not self.agent.up.wait(timeout=180):
            raise ChaosError(f"terminal {self.terminal_id}'s agent stayed down for 3 minutes")

    def _login(self) -> None:
        try:
            r = self.http.post("/api/session", json={"operator_id": CASHIER[0], "pin": CASHIER[1]})
        except httpx.TransportError as exc:
            raise AgentDown(str(exc)) from None
        if r.status_code != 200:
            raise ChaosError(f"cashier login refused: {r.status_code} {r.text[:200]}")
        self.token = str(r.json()["token"])

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One call to the agent; logs in again after a restart (sessions live in memory)."""
        response: httpx.Response | None = None
        for _ in range(3):
            self._wait_up()
            if self.token is None:
                self._login()
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            try:
                response = self.http.request(
                    method,
                    path,
                    json=body,
                    params=params,
                    headers={"Authorization": f"Bearer {self.token}"},
                    **extra,
                )
            except httpx.TransportError as exc:
                raise AgentDown(f"{type(exc).__name__}") from None
            if response.status_code == 401 and _error_code(response) == "not_logged_in":
                self.token = None
                continue
            if response.status_code >= 500:
                self.run.note(
                    f"{self.terminal_id}: {method} {path} -> {response.status_code} "
                    f"{response.text[:200]}",
                    server_error=True,
                )
            return response
        assert response is not None
        return response

    def get_sale(self, no: str, **params: Any) -> dict[str, Any]:
        r = self.request("GET", f"/api/sales/{no}", params=params or None, timeout=40)
        if r.status_code != 200:
            raise ChaosError(f"GET sale {no}: {r.status_code} {r.text[:200]}")
        data: dict[str, Any] = r.json()
        return data

    # -- a sale --------------------------------------------------------------------------

    def work(self) -> None:
        """Take sale plans until every sale of the run is claimed."""
        try:
            while (index := self.run.claim()) is not None:
                plan = SalePlan.make(self.run.config.seed, index, self.run.config.network_share)
                record = SaleRecord(index, self.terminal_id, plan)
                try:
                    self.sale(plan, record)
                except AgentDown:
                    record.interrupted = True
                    self.resume(record)
                except ChaosError:
                    raise
                except Exception as exc:  # a surprise answer: note it, keep the run going
                    record.error = f"{type(exc).__name__}: {exc}"
                    self.run.note(f"{self.terminal_id} sale {index}: {record.error}")
                    self.resume(record)
                self.run.finished(record)
        except ChaosError as exc:
            self.run.fail(exc)
        finally:
            self.http.close()

    def sale(self, plan: SalePlan, record: SaleRecord) -> None:
        no = self.open(plan.amount)
        record.out_trade_no = no
        code: IssuedCode
        if plan.network is not None:
            if self.network is None:
                raise ChaosError("a network sale planned, but the run has no network")
            code = self.network.issue(plan.network)
        else:
            code = self.codes.issue(plan.code)
        record.code = code.kind.value
        r = self.request("POST", f"/api/sales/{no}/scan", body={"text": code.text})
        if r.status_code != 200:
            # Every code made here parses; a refusal is worth a look, not the run's end.
            self.run.note(f"{no}: scan refused {r.status_code} {_error_code(r)}")
            self.request("POST", f"/api/sales/{no}/cancel")
            record.state = self.wait_final(no)["state"]
            return
        if plan.cancel == "before":
            self.request("POST", f"/api/sales/{no}/cancel")
            record.state = self.wait_final(no)["state"]
            return
        wait = 0 if plan.cancel == "after" or code.kind in _PIN_KINDS else 15
        r = self.request("POST", f"/api/sales/{no}/confirm", params={"wait": wait}, timeout=40)
        if r.status_code != 200:
            # The agent restarted between scan and confirm: the code lived in the dead
            # process's memory, the sale is NEW again and cannot be confirmed. The cashier
            # cancels it (the customer would show a fresh code on the next sale).
            self.run.note(f"{no}: confirm -> {r.status_code} {_error_code(r)}")
            if self.get_sale(no)["state"] in ("NEW", "CODE_READ"):
                self.request("POST", f"/api/sales/{no}/cancel")
                record.state = self.wait_final(no)["state"]
                return
        if plan.cancel == "after":
            time.sleep(self.rng.uniform(0.0, 0.4))
            # Refused when the sale is already settled (approved before the cancel): fine.
            self.request("POST", f"/api/sales/{no}/cancel")
        if code.kind in _PIN_KINDS:
            self.customer(no, code.account, plan, record)
        view = self.wait_final(no)
        record.state = view["state"]
        if view["state"] == "APPROVED" and plan.refund != "none":
            self.refund(no, view, plan, record)

    def open(self, amount: int) -> str:
        """Open a sale; while the terminal still resolves one in doubt it refuses: wait."""
        end = time.monotonic() + self.run.config.recover_timeout
        while True:
            try:
                r = self.request("POST", "/api/sales", body={"amount": amount})
            except AgentDown:
                # The agent died under the press, before or after journaling the sale: the
                # cashier presses again once it is back (a sale journaled but never
                # answered stays NEW and is superseded by this one). Without this, a kill
                # landing in that window left a driven sale with no sale at all.
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
                continue
            if r.status_code == 201:
                return str(r.json()["out_trade_no"])
            if _error_code(r) in ("sales_in_doubt", "sale_in_progress"):
                if time.monotonic() > end:
                    raise ChaosError(f"{self.terminal_id}: a sale stayed in doubt: {r.text[:200]}")
                time.sleep(0.2)
                continue
            raise ChaosError(f"open sale refused: {r.status_code} {r.text[:200]}")

    def customer(self, no: str, account: str, plan: SalePlan, record: SaleRecord) -> None:
        """The customer's phone: waits for the PIN request, then types it (or walks away)."""
        view = self.get_sale(no)
        end = time.monotonic() + 30
        while view["state"] in ("CONFIRMED", "SUBMITTED", "UNKNOWN") and time.monotonic() < end:
            view = self.get_sale(no, wait=2, version=view["version"])
        if view["state"] != "USER_PAYING" or plan.code is not CodeKind.PIN_CONFIRMED:
            return
        time.sleep(plan.pin_delay)
        body = {"account": account, "pin": CUSTOMER_PIN, "payment_id": view.get("payment_id")}
        end = time.monotonic() + 5
        while time.monotonic() < end:
            host = self.run.hosts[self.rng.randrange(len(self.run.hosts))]
            try:
                r = _confirm_pin(host.url, body)
            except httpx.TransportError:
                time.sleep(0.2)  # the host is being restarted: the customer tries again
                continue
            if r.status_code < 500:
                record.pin_answer = str(r.json().get("code") or r.status_code)
                return
            time.sleep(0.2)

    def wait_final(self, no: str, timeout: float = 120.0) -> dict[str, Any]:
        """Follow the sale (long-poll) until it is settled, or ``timeout``."""
        view = self.get_sale(no)
        end = time.monotonic() + timeout
        while view["state"] not in FINAL_STATES and time.monotonic() < end:
            view = self.get_sale(no, wait=5, version=view["version"])
        return view

    def refund(self, no: str, view: dict[str, Any], plan: SalePlan, record: SaleRecord) -> None:
        """Supervisor-approved refunds: part, all, or part and then the rest."""
        amount = int(view["amount"])
        steps: list[int | None]
        if plan.refund == "full" or amount < 2:
            steps = [None]
        elif plan.refund == "partial":
            steps = [self.rng.randint(1, amount - 1)]
        else:
            steps = [self.rng.randint(1, amount - 1), None]
        for part in steps:
            body: dict[str, Any] = {
                "reason": "chaos",
                "supervisor": {"operator_id": SUPERVISOR[0], "pin": SUPERVISOR[1]},
            }
            if part is not None:
                body["amount"] = part
            r = self.request("POST", f"/api/sales/{no}/refunds", body=body, timeout=40)
            if r.status_code == 200:
                record.refunds.append(str(r.json()["refund"]["state"]))
            else:
                # refund_pending: the first one's answer is still unknown - rightly refused.
                record.refunds.append(f"refused:{_error_code(r)}")
                return

    def resume(self, record: SaleRecord) -> None:
        """After the agent died mid-sale: cancel a sale never sent, follow one that was."""
        for _ in range(30):
            try:
                if record.out_trade_no is None:
                    return
                view = self.get_sale(record.out_trade_no)
                if view["state"] in ("NEW", "CODE_READ"):
                    self.request("POST", f"/api/sales/{record.out_trade_no}/cancel")
                record.state = self.wait_final(record.out_trade_no)["state"]
                return
            except AgentDown:
                time.sleep(0.2)
            except ChaosError as exc:
                if "404" in str(exc):
                    return  # the agent died before the sale was journaled
                raise

    def close_open_sales(self) -> int:
        """The cashier cancels what was opened but never sent (recovery phase)."""
        closed = 0
        for state in ("NEW", "CODE_READ"):
            r = self.request("GET", "/api/sales", params={"state": state, "limit": 500})
            for sale in r.json() if r.status_code == 200 else []:
                self.request("POST", f"/api/sales/{sale['out_trade_no']}/cancel")
                closed += 1
        return closed


# ------------------------------------------------------------------------------------ the run


@dataclass
class _Terminal:
    index: int
    terminal_id: str
    directory: Path
    proxy: FaultProxy
    switch: _Switch
    agent: ManagedProcess
    cashier: Cashier | None = None


class ChaosRun:
    """One run; use :func:`run_chaos`."""

    def __init__(self, config: ChaosConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.directory = Path(config.directory or tempfile.mkdtemp(prefix="scanpay-chaos-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pg: PrivatePostgres | None = None
        self.hosts: list[ManagedProcess] = []
        self.terminals: list[_Terminal] = []
        self.records: list[SaleRecord] = []
        self.notes: list[str] = []
        self.server_errors = 0
        self.strikes: Counter[str] = Counter()
        self.failpoints: Counter[str] = Counter()
        self.customers_opened = 0
        self.merchant_id = ""
        # The network's side (network_share > 0): the simulator, one fault proxy from
        # each host to it, the run's merchant there, its channel, the customers' wallets.
        self.sim: ManagedProcess | None = None
        self.net_proxies: list[FaultProxy] = []
        self.net_switches: list[_Switch] = []
        self.net_merchant: dict[str, Any] = {}
        self.net_secrets: dict[str, str] = {}
        self.net_wallets: list[list[NetworkWallet]] = []
        self.net_opened = 0
        self._settings: HostSettings | None = None
        self._claimed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._phases: dict[str, float] = {}
        self._started_at = datetime.now(UTC)

    @property
    def settings(self) -> HostSettings:
        """The host's settings for this run (database URL, master key): set by setup."""
        if self._settings is None:
            raise ChaosError("the run is not set up")
        return self._settings

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
        self._stop.set()

    def faults_so_far(self) -> int:
        # A kill in a network call is counted twice in strikes (as a kill, and as one
        # that landed in a call): once here.
        total = sum(self.strikes.values()) + sum(self.failpoints.values())
        total -= self.strikes["host_sigkill_in_network_call"]
        proxies = [*(t.proxy for t in self.terminals), *self.net_proxies]
        for proxy in proxies:
            total += sum(n for k, n in proxy.stats.items() if k not in ("none", "refused"))
        return total

    def sim_admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call to the simulator's admin (the customers' phones, the run's set-up)."""
        if self.sim is None:
            raise ChaosError("the run has no network simulator")
        r = httpx.request(method, self.sim.url + path, json=body, timeout=30.0, trust_env=False)
        if r.status_code >= 400:
            raise ChaosError(f"simulator {method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    # -- setup ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        # Children get no SCANPAY_* settings from our environment, only the run's.
        return {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}

    def setup(self) -> None:
        from argon2 import PasswordHasher

        from scanpay.host.db.migrate import upgrade
        from scanpay.host.services import merchants, risk, terminals, wallets
        from scanpay.host.services.audit import LOCAL
        from scanpay.host.services.context import HostContext
        from scanpay.stack import add_demo_operators, free_port
        from scanpay.terminal.agent import activate_terminal

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
        sim_up: Future[bool] | None = None
        if config.network_share > 0:
            # The network comes up while the host's database is made.
            sim_port = free_port()
            self.sim = ManagedProcess(
                "sim",
                _sim_command(sim_port, self.directory / "sim"),
                port=sim_port,
                env=self._env(),
                log=self.directory / "sim.log",
                health_path="/sim/platform",
            )
            sim_up = pool.submit(self.sim.start)
        try:
            upgrade(ctx.db)
            merchant = merchants.add_merchant(
                ctx, name="Chaos Mart", city="Shanghai", mcc="5411", license=USCC
            )
            self.merchant_id = merchant.merchant_id
            merchants.set_status(ctx, self.merchant_id, "approve")
            # Rules that would otherwise decide most outcomes of a fast, code-churning run
            # (velocity, lockout after failed codes, daily totals) are switched off for
            # this merchant; every other rule stays as shipped.
            for rule, window, lock in (
                ("velocity", 60, None),
                ("failed_codes", 300, 900),
                ("daily_amount", None, None),
                ("wallet_daily_amount", None, None),
            ):
                risk.set_limit(
                    ctx,
                    LOCAL,
                    rule,
                    10**12 if rule != "failed_codes" else 10**6,
                    scope="merchant",
                    key=self.merchant_id,
                    action="approve",
                    window_seconds=window,
                    lock_seconds=lock,
                )
            issued = [
                terminals.add_terminal(ctx, self.merchant_id) for _ in range(config.terminals)
            ]
            env = self._env()
            env.update(
                SCANPAY_DATABASE_URL=url,
                SCANPAY_DATA_DIR=str(host_dir),
                SCANPAY_MASTER_KEY=master_key,
                SCANPAY_SWEEP_INTERVAL="1",
                # The host's PIN deadline is the terminals' too: as short as theirs was.
                SCANPAY_USER_PAYING_TIMEOUT=str(round(TERMINAL_SETTINGS["customer_deadline"])),
            )
            if sim_up is not None:
                if not sim_up.result():
                    raise ChaosError("the WeChat Pay simulator exited at start (log: sim.log)")
                self._network_setup(ctx, env)
            for h in range(config.host_count):
                port = free_port()
                host_env = dict(env)
                if self.net_proxies:
                    # Each host reaches the network through its own proxy: a kill aimed at
                    # a call in flight sees that host's calls only.
                    host_env["SCANPAY_NETWORK__WECHAT_PAY__GATEWAY"] = self.net_proxies[h].url
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
            books: list[list[Customer]] = [[] for _ in range(config.terminals)]
            for i in range(config.terminals):
                for role, count, balance in _CUSTOMERS:
                    for n in range(count):
                        opened = wallets.open_account(
                            ctx,
                            name=f"{role.value} {i}-{n}",
                            currency="CNY",
                            balance=balance,
                            pin=CUSTOMER_PIN,
                            pin_above=0 if role is Role.PIN else 10**12,
                        )
                        secret = bytes.fromhex(opened.secret_hex)
                        books[i].append(
                            Customer(opened.info.account, secret, role, balance, CUSTOMER_PIN)
                        )
                        self.customers_opened += balance
        finally:
            ctx.close()
            pool.shutdown(wait=True)
        for host, future in zip(self.hosts, starting, strict=True):
            if not future.result():
                raise ChaosError(f"{host.name} exited at start (log: {host.log})")
        fmt = self.settings.code_format
        for i, item in enumerate(issued):
            host = self.hosts[i % len(self.hosts)]
            switch = _Switch(
                RandomFaults(config.fault_rate, seed=config.seed * 7919 + i, only_paths=("/v1/",))
            )
            proxy = FaultProxy(
                "127.0.0.1",
                host.port,
                plan=switch,
                delay_seconds=TERMINAL_SETTINGS["request_timeout"] + DELAY_PAST_TIMEOUT,
            ).start()
            directory = self.directory / f"terminal{i}"
            printer = {"kind": "file", "path": str(self.directory / f"printer{i}.bin")}
            # The terminal knows the host only through its proxy.
            activate_terminal(
                proxy.url,
                item.activation_code,
                directory=directory,
                settings={**TERMINAL_SETTINGS, "printer": printer},
            )
            add_demo_operators(directory)
            port = free_port()
            agent = ManagedProcess(
                f"agent{i}",
                agent_command(port, directory),
                port=port,
                env=self._env(),
                log=self.directory / f"agent{i}.log",
            )
            terminal = _Terminal(i, item.terminal_id, directory, proxy, switch, agent)
            codes = CodeBook(fmt, books[i], random.Random(f"{config.seed}/codes/{i}"))
            network = None
            if self.sim is not None:
                network = NetworkBook(
                    self.net_wallets[i],
                    random.Random(f"{config.seed}/wechat/{i}"),
                    self.sim_admin,
                    dict(_NETWORK_SECONDS),
                )
            terminal.cashier = Cashier(self, i, item.terminal_id, agent, codes, network)
            self.terminals.append(terminal)
        with ThreadPoolExecutor(len(self.terminals)) as pool:
            started = list(pool.map(lambda t: t.agent.start(), self.terminals))
        for t, up in zip(self.terminals, started, strict=True):
            if not up:
                raise ChaosError(f"{t.agent.name} exited at start (log: {t.agent.log})")

    def _network_setup(self, ctx: Any, env: dict[str, str]) -> None:
        """The run's merchant at the network and its channel at the host, the customers'
        wallets there, one fault proxy per host to the simulator; the hosts' network
        settings into ``env``."""
        from scanpay.host.services import channels

        assert self.sim is not None
        merchant = self.sim_admin(
            "POST", "/sim/merchants", {"kind": "direct", "mode": "public_key"}
        )
        self.net_merchant = {"mchid": merchant["mchid"], "appid": merchant["appid"]}
        self.net_secrets = {
            "api": "v3",
            "private_key": merchant["client_private_key"],
            "cert_serial": merchant["client_serial"],
            "api_v3_key": merchant["api_v3_key"],
            "wechatpay_public_key": merchant["platform"]["public_key"],
            "wechatpay_public_key_id": merchant["platform"]["public_key_id"],
        }
        channels.add_channel(
            ctx,
            self.merchant_id,
            network="wechat_pay",
            mode="direct",
            app_id=merchant["appid"],
            mch_id=merchant["mchid"],
            secrets=self.net_secrets,
        )
        for i in range(self.config.terminals):
            wallets: list[NetworkWallet] = []
            for poor, count, balance in _NETWORK_WALLETS:
                for n in range(count):
                    name = f"{'poor' if poor else 'rich'} {i}-{n}"
                    made = self.sim_admin(
                        "POST", "/sim/wallets", {"balance": balance, "name": name}
                    )
                    wallets.append(NetworkWallet(int(made["wallet_id"]), balance, poor))
                    self.net_opened += balance
            self.net_wallets.append(wallets)
        net = NETWORK_SETTINGS
        for h in range(self.config.host_count):
            switch = _Switch(
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
            self.net_switches.append(switch)
            self.net_proxies.append(proxy)
        env.update(
            SCANPAY_NETWORK_DEADLINE=str(net["deadline"]),
            SCANPAY_NETWORK_REVERSE_AFTER=str(net["reverse_after"]),
            SCANPAY_NETWORK_POLL=str(net["poll"]),
            SCANPAY_NETWORK__WECHAT_PAY__PAY_TIMEOUT=str(net["pay_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__QUERY_TIMEOUT=str(net["query_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__REVERSE_TIMEOUT=str(net["reverse_timeout"]),
            SCANPAY_NETWORK__WECHAT_PAY__CONNECT_TIMEOUT=str(net["connect_timeout"]),
        )

    # -- the faults at process level -----------------------------------------------------

    def monkey(self) -> None:
        """Carry out the kill schedule at random moments within the sales it names."""
        rng = random.Random(f"{self.config.seed}/moments")
        try:
            for strike in _schedule(self.config):
                while self._claimed < strike.at and not self._stop.is_set():
                    time.sleep(0.05)
                if self._stop.is_set():
                    return
                time.sleep(rng.uniform(0.0, 0.8))
                if strike.kind == "postgres" and self.pg is not None:
                    away = self.pg.restart()
                    self.strikes["postgres_restart"] += 1
                    log.info("postgres restarted (%.2f s)", away)
                elif strike.kind == "host":
                    host = self.hosts[strike.target]
                    in_call = None
                    if strike.in_call and self.net_proxies:
                        in_call = self.net_proxies[strike.target]
                    self._strike(host, "host_sigkill", "", strike.down, in_call)
                elif strike.kind == "agent":
                    agent = self.terminals[strike.target].agent
                    self._strike(agent, "agent_sigkill", strike.arm, 0.0)
        except BaseException as exc:
            self.fail(exc)

    def _strike(
        self,
        process: ManagedProcess,
        kind: str,
        arm: str,
        down: float,
        in_call: FaultProxy | None = None,
    ) -> None:
        process.up.wait(60)
        process.held = True
        try:
            if in_call is not None:
                # Aim at a moment when this host's network proxy holds a call of its:
                # the host dies between the network acting and the host hearing of it.
                end = time.monotonic() + 30
                while in_call.in_flight <= 0 and time.monotonic() < end:
                    if self._stop.is_set():
                        break
                    time.sleep(0.005)
                if in_call.in_flight > 0:
                    self.strikes["host_sigkill_in_network_call"] += 1
            process.kill()
            self.strikes[kind] += 1
            time.sleep(down)
            self._restart(process, arm)
        finally:
            process.held = False

    def _restart(self, process: ManagedProcess, arm: str = "") -> None:
        """Start again; an armed agent that dies while starting is counted and started
        again unarmed."""
        failpoints = f"after:{arm}" if arm else ""
        if process.start(failpoints=failpoints):
            return
        if failpoints:
            self.failpoints[arm] += 1
            if process.start():
                return
        raise ChaosError(f"{process.name} exited while starting (log: {process.log})")

    def supervisor(self) -> None:
        """Restart any process that died without the monkey holding it (an armed
        failpoint firing, or a crash nobody asked for)."""
        try:
            while not self._stop.is_set():
                sim = [self.sim] if self.sim is not None else []
                for process in [*self.hosts, *(t.agent for t in self.terminals), *sim]:
                    if process.held or process.alive() or process.proc is None:
                        continue
                    process.up.clear()
                    if process.armed:
                        self.failpoints[process.armed.removeprefix("after:")] += 1
                    else:
                        code = process.proc.returncode
                        self.note(f"{process.name} exited by itself ({code}); restarted")
                    self._restart(process)
                self._stop.wait(0.1)
        except BaseException as exc:
            self.fail(exc)

    # -- phases --------------------------------------------------------------------------

    def drive(self) -> None:
        """Faults on; the cashiers, the monkey and the supervisor run until every sale
        of the run has been driven to its end (or the run broke off)."""
        for switch in [*(t.switch for t in self.terminals), *self.net_switches]:
            switch.enabled = True
        threads = [
            threading.Thread(target=t.cashier.work, name=f"cashier-{t.index}", daemon=True)
            for t in self.terminals
            if t.cashier is not None
        ]
        monkey = threading.Thread(target=self.monkey, name="monkey", daemon=True)
        guard = threading.Thread(target=self.supervisor, name="supervisor", daemon=True)
        for thread in (*threads, monkey, guard):
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if self.progress is not None:
                self.progress(len(self.records), self.config.sales, self.faults_so_far())
            for thread in threads:
                thread.join(0.25)
        self._stop.set()
        monkey.join(120)
        guard.join(120)
        if self.progress is not None:
            self.progress(len(self.records), self.config.sales, self.faults_so_far())
        if self._failure is not None:
            raise ChaosError(f"the run broke off: {self._failure}") from self._failure

    def recover(self) -> None:
        """Faults off; every process up and disarmed; the terminals settle everything."""
        for switch in [*(t.switch for t in self.terminals), *self.net_switches]:
            switch.enabled = False
        if self.pg is not None:
            self.pg.ensure_running()
        sim = [self.sim] if self.sim is not None else []
        for process in [*sim, *self.hosts, *(t.agent for t in self.terminals)]:
            if process.armed or not process.alive():
                # An armed agent would die in the middle of its own recovery: disarm it.
                if process.armed and process.alive():
                    process.kill()
                self._restart(process)
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
            left = sum(_unsettled(t.directory) for t in self.terminals)
            if left == 0:
                break
            time.sleep(0.25)
        if self.sim is not None:
            # The hosts finish their network legs: reverses of sales the terminals
            # reversed, legs of a host that died mid-call (their lease lapses first).
            while time.monotonic() < end and self._open_legs() > 0:
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

    def _open_legs(self) -> int:
        """Network legs not final yet (read while the hosts run)."""
        from sqlalchemy import func, select

        from scanpay.host.db.models import NetworkLeg
        from scanpay.host.services.context import HostContext

        ctx = HostContext.open(self.settings)
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

    def check(self) -> tuple[Facts, list[InvariantResult], dict[str, Any], dict[str, int]]:
        """Read every party, settle the run's days, judge: (facts, results, settlement,
        the host result codes the sales ended with)."""
        journals = [read_journal(t.directory, t.terminal_id) for t in self.terminals]
        days = business_days(self._started_at, datetime.now(UTC), self.settings)
        settled = settle_days(
            self.settings, self.merchant_id, days, out=self.directory / "settlements"
        )
        from scanpay.host.services.context import HostContext

        ctx = HostContext.open(self.settings)
        try:
            host = read_host(ctx, self.merchant_id)
        finally:
            ctx.close()
        chain_problems = [
            f"{j.terminal_id}: journal chain broken at event {j.chain_broken_at}"
            for j in journals
            if j.chain_broken_at is not None
        ]
        if host.audit_problem:
            chain_problems.append(host.audit_problem)
        network = self._network_facts(host.legs) if self.sim is not None else None
        facts = Facts(
            sales=flatten(j.sales for j in journals),
            refunds=flatten(j.refunds for j in journals),
            reversals_waiting=flatten(j.reversals_waiting for j in journals),
            payments=host.payments,
            host_refunds=host.refunds,
            movements=host.movements,
            settled=settled.lines,
            wallets_opened=self.customers_opened,
            wallets_now=host.wallets,
            ledger_entries=host.ledger_entries,
            ledger_problems=host.ledger_problems,
            chains_checked=sum(j.events for j in journals) + host.audit_records,
            chain_problems=chain_problems,
            network=network,
        )
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

    def _network_facts(self, legs: list[Any]) -> NetworkFacts:
        """The network's side: the simulator's books and orders, the statement of each
        Beijing day of the run through the host's adapter (straight, no proxy)."""
        from zoneinfo import ZoneInfo

        from scanpay.networks import registry
        from scanpay.networks.port import Channel, ChannelMode

        assert self.sim is not None
        beijing = ZoneInfo("Asia/Shanghai")
        first = self._started_at.astimezone(beijing).date()
        last = datetime.now(UTC).astimezone(beijing).date()
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        adapter = registry.create(
            "wechat_pay", {"gateway": self.sim.url, "statement_timeout": "60"}
        )
        channel = Channel(
            "wechat_pay",
            ChannelMode.DIRECT,
            self.net_merchant["appid"],
            self.net_merchant["mchid"],
            secrets=self.net_secrets,
        )
        wallet_ids = [w.wallet_id for book in self.net_wallets for w in book]
        with httpx.Client(base_url=self.sim.url, timeout=60.0, trust_env=False) as admin:
            side = read_network(
                admin, adapter, channel, self.net_merchant["mchid"], wallet_ids, days
            )
        sales = frozenset(
            r.out_trade_no
            for r in self.records
            if r.plan.network is not None and r.out_trade_no is not None
        )
        return NetworkFacts(
            network="wechat_pay",
            sales=sales,
            legs=legs,
            orders=side.orders,
            statement=side.statement,
            statement_problems=side.statement_problems,
            wallets_opened=self.net_opened,
            wallets_now=side.wallets,
            merchant_received=side.merchant_balance,
            books_balanced=side.balanced,
            books=side.books,
        )

    def report(
        self,
        facts: Facts,
        results: list[InvariantResult],
        settlement: dict[str, Any],
        codes: dict[str, int],
        wall: float,
    ) -> ChaosReport:
        faults: Counter[str] = Counter({k: 0 for k in FAULT_KINDS})
        requests = 0
        for t in self.terminals:
            for kind, n in t.proxy.stats.items():
                requests += n if kind != "refused" else 0
                if kind == "refused":
                    faults["connection_refused"] += n  # proxy down: counted, not drawn
                elif kind != "none":
                    faults[kind] += n
        faults.update(self.strikes)
        faults["agent_failpoint"] += sum(self.failpoints.values())
        network: dict[str, Any] | None = None
        if facts.network is not None:
            network = self._network_report(facts, faults)
        states = {s.out_trade_no: s.state for s in facts.sales}
        by_code: dict[str, Counter[str]] = {}
        for record in self.records:
            kind = record.code or record.plan.code.value
            # OPEN_INTERRUPTED: the agent died while opening the sale, before the cashier
            # saw its number (a sale it did journal stays NEW until the next one cancels it).
            final = states.get(record.out_trade_no or "", "OPEN_INTERRUPTED")
            by_code.setdefault(kind, Counter())[final] += 1
        refund_states = Counter(r.state for r in facts.refunds)
        return ChaosReport(
            config={
                "sales": self.config.sales,
                "fault_rate": self.config.fault_rate,
                "db": self.config.db,
                "seed": self.config.seed,
                "terminals": self.config.terminals,
                "hosts": self.config.host_count,
                "network_share": self.config.network_share,
                "terminal_settings": TERMINAL_SETTINGS,
            },
            started_at=self._started_at.isoformat(timespec="seconds"),
            wall_seconds=round(wall, 1),
            phases={k: round(v, 1) for k, v in self._phases.items()},
            sales_driven=len(self.records),
            sales_interrupted=sum(r.interrupted for r in self.records),
            outcomes=dict(Counter(s.state for s in facts.sales)),
            by_code={k: dict(v) for k, v in sorted(by_code.items())},
            result_codes=dict(sorted(codes.items())),
            refunds=dict(refund_states),
            faults=dict(faults),
            failpoints=dict(self.failpoints),
            requests=requests,
            invariants=results,
            settlement=settlement,
            harness_notes=list(self.notes[:50]),
            directory=str(self.directory),
            network=network,
        )

    def _network_report(self, facts: Facts, faults: Counter[str]) -> dict[str, Any]:
        """The network's figures; its proxies' faults go into ``faults`` as ``network_*``."""
        assert facts.network is not None
        for kind in NETWORK_FAULT_KINDS:
            faults.setdefault(kind, 0)
        requests = 0
        for proxy in self.net_proxies:
            for kind, n in proxy.stats.items():
                requests += n if kind != "refused" else 0
                if kind == Fault.UPSTREAM_ERROR.value:
                    faults["network_system_error"] += n
                elif kind not in ("none", "refused"):
                    faults[f"network_{kind}"] += n
        states = {s.out_trade_no: s.state for s in facts.sales}
        network_sales = [r for r in self.records if r.plan.network is not None]
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
            "merchant_received": facts.network.merchant_received,
            "books": dict(facts.network.books),
            "settings": dict(NETWORK_SETTINGS),
        }

    def shutdown(self) -> None:
        """Stop whatever still runs (after a failure too): agents, hosts, proxies, PostgreSQL."""
        self._stop.set()
        for t in self.terminals:
            t.agent.kill()
            t.proxy.stop()
        for host in self.hosts:
            host.kill()
        for proxy in self.net_proxies:
            proxy.stop()
        if self.sim is not None:
            self.sim.stop()
        if self.pg is not None:
            self.pg.stop()
            self.pg = None

    def phase(self, name: str, action: Callable[[], Any]) -> Any:
        began = time.monotonic()
        try:
            return action()
        finally:
            self._phases[name] = time.monotonic() - began


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


def _unsettled(directory: Path) -> int:
    """Sales not settled, reversals not acknowledged and refunds without an answer, read
    from the journal while the agent runs (a separate read-only connection)."""
    finals = sorted(FINAL_STATES)
    con = sqlite3.connect(f"file:{directory / 'journal.db'}?mode=ro", uri=True, timeout=10)
    try:
        marks = ", ".join("?" for _ in finals)
        sales = con.execute(f"SELECT COUNT(*) FROM sales WHERE state NOT IN ({marks})", finals)
        n = int(sales.fetchone()[0])
        n += int(con.execute("SELECT COUNT(*) FROM reversals WHERE acked_at IS NULL").fetchone()[0])
        pending = con.execute("SELECT COUNT(*) FROM refunds WHERE state IN ('PENDING', 'UNKNOWN')")
        return n + int(pending.fetchone()[0])
    finally:
        con.close()


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
        report = run.report(facts, results, settlement, codes, time.monotonic() - began)
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


def _confirm_pin(url: str, body: dict[str, Any]) -> httpx.Response:
    """The customer's wallet page: log in with the PIN, then confirm from that session
    (the host answers a confirmation only to the account's own session)."""
    with httpx.Client(base_url=url, timeout=5) as http:
        login = http.post(
            "/wallet/v1/session", json={"account": body["account"], "pin": body["pin"]}
        )
        if login.status_code != 200:
            return login
        csrf = {"X-Wallet-CSRF": login.json()["csrf"]}
        return http.post("/wallet/v1/confirm", json=body, headers=csrf)
