"""Kit for tests whose payments the host routes to WeChat Pay: the host's database on
either backend, and a merchant of the host with a direct channel to its own merchant at
the WeChat Pay simulator.

The host's network tests (``host/integration/test_network_payments.py``: the simulator
on a clock the test moves, :mod:`sim.kit`) and the terminal's network sales
(:mod:`terminal.network_kit`: the simulator on the system clock) set their shops up
here, so a channel is made one way, with the simulator's own keys, whichever simulator
it points at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from host.kit import (
    RunningHost,
    make_merchant,
    migrate,
    postgres_available,
    postgres_database,
    remember,
    serve_in_thread,
)
from networks.wechat.kit import v3_secrets
from scanpay.host.clock import ManualClock
from scanpay.host.services import channels, leg_sweeper
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from sim.kit import Merchant as SimMerchant
from sim.kit import RunningSim, running_sim
from support import require

__all__ = ["SimAdmin", "Stack", "host_database", "sim_and_host", "wechat_merchant"]


class SimAdmin(Protocol):
    """A running WeChat Pay simulator, as far as this kit needs it: its admin API."""

    def admin(self, method: str, path: str, **kwargs: Any) -> Any: ...


@contextmanager
def host_database(folder: Path, backend: str) -> Iterator[str]:
    """The URL of a migrated host database on ``backend``: a SQLite file in ``folder``,
    or a fresh PostgreSQL database, dropped at the end (``postgresql`` skips, or fails in
    CI, without a PostgreSQL server)."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'host.db'}"
        migrate(url)
        yield url
        return
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_database() as url:
        migrate(url)
        yield url


def wechat_merchant(ctx: HostContext, sim: SimAdmin) -> tuple[str, SimMerchant]:
    """A new approved merchant of the host whose WeChat Pay channel is direct to a new
    merchant at ``sim`` (API v3, replies signed in public-key mode): the host's merchant
    id, and the simulator's merchant. Its keys join the secrets the log scan looks for."""
    merchant_id = make_merchant(ctx)
    wechat = SimMerchant(
        sim.admin("POST", "/sim/merchants", json={"kind": "direct", "mode": "public_key"})
    )
    secrets = {"api": "v3", **v3_secrets(wechat, "public_key")}
    remember(secrets["private_key"], secrets["api_v3_key"])
    channels.add_channel(
        ctx,
        merchant_id,
        network="wechat_pay",
        mode="direct",
        app_id=wechat.appid,
        mch_id=wechat.mchid,
        secrets=secrets,
    )
    return merchant_id, wechat


@dataclass
class Stack:
    """The simulator and a host whose WeChat Pay adapter points at it, on clocks the
    test moves together."""

    sim: RunningSim
    host: RunningHost

    @property
    def ctx(self) -> HostContext:
        return self.host.ctx

    def advance(self, seconds: float) -> None:
        """Move both clocks: the customer's password delay runs on the network's."""
        self.host.clock.advance(seconds)
        self.sim.clock.advance(seconds)

    def set(self, when: datetime) -> None:
        """Both clocks at ``when`` (time only moves forward)."""
        assert when >= self.host.clock.now()
        self.host.clock.set(when)
        self.sim.clock.set(when)

    def sweep(self) -> int:
        return leg_sweeper.run_due(self.ctx)


@contextmanager
def sim_and_host(folder: Path, backend: str, start: datetime | None = None) -> Iterator[Stack]:
    """The WeChat Pay simulator and a host on ``backend`` served on loopback, both clocks
    at ``start`` (default: now). No background sweepers: each test drives the legs
    itself, so nothing races it. The simulator's books must balance at the end."""
    with ExitStack() as stack:
        url = stack.enter_context(host_database(folder, backend))
        sim = stack.enter_context(running_sim(folder))
        when = start or datetime.now(UTC).replace(microsecond=0)
        if start is not None:
            sim.clock.set(start)
        settings = HostSettings(
            database_url=url,
            min_terminal_version="1.0.0",
            data_dir=str(folder),
            # Patient calls on a busy machine; the lost-reply test waits this long once.
            networks={"wechat_pay": {"gateway": sim.url, "pay_timeout": "8"}},
        )
        host = stack.enter_context(
            serve_in_thread(settings, ManualClock(when), backend, sweep=False)
        )
        yield Stack(sim, host)
        sim.books_balance()
