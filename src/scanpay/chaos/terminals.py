"""The run's terminals: each activated against the host through its own fault proxy.

A terminal is a ``python -m scanpay.terminal`` agent process with its own journal
folder, a cashier and a supervisor (the demo operators), knowing the host only
through a :class:`~scanpay.chaos.FaultProxy` whose faults a
:class:`~scanpay.chaos.faults.Switch` turns on while the sales are driven.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scanpay.chaos.cashier import Cashier
from scanpay.chaos.config import DELAY_PAST_TIMEOUT, TERMINAL_SETTINGS, ChaosConfig
from scanpay.chaos.facts import FINAL_STATES
from scanpay.chaos.faults import Switch
from scanpay.chaos.processes import ManagedProcess, agent_command
from scanpay.chaos.proxy import FaultProxy, RandomFaults

if TYPE_CHECKING:
    from scanpay.host.services.terminals import IssuedCode

__all__ = ["Terminal", "open_terminal", "unsettled"]


@dataclass
class Terminal:
    """One terminal of the run: its folder, its proxy to the host, its agent, its cashier."""

    index: int
    terminal_id: str
    directory: Path
    proxy: FaultProxy
    switch: Switch
    agent: ManagedProcess
    cashier: Cashier | None = None


def open_terminal(
    config: ChaosConfig,
    index: int,
    issued: IssuedCode,
    host: ManagedProcess,
    run_directory: Path,
    env: dict[str, str],
) -> Terminal:
    """Terminal ``index`` activated with ``issued`` against ``host`` through a fault proxy
    of its own, with its operators; its agent made (not started) with ``env``."""
    from scanpay.stack import add_demo_operators, free_port
    from scanpay.terminal.agent import activate_terminal

    switch = Switch(
        RandomFaults(config.fault_rate, seed=config.seed * 7919 + index, only_paths=("/v1/",))
    )
    proxy = FaultProxy(
        "127.0.0.1",
        host.port,
        plan=switch,
        delay_seconds=TERMINAL_SETTINGS["request_timeout"] + DELAY_PAST_TIMEOUT,
    ).start()
    directory = run_directory / f"terminal{index}"
    printer = {"kind": "file", "path": str(run_directory / f"printer{index}.bin")}
    # The terminal knows the host only through its proxy.
    activate_terminal(
        proxy.url,
        issued.activation_code,
        directory=directory,
        settings={**TERMINAL_SETTINGS, "printer": printer},
    )
    add_demo_operators(directory)
    port = free_port()
    agent = ManagedProcess(
        f"agent{index}",
        agent_command(port, directory),
        port=port,
        env=env,
        log=run_directory / f"agent{index}.log",
    )
    return Terminal(index, issued.terminal_id, directory, proxy, switch, agent)


def unsettled(directory: Path) -> int:
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
