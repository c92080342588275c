"""The run's faults at process level, and the switch on the proxies' fault plans.

The proxies' own faults are drawn request by request (:class:`~scanpay.chaos.RandomFaults`
behind a :class:`Switch`, so that setup and recovery run fault-free). The blows to
processes follow a seeded schedule (:func:`schedule`): SIGKILLs of host and agent
processes at random moments (a killed agent is sometimes restarted with a failpoint
armed, so that it dies again right after journaling a given state), crash-restarts of
PostgreSQL, and - with a network - host kills aimed at a moment when that host has a
network call in flight. :func:`monkey` carries the schedule out while the cashiers
work; :func:`supervise` restarts whatever died without the monkey holding it.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from scanpay.chaos.config import ChaosConfig, ChaosError
from scanpay.chaos.processes import ManagedProcess
from scanpay.chaos.proxy import Fault, FaultPlan, FaultProxy, RequestInfo

if TYPE_CHECKING:
    from scanpay.chaos.harness import ChaosRun

__all__ = ["FAULT_KINDS", "Strike", "Switch", "monkey", "restart", "schedule", "supervise"]

log = logging.getLogger("scanpay.chaos")

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


class Switch:
    """A fault plan that can be turned off (setup and recovery run fault-free)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.enabled = False

    def __call__(self, info: RequestInfo) -> Fault:
        return self.plan(info) if self.enabled else Fault.NONE


@dataclass(frozen=True, slots=True)
class Strike:
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


def schedule(config: ChaosConfig) -> list[Strike]:
    """The run's blows, by the number of sales started when each falls: host and agent
    SIGKILLs and PostgreSQL restarts at seeded random points; every other agent kill
    restarts the agent with the next failpoint of :data:`_FAILPOINT_STATES` armed;
    with a network, every other host kill waits for a network call in flight."""
    rng = random.Random(f"{config.seed}/monkey")
    hosts, agents, restarts = config.strikes()
    low, high = max(1, int(config.sales * 0.03)), max(2, int(config.sales * 0.95))
    strikes: list[Strike] = []
    for n in range(hosts):
        target = rng.randrange(config.host_count)
        at, down = rng.randint(low, high), rng.uniform(0, 1.5)
        in_call = config.network_share > 0 and n % 2 == 0
        strikes.append(Strike(at, "host", target, down=down, in_call=in_call))
    for n in range(agents):
        arm = _FAILPOINT_STATES[(n // 2) % len(_FAILPOINT_STATES)] if n % 2 == 0 else ""
        strikes.append(
            Strike(rng.randint(low, high), "agent", rng.randrange(config.terminals), arm=arm)
        )
    for _ in range(restarts):
        strikes.append(Strike(rng.randint(low, high), "postgres", 0))
    return sorted(strikes, key=lambda s: s.at)


def monkey(run: ChaosRun) -> None:
    """Carry out the kill schedule at random moments within the sales it names."""
    rng = random.Random(f"{run.config.seed}/moments")
    try:
        for strike in schedule(run.config):
            while run.claimed < strike.at and not run.stopping.is_set():
                time.sleep(0.05)
            if run.stopping.is_set():
                return
            time.sleep(rng.uniform(0.0, 0.8))
            if strike.kind == "postgres" and run.pg is not None:
                away = run.pg.restart()
                run.strikes["postgres_restart"] += 1
                log.info("postgres restarted (%.2f s)", away)
            elif strike.kind == "host":
                host = run.hosts[strike.target]
                in_call = None
                if strike.in_call and run.net_proxies:
                    in_call = run.host_net_proxies(strike.target)
                _strike(run, host, "host_sigkill", "", strike.down, in_call)
            elif strike.kind == "agent":
                agent = run.terminals[strike.target].agent
                _strike(run, agent, "agent_sigkill", strike.arm, 0.0)
    except BaseException as exc:
        run.fail(exc)


def _in_flight(proxies: list[FaultProxy]) -> bool:
    return any(proxy.in_flight > 0 for proxy in proxies)


def _strike(
    run: ChaosRun,
    process: ManagedProcess,
    kind: str,
    arm: str,
    down: float,
    in_call: list[FaultProxy] | None = None,
) -> None:
    process.up.wait(60)
    process.held = True
    try:
        if in_call:
            # Aim at a moment when one of this host's network proxies holds a call of
            # its: the host dies between the network acting and the host hearing of it.
            end = time.monotonic() + 30
            while not _in_flight(in_call) and time.monotonic() < end:
                if run.stopping.is_set():
                    break
                time.sleep(0.005)
            if _in_flight(in_call):
                run.strikes["host_sigkill_in_network_call"] += 1
        process.kill()
        run.strikes[kind] += 1
        time.sleep(down)
        restart(process, run.failpoints, arm)
    finally:
        process.held = False


def restart(process: ManagedProcess, failpoints: Counter[str], arm: str = "") -> None:
    """Start again; an armed agent that dies while starting is counted in ``failpoints``
    and started again unarmed."""
    armed = f"after:{arm}" if arm else ""
    if process.start(failpoints=armed):
        return
    if armed:
        failpoints[arm] += 1
        if process.start():
            return
    raise ChaosError(f"{process.name} exited while starting (log: {process.log})")


def supervise(run: ChaosRun) -> None:
    """Restart any process that died without the monkey holding it (an armed
    failpoint firing, or a crash nobody asked for)."""
    try:
        while not run.stopping.is_set():
            sim = [network.sim for network in run.networks]
            for process in [*run.hosts, *(t.agent for t in run.terminals), *sim]:
                if process.held or process.alive() or process.proc is None:
                    continue
                process.up.clear()
                if process.armed:
                    run.failpoints[process.armed.removeprefix("after:")] += 1
                else:
                    code = process.proc.returncode
                    run.note(f"{process.name} exited by itself ({code}); restarted")
                restart(process, run.failpoints)
            run.stopping.wait(0.1)
    except BaseException as exc:
        run.fail(exc)
