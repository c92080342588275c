"""Kit for tests whose payments the host routes to WeChat Pay: the host's database on
either backend, and a merchant of the host with a direct channel to its own merchant at
the WeChat Pay simulator.

The host's network tests (``host/integration/test_network_payments.py``: the simulator
on a clock the test moves, :mod:`sim.kit`) and the terminal's network sales
(:mod:`terminal.network_kit`: the simulator on the system clock) set their shops up
here, so a channel is made one way, with the simulator's own keys, whichever simulator
it points at.

The reconciliation tests (issue 17: the service, its schedule, its pages, the browser)
share the rest: a module's stack on both backends whose audit chain holds at the end
(:func:`stack_fixture`), moved from Beijing day to Beijing day (the bill's days), a
:class:`Shop` that sells through the host and plants breaks (the host's row changed,
a sale or refund at the simulator the host never made), and the ``scanpay host``
command line on the stack (:func:`host_cli`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from host.kit import (
    RunningHost,
    SignedClient,
    make_merchant,
    make_terminal,
    migrate,
    postgres_available,
    postgres_database,
    remember,
    serve_in_thread,
)
from networks.wechat.kit import v3_secrets
from scanpay.cli import app as cli_app
from scanpay.host.clock import ManualClock
from scanpay.host.db.models import Payment, parse_public_id
from scanpay.host.services import audit, channels, leg_sweeper
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconciliation_records import RunInfo
from scanpay.host.settings import HostSettings
from sim.kit import Merchant as SimMerchant
from sim.kit import RunningSim, running_sim, v3_call
from support import free_socket, require

__all__ = [
    "AMOUNT",
    "BEIJING",
    "WECHAT",
    "Shop",
    "SimAdmin",
    "Stack",
    "change_payment",
    "host_cli",
    "host_database",
    "payment_of",
    "run_audits",
    "run_of",
    "sim_and_host",
    "stack_fixture",
    "wechat_merchant",
]

#: WeChat Pay's days (its bills', its 10:00) are Beijing days.
BEIJING = ZoneInfo("Asia/Shanghai")
WECHAT = "wechat_pay"
#: A shop's sale, unless a test says otherwise (12.34 CNY).
AMOUNT = 1_234
_PAY = "/v3/pay/transactions/codepay"
_REFUND = "/v3/refund/domestic/refunds"


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

    def new_day(self, days: int = 1, at: time = time(12, 0)) -> date:
        """Both clocks ``days`` Beijing days on, at ``at``: a day no test before used
        (so the bill of the day holds this test's trades only)."""
        today = self.host.clock.now().astimezone(BEIJING).date()
        day = today + timedelta(days=days)
        self.set(datetime.combine(day, at, BEIJING))
        return day


@contextmanager
def sim_and_host(
    folder: Path, backend: str, start: datetime | None = None, *, notify: bool = False
) -> Iterator[Stack]:
    """The WeChat Pay simulator and a host on ``backend`` served on loopback, both clocks
    at ``start`` (default: now). No background sweepers: each test drives the legs
    itself, so nothing races it. ``notify``: the adapter's ``notify_url`` is the host's
    own (``…/networks/wechat_pay/notify``), so the simulator calls refunds back to it.
    The simulator's books must balance at the end."""
    with ExitStack() as stack:
        url = stack.enter_context(host_database(folder, backend))
        sim = stack.enter_context(running_sim(folder))
        when = start or datetime.now(UTC).replace(microsecond=0)
        if start is not None:
            sim.clock.set(start)
        # Patient calls on a busy machine; the lost-reply test waits this long once.
        options = {"gateway": sim.url, "pay_timeout": "8"}
        sock = None
        if notify:
            # The host's own URL is in its settings: its socket first.
            sock = free_socket()
            port = sock.getsockname()[1]
            options["notify_url"] = f"http://127.0.0.1:{port}/networks/wechat_pay/notify"
        settings = HostSettings(
            database_url=url,
            min_terminal_version="1.0.0",
            data_dir=str(folder),
            networks={"wechat_pay": options},
        )
        host = stack.enter_context(
            serve_in_thread(settings, ManualClock(when), backend, sweep=False, sock=sock)
        )
        yield Stack(sim, host)
        sim.books_balance()


S = TypeVar("S", bound=Stack)


def stack_fixture(folder: str, start: datetime, kind: type[S]) -> Any:
    """A module's fixture ``stack``: a ``kind`` of :class:`Stack` from
    :func:`sim_and_host` at ``start``, once on SQLite and once on PostgreSQL, its folder
    named ``folder``; the host's audit chain must hold at the end."""

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def stack(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[S]:
        with sim_and_host(tmp_path_factory.mktemp(folder), request.param, start) as running:
            made = kind(running.sim, running.host)
            yield made
            assert audit.verify(made.ctx).ok

    return stack


def payment_of(ctx: HostContext, merchant_id: str, out_trade_no: str) -> Payment:
    """The host's payment of a merchant's sale, by the terminal's trade number."""
    with ctx.db.read() as session:
        row = session.scalar(
            select(Payment).where(
                Payment.merchant_id == parse_public_id(merchant_id, "M"),
                Payment.out_trade_no == out_trade_no,
            )
        )
        assert row is not None
        return row


def change_payment(ctx: HostContext, trade_no: str, **values: Any) -> None:
    """Change the host's payment of a trade number (``P…``) in its database (a planted
    break)."""
    with ctx.db.write() as session:
        row = session.scalar(select(Payment).where(Payment.public_id == trade_no))
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


@dataclass
class Shop:
    """A merchant of the host with a direct WeChat Pay channel to its own merchant at the
    simulator, a terminal, and a customer's WeChat wallet: it sells, and plants breaks."""

    stack: Stack
    merchant_id: str
    terminal: SignedClient
    wechat: SimMerchant
    wallet_id: int

    @classmethod
    def open(cls, stack: Stack, balance: int = 1_000_000) -> Shop:
        """A new shop, its customer's wallet holding ``balance``."""
        merchant_id, wechat = wechat_merchant(stack.ctx, stack.sim)
        terminal = make_terminal(stack.host, merchant_id)
        wallet = int(stack.sim.wallet(balance)["wallet_id"])
        return cls(stack, merchant_id, terminal, wechat, wallet)

    def code(self, outcome: str | None = None, seconds: float | None = None) -> str:
        """A payment code of the customer's wallet (``outcome``: the simulator's script)."""
        return remember(self.stack.sim.code(self.wallet_id, outcome, seconds))

    def pay(self, code: str | None = None, amount: int = AMOUNT) -> str:
        """A sale through the host (approved, unless ``code`` says otherwise); its trade
        number at the network (``P…``)."""
        no = "N" + uuid.uuid4().hex[:20]
        answer = self.terminal.pay(no, amount, code or self.code())
        assert answer.status_code == 200, answer.text
        assert code is not None or answer.json()["status"] == "SUCCESS", answer.text
        return payment_of(self.stack.ctx, self.merchant_id, no).public_id

    def payment(self, trade_no: str) -> Payment:
        """The host's payment of a trade number (``P…``)."""
        with self.stack.ctx.db.read() as session:
            row = session.scalar(select(Payment).where(Payment.public_id == trade_no))
            assert row is not None
            return row

    def status(self, trade_no: str) -> str:
        return self.payment(trade_no).status

    def change(self, trade_no: str, **values: Any) -> None:
        """Change the host's payment in its database (a planted break)."""
        change_payment(self.stack.ctx, trade_no, **values)

    def pay_at_the_network(self, amount: int = 777) -> str:
        """A sale at the simulator under a number the host never sent."""
        no = "X" + uuid.uuid4().hex[:20]
        body = {
            "appid": self.wechat.appid,
            "mchid": self.wechat.mchid,
            "description": "sold elsewhere",
            "out_trade_no": no,
            "payer": {"auth_code": self.code()},
            "amount": {"total": amount},
            "scene_info": {"device_id": "POS-9"},
        }
        status, answer = v3_call(self.stack.sim.client(self.wechat), "POST", _PAY, body)
        assert status == 200, answer
        return no

    def refund_at_the_network(self, trade_no: str, amount: int, total: int = AMOUNT) -> str:
        """A refund made at the network's merchant platform, not through the host."""
        refund_no = "R" + uuid.uuid4().hex[:20]
        body = {
            "out_trade_no": trade_no,
            "out_refund_no": refund_no,
            "amount": {"refund": amount, "total": total, "currency": "CNY"},
        }
        status, answer = v3_call(self.stack.sim.client(self.wechat), "POST", _REFUND, body)
        assert status == 200, answer
        return refund_no

    def lose_the_key(self) -> None:
        """The channel's private key gone: its statement cannot be had (not ready)."""
        channels.update_channel(self.stack.ctx, self.merchant_id, WECHAT, drop=["private_key"])

    def get_the_key_back(self) -> None:
        key = self.wechat.data["client_private_key"]
        channels.update_channel(
            self.stack.ctx, self.merchant_id, WECHAT, secrets={"private_key": key}
        )


def run_of(runs: list[RunInfo], channel_key: str, day: date | None = None) -> RunInfo:
    """The one run of ``runs`` of that channel (and day, when given)."""
    [run] = [r for r in runs if r.channel_key == channel_key and day in (None, r.day)]
    return run


def run_audits(ctx: HostContext, channel_key: str, day: date) -> list[audit.AuditEntry]:
    """The audit records of a WeChat Pay run, newest first."""
    subject = f"{WECHAT}/{channel_key}/{day.isoformat()}"
    return audit.history(ctx, subject=("reconciliation", subject))


def host_cli(stack: Stack, *args: str, lang: str = "en_US.UTF-8", **env: str) -> Result:
    """``scanpay host ARGS`` on the stack's database, its WeChat Pay adapter at the
    simulator, in the locale ``lang`` (and ``env`` besides)."""
    settings = stack.ctx.settings
    environment = {
        "SCANPAY_DATABASE_URL": settings.database_url,
        "SCANPAY_DATA_DIR": settings.data_dir,
        "SCANPAY_NETWORK__WECHAT_PAY__GATEWAY": stack.sim.url,
        "LC_ALL": lang,
        "LANG": lang,
        **env,
    }
    return CliRunner().invoke(cli_app, ["host", *args], env=environment)
