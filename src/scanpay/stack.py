"""The whole system on one machine: the host, a terminal agent and demo data.

``scanpay run`` (:class:`Stack`) and ``scanpay demo`` (:mod:`scanpay.terminal.demo`)
share these parts:

- :class:`LoopbackServer` serves an ASGI app with uvicorn on a loopback port,
  in a thread, and stops it cleanly;
- :func:`seed_host` gives a host what a demonstration needs - an approved
  merchant, a terminal waiting for activation, wallet accounts - through the
  host's own services (every step audited like any other);
- :func:`add_demo_operators` gives a terminal its cashier and supervisor;
- :func:`connect_wechat_demo` gives the demo merchant a direct WeChat Pay channel to
  the WeChat Pay simulator's demo merchant.

:class:`Stack` starts everything on a data directory (SQLite ``host.db``, the
terminal's ``terminal/`` and the WeChat Pay simulator's ``sim-wechat/``): the first
start creates the demo data and activates the terminal over HTTP, and writes what a
person needs to log in to ``demo.json``; later starts reuse all of it. The host's
WeChat Pay adapter is pointed at the simulator, so a WeChat Pay code the simulator
issues pays through the whole chain.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEMO_FILE",
    "DEMO_OPERATORS",
    "DEMO_PORTAL_USERS",
    "DEMO_WALLETS",
    "SIM_DIR",
    "DemoData",
    "DemoOperator",
    "DemoPortalUser",
    "DemoWallet",
    "LoopbackServer",
    "SeededHost",
    "Stack",
    "StackError",
    "TlsPair",
    "WeChatDemo",
    "add_demo_operators",
    "add_portal_users",
    "connect_wechat_demo",
    "free_port",
    "make_tls_pair",
    "seed_host",
]

DEMO_FILE = "demo.json"
"""Written beside ``host.db`` on the first start: the demo's ids, accounts and PINs."""

SIM_DIR = "sim-wechat"
"""The WeChat Pay simulator's data folder in the stack's data directory."""


class StackError(Exception):
    """Something the stack needs is missing or taken (a port, a data directory)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_port(port: int) -> None:
    with socket.socket() as s:
        # As uvicorn binds: connections of a previous run lingering in TIME_WAIT
        # do not make the port busy; a listening server does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StackError(f"port {port} on 127.0.0.1 is in use") from None
            raise


@dataclass(frozen=True, slots=True)
class TlsPair:
    """A host certificate and its key (PEM files) and the certificate's SHA-256."""

    certfile: Path
    keyfile: Path
    fingerprint_sha256: str


def make_tls_pair(folder: Path) -> TlsPair:
    """A self-signed pair for 127.0.0.1 and localhost in ``folder``, made as
    ``scanpay host certs`` makes it (with the openssl tool)."""
    import typer

    from scanpay.cli.host.server import make_certs

    try:
        made = make_certs(folder, ["localhost", "127.0.0.1"], 30)
    except typer.Exit:
        raise StackError("the openssl command is needed to make a certificate") from None
    return TlsPair(Path(made["certfile"]), Path(made["keyfile"]), made["fingerprint_sha256"])


class LoopbackServer:
    """An ASGI app served by uvicorn on 127.0.0.1, in a thread.

    ``port`` 0 picks a free port. :meth:`stop` lets uvicorn finish its
    requests and run the app's shutdown (the agent stops its workers there).
    With ``tls`` it speaks HTTPS only.
    """

    def __init__(
        self, app: Any, port: int = 0, *, log_level: str = "error", tls: TlsPair | None = None
    ) -> None:
        import uvicorn

        if port:
            _check_port(port)
        self.port = port or free_port()
        self.tls = tls
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level=log_level,
            lifespan="on",
            ssl_certfile=str(tls.certfile) if tls else None,
            ssl_keyfile=str(tls.keyfile) if tls else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"http-{port}")

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LoopbackServer:
        """Serve, and return once the app has started (its startup ran)."""
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                raise StackError(f"the server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)


# ------------------------------------------------------------------ demo data


@dataclass(frozen=True, slots=True)
class DemoOperator:
    operator_id: str
    name: str
    role: Literal["cashier", "supervisor"]
    pin: str


@dataclass(frozen=True, slots=True)
class DemoPortalUser:
    """A merchant-portal login of the demo (``role`` "operator" is acquirer staff)."""

    email: str
    password: str
    role: str


DEMO_PORTAL_USERS = (
    DemoPortalUser("owner@demo.example", "demo-owner-2026", "owner"),
    DemoPortalUser("ops@demo.example", "demo-operator-2026", "operator"),
)


@dataclass(frozen=True, slots=True)
class DemoWallet:
    """A wallet account of the demo; ``account`` is filled in once it is opened."""

    name: str
    pin: str
    balance: int
    pin_above: int | None = None
    """Payments above this wait for the PIN (None: the host's default, 1000.00)."""
    account: str = ""


DEMO_OPERATORS = (
    DemoOperator("c01", "Ann", "cashier", "1234"),
    DemoOperator("s01", "Sam", "supervisor", "987654"),
)

DEMO_WALLETS = (
    DemoWallet("Alice", "123456", 50_000),
    DemoWallet("Bob", "654321", 200_000, pin_above=10_000),
)
"""Alice: 500.00, never asked for her PIN below 1000.00; Bob: 2000.00, whose
payments above 100.00 wait for his PIN on the wallet page."""


@dataclass
class SeededHost:
    """What :func:`seed_host` made."""

    merchant_id: str
    merchant_name: str
    terminal_id: str
    activation_code: str
    wallets: list[DemoWallet]


def seed_host(
    ctx: Any,
    *,
    merchant_name: str = "Demo Coffee",
    wallets: tuple[DemoWallet, ...] = DEMO_WALLETS,
    currency: str = "CNY",
) -> SeededHost:
    """An approved merchant, a terminal with its activation code, and ``wallets``
    opened with their balances - through the host's services (``ctx``: a
    :class:`scanpay.host.services.context.HostContext`)."""
    from dataclasses import replace

    from scanpay.host.services import merchants, terminals
    from scanpay.host.services import wallets as wallet_service

    merchant = merchants.add_merchant(
        ctx,
        name=merchant_name,
        city="Shanghai",
        mcc="5814",
        license="91350100M000100Y43",
        fee_rate="0.0038",
        currency=currency,
        payee=None,
    )
    merchants.set_status(ctx, merchant.merchant_id, "approve")
    issued = terminals.add_terminal(ctx, merchant.merchant_id)
    opened = []
    for spec in wallets:
        account = wallet_service.open_account(
            ctx,
            name=spec.name,
            currency=currency,
            balance=spec.balance,
            pin=spec.pin,
            pin_above=spec.pin_above,
            training=False,
        )
        opened.append(replace(spec, account=account.info.account))
    return SeededHost(
        merchant.merchant_id, merchant_name, issued.terminal_id, issued.activation_code, opened
    )


def add_portal_users(
    ctx: Any, merchant_id: str, users: tuple[DemoPortalUser, ...] = DEMO_PORTAL_USERS
) -> None:
    """The demo's merchant-portal logins: the merchant's owner and an acquirer operator."""
    from scanpay.host.portal.accounts import add_user

    for user in users:
        add_user(
            ctx,
            email=user.email,
            password=user.password,
            role=user.role,
            merchant_id=None if user.role == "operator" else merchant_id,
        )


def add_demo_operators(
    directory: Path, operators: tuple[DemoOperator, ...] = DEMO_OPERATORS
) -> None:
    """Add the demo's cashier and supervisor to an activated terminal's journal."""
    from scanpay.terminal.journal import JOURNAL_FILE, Journal
    from scanpay.terminal.operators import Operators

    journal = Journal(directory / JOURNAL_FILE)
    try:
        ops = Operators(journal)
        known = {op.operator_id for op in ops.all()}
        for op in operators:
            if op.operator_id not in known:
                ops.add(op.operator_id, op.name, op.role, op.pin)
    finally:
        journal.close()


@dataclass(frozen=True, slots=True)
class WeChatDemo:
    """The WeChat Pay simulator's demo as the stack uses it: its merchant (whose keys
    stay in the simulator's ``demo.json``, never here) and its customer's wallet."""

    mchid: str
    appid: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def _wechat_secrets(demo: dict[str, Any]) -> dict[str, str]:
    """The channel secrets of the simulator's demo merchant (its ``demo.json``): API v3,
    replies verified with the WeChat Pay public key (the simulator's default mode)."""
    platform = demo["platform"]
    return {
        "api": "v3",
        "private_key": demo["client_private_key"],
        "cert_serial": demo["client_serial"],
        "api_v3_key": demo["api_v3_key"],
        "wechatpay_public_key": platform["public_key"],
        "wechatpay_public_key_id": platform["public_key_id"],
    }


def connect_wechat_demo(ctx: Any, merchant_id: str, sim_demo_file: Path) -> str:
    """Give ``merchant_id`` a direct WeChat Pay channel to the simulator's demo merchant,
    whose ids and keys are in ``sim_demo_file`` (the simulator's ``demo.json``).

    Idempotent: a channel that already pays with these ids and keys is left as it is
    (nothing audited); one with other ids or keys (the simulator's data was made anew)
    gets these; a service-provider channel, which an operator set up on purpose, is
    left alone. Returns what was done: ``"added"``, ``"updated"``, ``"kept"`` or
    ``"left"``. Nothing here prints or logs a key."""
    from scanpay.host.errors import HostError
    from scanpay.host.services import channels
    from scanpay.networks.port import ChannelMode

    demo = json.loads(sim_demo_file.read_text(encoding="utf-8"))
    secrets = _wechat_secrets(demo)
    app_id, mch_id = str(demo["appid"]), str(demo["mchid"])
    try:
        current = channels.get_channel(ctx, merchant_id, "wechat_pay")
    except HostError:
        channels.add_channel(
            ctx,
            merchant_id,
            network="wechat_pay",
            mode="direct",
            app_id=app_id,
            mch_id=mch_id,
            secrets=secrets,
        )
        return "added"
    if current.mode is not ChannelMode.DIRECT:
        return "left"
    wanted = {name: channels.fingerprint(value) for name, value in secrets.items()}
    if (current.app_id, current.mch_id, dict(current.secrets)) == (app_id, mch_id, wanted):
        return "kept"
    channels.update_channel(
        ctx,
        merchant_id,
        "wechat_pay",
        app_id=app_id,
        mch_id=mch_id,
        secrets=secrets,
        # Secrets of another set-up (a v2 key, a platform certificate) would not match
        # the simulator's merchant: the channel pays with these alone.
        drop=[name for name in current.secrets if name not in secrets],
    )
    return "updated"


@dataclass
class DemoData:
    """The demo's facts, kept in ``demo.json`` so that a second start can print them."""

    merchant_id: str
    merchant_name: str
    terminal_id: str
    operators: list[DemoOperator] = field(default_factory=list)
    wallets: list[DemoWallet] = field(default_factory=list)
    portal_users: list[DemoPortalUser] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoData:
        return cls(
            merchant_id=data["merchant_id"],
            merchant_name=data["merchant_name"],
            terminal_id=data["terminal_id"],
            operators=[DemoOperator(**op) for op in data.get("operators", [])],
            wallets=[DemoWallet(**w) for w in data.get("wallets", [])],
            portal_users=[DemoPortalUser(**u) for u in data.get("portal_users", [])],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> DemoData:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ the stack


class Stack:
    """The host, one terminal agent and the WeChat Pay simulator on loopback ports,
    over ``data_dir``.

    ``start()`` serves the WeChat Pay simulator (``data_dir/sim-wechat``, its demo
    merchant and wallet made on its first start) unless ``sim_port`` is None, then the
    host (SQLite ``data_dir/host.db`` unless ``SCANPAY_DATABASE_URL`` says otherwise)
    with its WeChat Pay adapter pointed at the simulator, creates the demo data and
    activates the terminal on the first start, gives the demo merchant its WeChat Pay
    channel to the simulator's demo merchant (on every start: see
    :func:`connect_wechat_demo`), then serves the agent; ``stop()`` stops the agent
    first (its shutdown runs), then the host, then the simulator.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        host_port: int = 8600,
        agent_port: int = 8700,
        sim_port: int | None = 8610,
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
        self.sim_port = sim_port
        """The WeChat Pay simulator's port (0: any free one); None: no simulator, and
        the host's WeChat Pay adapter left as the environment configures it."""
        self.environ = dict(os.environ if environ is None else environ)
        self.terminal_settings = terminal_settings or {}
        self.host: LoopbackServer | None = None
        self.agent_server: LoopbackServer | None = None
        self.agent: Any = None
        self.sim: LoopbackServer | None = None
        self.wechat: WeChatDemo | None = None
        """The simulator's demo merchant and wallet (None without a simulator, or when
        its data folder holds merchants but no demo)."""
        self._sim_state: Any = None
        self.wechat_channel: str | None = None
        """What this start did to the demo merchant's WeChat Pay channel
        (:func:`connect_wechat_demo`'s answer)."""
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
    def sim_dir(self) -> Path:
        return self.data_dir / SIM_DIR

    @property
    def sim_url(self) -> str:
        """The WeChat Pay simulator's address (its pages under ``/sim/``)."""
        assert self.sim is not None
        return self.sim.url

    @property
    def portal_url(self) -> str:
        """The merchant portal's address."""
        return f"{self.host_url}/portal/"

    def host_settings(self) -> Any:
        from scanpay.host.settings import HostSettings

        env = {**self.environ, "SCANPAY_DATA_DIR": str(self.data_dir)}
        if self.sim is not None:
            # The stack's simulator, whatever the environment says: the demo channel's
            # keys are its merchant's, and nothing may leave loopback.
            env["SCANPAY_NETWORK__WECHAT_PAY__GATEWAY"] = self.sim.url
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
        from scanpay.host.db.migrate import upgrade
        from scanpay.host.services.context import HostContext
        from scanpay.terminal.agent import Agent
        from scanpay.terminal.api import create_app as create_agent

        # The host's database and keys and the terminal's journal and key live here: 0700.
        private_folder(self.data_dir)
        # Every port is checked before anything starts, so a second `scanpay run`
        # says so at once and leaves the first one alone.
        for port in (self.host_port, self.agent_port, self.sim_port):
            if port:
                _check_port(port)
        demo_file = self.data_dir / DEMO_FILE
        if not demo_file.exists() and (self.terminal_dir / "terminal.json").exists():
            raise StackError(
                f"{self.data_dir} holds a terminal but no {DEMO_FILE}: "
                "it was not made by `scanpay run`; use another --data directory"
            )
        if self.sim_port is not None:
            self._start_sim(self.sim_port)
        settings = self.host_settings()
        if self.tls:
            tls_dir = self.data_dir / "tls"
            if (tls_dir / "host.crt").exists() and (tls_dir / "host.key").exists():
                from scanpay.terminal.tls import pem_fingerprint

                cert = tls_dir / "host.crt"
                self.tls_pair = TlsPair(cert, tls_dir / "host.key", pem_fingerprint(cert))
            else:
                self.tls_pair = make_tls_pair(tls_dir)
        self.host = LoopbackServer(create_host(settings), self.host_port, tls=self.tls_pair).start()
        if demo_file.exists():
            self.demo = DemoData.load(demo_file)
        else:
            ctx = HostContext.open(settings)
            try:
                upgrade(ctx.db)
                seeded = seed_host(ctx)
                add_portal_users(ctx, seeded.merchant_id)
            finally:
                ctx.close()
            self._activate(seeded.activation_code)
            add_demo_operators(self.terminal_dir)
            self.demo = DemoData(
                seeded.merchant_id,
                seeded.merchant_name,
                seeded.terminal_id,
                list(DEMO_OPERATORS),
                seeded.wallets,
                list(DEMO_PORTAL_USERS),
            )
            self.demo.save(demo_file)
            self.created = True
        if self.wechat is not None:
            # On every start: data made before the simulator joined the stack gets its
            # channel too, and a simulator made anew (its folder deleted) its new keys.
            from scanpay.sim.wechat.demo import DEMO_FILE as SIM_DEMO_FILE

            ctx = HostContext.open(settings)
            try:
                self.wechat_channel = connect_wechat_demo(
                    ctx, self.demo.merchant_id, self.sim_dir / SIM_DEMO_FILE
                )
            finally:
                ctx.close()
        self._point_terminal_at_host()
        self.agent = Agent(self.terminal_dir)
        self.agent_server = LoopbackServer(create_agent(self.agent), self.agent_port).start()

    def _start_sim(self, port: int) -> None:
        """Serve the WeChat Pay simulator on ``port`` (its demo made on its first start)."""
        from scanpay.sim.wechat import SimSettings, create_app
        from scanpay.sim.wechat.demo import ensure_demo

        app = create_app(SimSettings(data_dir=self.sim_dir))
        demo = ensure_demo(app.state.sim)
        if demo is not None:
            self.wechat = WeChatDemo(
                demo.mchid, demo.appid, demo.wallet_id, demo.wallet_name, demo.password_above
            )
        self._sim_state = app.state.sim
        self.sim = LoopbackServer(app, port).start()

    def wechat_balance(self) -> int | None:
        """The simulator's demo wallet's balance now (fen), read from its state."""
        if self.sim is None or self.wechat is None:
            return None
        wallet = self._sim_state.store.wallet(self.wechat.wallet_id)
        return int(wallet.balance) if wallet is not None else None

    def _activate(self, activation_code: str) -> None:
        from scanpay.terminal.agent import activate_terminal

        receipts = self.data_dir / "receipts"
        receipts.mkdir(exist_ok=True)
        settings: dict[str, Any] = {
            "camera": "browser",
            "printer": {
                "kind": "file",
                "path": str(receipts / "printer.bin"),
                "width": 58,
                "encoding": "gb18030",
                "language": "zh-CN",
                "html_dir": str(receipts),
            },
            **self.terminal_settings,
        }
        pair = self.tls_pair
        activate_terminal(
            self.host_url,
            activation_code,
            directory=self.terminal_dir,
            settings=settings,
            ca_file=pair.certfile if pair else None,
            pin_sha256=pair.fingerprint_sha256 if pair else None,
        )

    def _point_terminal_at_host(self) -> None:
        """The host may listen on another port than last time: tell the terminal."""
        from scanpay.terminal.config import load_config, save_config

        config = load_config(self.terminal_dir)
        if config.host_url != self.host_url:
            save_config(self.terminal_dir, config.with_settings(host_url=self.host_url))

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
        """Stop the agent (its workers finish), then the host, then the simulator. Safe
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
        if self.sim is not None:
            # Last: the host's leg sweeper may be calling it until the host has stopped.
            self.sim.stop()
            self.sim = None
