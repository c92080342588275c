"""The host, one terminal agent and the networks' simulators on loopback ports."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scanpay.stack.alipay import ALIPAY
from scanpay.stack.channels import ChannelOutcome, connect_demo_channel
from scanpay.stack.demo import (
    DEMO_FILE,
    DEMO_OPERATORS,
    DEMO_PORTAL_USERS,
    DemoData,
    add_demo_operators,
    add_portal_users,
    seed_host,
)
from scanpay.stack.loopback import (
    LoopbackServer,
    StackError,
    TlsPair,
    check_port,
    free_port,
    make_tls_pair,
)
from scanpay.stack.sims import RunningSim, Simulator, network_env
from scanpay.stack.terminal import activate_demo_terminal, point_terminal_at
from scanpay.stack.unionpay import UNIONPAY
from scanpay.stack.wechat import WECHAT, WeChatDemo

__all__ = ["SIMULATORS", "SIM_PORTS", "Stack"]

SIMULATORS: tuple[Simulator, ...] = (WECHAT, ALIPAY, UNIONPAY)
"""The simulators ``scanpay run`` starts, in the order it lists them."""

SIM_PORTS: Mapping[str, int] = {sim.name: sim.port for sim in SIMULATORS}
"""Each simulator's default port, by name."""


class Stack:
    """The host, one terminal agent and the networks' simulators on loopback ports,
    over ``data_dir``.

    ``start()`` serves each simulator of ``sims`` (name to port, 0: any free one; by
    default all of :data:`SIMULATORS` on their own ports), each on its folder
    ``data_dir/sim-NAME`` with its demo merchant and customer made on its first start;
    then the host (SQLite ``data_dir/host.db`` unless ``SCANPAY_DATABASE_URL`` says
    otherwise) with each simulator's network pointed at it; creates the demo data and
    activates the terminal on the first start; gives the demo merchant a channel to
    each simulator's demo merchant (on every start: see
    :func:`~scanpay.stack.channels.connect_demo_channel`); then serves the agent.
    ``stop()`` stops the agent first (its shutdown runs), then the host, then the
    simulators.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        host_port: int = 8600,
        agent_port: int = 8700,
        sims: Mapping[str, int] | None = None,
        environ: dict[str, str] | None = None,
        terminal_settings: dict[str, Any] | None = None,
        tls: bool = False,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.tls = tls
        """Serve the host over HTTPS (a self-signed pair in ``data_dir/tls``) and have
        the terminal verify it with that certificate, pinned."""
        self.tls_pair: TlsPair | None = None
        self.host_port = host_port
        self.agent_port = agent_port
        chosen = dict(SIM_PORTS if sims is None else sims)
        unknown = sorted(set(chosen) - set(SIM_PORTS))
        if unknown:
            raise StackError(f"no simulator named {', '.join(unknown)}")
        self.sim_ports = {s.name: chosen[s.name] for s in SIMULATORS if s.name in chosen}
        """The simulators to run and their ports; a network without one is left as the
        environment configures the host's adapter."""
        self.environ = dict(os.environ if environ is None else environ)
        self.terminal_settings = terminal_settings or {}
        self.host: LoopbackServer | None = None
        self.agent_server: LoopbackServer | None = None
        self.agent: Any = None
        self.sims: dict[str, RunningSim] = {}
        """The running simulators by name, in :data:`SIMULATORS`' order."""
        self._host_url: str | None = None
        self.demo: DemoData | None = None
        self.created = False
        """True when this start created the demo data (the first start)."""

    @property
    def terminal_dir(self) -> Path:
        return self.data_dir / "terminal"

    @property
    def host_url(self) -> str:
        assert self.host is not None
        return self.host.url

    @property
    def agent_url(self) -> str:
        assert self.agent_server is not None
        return self.agent_server.url

    @property
    def portal_url(self) -> str:
        """The merchant portal's address."""
        return f"{self.host_url}/portal/"

    def sim_dir(self, name: str) -> Path:
        """Simulator ``name``'s data folder."""
        return self.data_dir / f"sim-{name}"

    # The WeChat Pay simulator as the stack's callers knew it before Alipay joined.

    @property
    def sim(self) -> LoopbackServer | None:
        """The WeChat Pay simulator's server (None when it is not running)."""
        running = self.sims.get(WECHAT.name)
        return running.server if running else None

    @property
    def sim_url(self) -> str:
        """The WeChat Pay simulator's address (its pages under ``/sim/``)."""
        return self.sims[WECHAT.name].url

    @property
    def wechat(self) -> WeChatDemo | None:
        """The WeChat Pay simulator's demo merchant and wallet (None without the
        simulator, or when its data folder holds merchants but no demo)."""
        running = self.sims.get(WECHAT.name)
        demo = running.demo if running else None
        if running is None or demo is None:
            return None
        appid = running.simulator.channel(running.served).app_id
        return WeChatDemo(
            demo.merchant_id, appid, demo.wallet_id, demo.wallet_name, demo.password_above
        )

    @property
    def wechat_channel(self) -> ChannelOutcome | None:
        running = self.sims.get(WECHAT.name)
        return running.channel if running else None

    def wechat_balance(self) -> int | None:
        """The WeChat Pay simulator's demo wallet's balance now (fen)."""
        running = self.sims.get(WECHAT.name)
        return running.balance() if running else None

    def host_settings(self) -> Any:
        from scanpay.host.settings import HostSettings

        env = {**self.environ, "SCANPAY_DATA_DIR": str(self.data_dir)}
        # A simulator calls the host back over plain HTTP only: it would not trust the
        # stack's self-signed certificate (the host's own queries settle a sale anyway).
        callback = None if self.tls else self._host_url
        for running in self.sims.values():
            # The stack's simulator, whatever the environment says: the demo channel's
            # keys are its merchant's, and nothing may leave loopback.
            simulator = running.simulator
            env.update(network_env(simulator.network, simulator.options(running.url, callback)))
        return HostSettings.from_env(env)

    def start(self) -> Stack:
        """Start everything; on failure whatever was started is stopped again."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from scanpay.host.api.app import create_app as create_host
        from scanpay.host.db.engine import private_folder

        # The host's database and keys and the terminal's journal and key live here: 0700.
        private_folder(self.data_dir)
        # Every port is checked before anything starts, so a second `scanpay run`
        # says so at once and leaves the first one alone.
        for port in (self.host_port, self.agent_port, *self.sim_ports.values()):
            if port:
                check_port(port)
        demo_file = self.data_dir / DEMO_FILE
        if not demo_file.exists() and (self.terminal_dir / "terminal.json").exists():
            raise StackError(
                f"{self.data_dir} holds a terminal but no {DEMO_FILE}: "
                "it was not made by `scanpay run`; use another --data directory"
            )
        for simulator in SIMULATORS:
            if simulator.name in self.sim_ports:
                self._start_sim(simulator, self.sim_ports[simulator.name])
        if self.tls:
            self.tls_pair = self._tls_pair()
        # The host's URL is in its settings (where simulators call it back): its port first.
        host_port = self.host_port or free_port()
        self._host_url = f"{'https' if self.tls else 'http'}://127.0.0.1:{host_port}"
        settings = self.host_settings()
        self.host = LoopbackServer(create_host(settings), host_port, tls=self.tls_pair).start()
        if demo_file.exists():
            self.demo = DemoData.load(demo_file)
        else:
            self.demo = self._create_demo(settings)
            self.demo.save(demo_file)
            self.created = True
        # On every start: data made before a simulator joined the stack gets its channel
        # too, and a simulator made anew (its folder deleted) its new keys.
        self._connect_channels(settings, self.demo.merchant_id)
        point_terminal_at(self.terminal_dir, self.host_url)
        from scanpay.terminal.agent import Agent
        from scanpay.terminal.api import create_app as create_agent

        self.agent = Agent(self.terminal_dir)
        self.agent_server = LoopbackServer(create_agent(self.agent), self.agent_port).start()

    def _start_sim(self, simulator: Simulator, port: int) -> None:
        """Serve ``simulator`` on ``port`` (its demo made on its first start)."""
        served = simulator.serve(self.sim_dir(simulator.name))
        server = LoopbackServer(served.app, port).start()
        self.sims[simulator.name] = RunningSim(simulator, served, server)

    def _tls_pair(self) -> TlsPair:
        tls_dir = self.data_dir / "tls"
        cert, key = tls_dir / "host.crt", tls_dir / "host.key"
        if cert.exists() and key.exists():
            from scanpay.terminal.tls import pem_fingerprint

            return TlsPair(cert, key, pem_fingerprint(cert))
        return make_tls_pair(tls_dir)

    def _create_demo(self, settings: Any) -> DemoData:
        """The first start's demo data at the host and the terminal."""
        from scanpay.host.db.migrate import upgrade
        from scanpay.host.services.context import HostContext

        ctx = HostContext.open(settings)
        try:
            upgrade(ctx.db)
            seeded = seed_host(ctx)
            add_portal_users(ctx, seeded.merchant_id)
        finally:
            ctx.close()
        activate_demo_terminal(
            self.host_url,
            seeded.activation_code,
            self.data_dir,
            self.terminal_dir,
            settings=self.terminal_settings,
            tls=self.tls_pair,
        )
        add_demo_operators(self.terminal_dir)
        return DemoData(
            seeded.merchant_id,
            seeded.merchant_name,
            seeded.terminal_id,
            list(DEMO_OPERATORS),
            seeded.wallets,
            list(DEMO_PORTAL_USERS),
        )

    def _connect_channels(self, settings: Any, merchant_id: str) -> None:
        from scanpay.host.services.context import HostContext

        with_demo = [r for r in self.sims.values() if r.demo is not None]
        if not with_demo:
            return
        ctx = HostContext.open(settings)
        try:
            for running in with_demo:
                channel = running.simulator.channel(running.served)
                running.channel = connect_demo_channel(ctx, merchant_id, channel)
        finally:
            ctx.close()

    def balances(self) -> dict[str, int]:
        """The demo wallets' balances now (minor units), read from the host's database."""
        from scanpay.host.errors import HostError
        from scanpay.host.services import wallets
        from scanpay.host.services.context import HostContext

        found: dict[str, int] = {}
        if self.demo is None:
            return found
        ctx = HostContext.open(self.host_settings())
        try:
            for w in self.demo.wallets:
                try:
                    found[w.account] = wallets.wallet_info(ctx, w.account).balance
                except HostError:
                    continue
        finally:
            ctx.close()
        return found

    def stop(self) -> None:
        """Stop the agent (its workers finish), then the host, then the simulators. Safe
        to call twice."""
        if self.agent is not None:
            # First: long-polls and event streams return at once, so the server can stop.
            self.agent.stop()
        if self.agent_server is not None:
            self.agent_server.stop()
            self.agent_server = None
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.host is not None:
            self.host.stop()
            self.host = None
        # Last: the host's leg sweeper may be calling them until the host has stopped.
        for running in self.sims.values():
            running.server.stop()
        self.sims.clear()
