"""Kit for the host's tests of a network on a simulator of the shared core (Alipay,
UnionPay): the simulator and the host on both backends, the host on a socket of its own
so its notification URL is known before it starts (:func:`network_stack`), a
:class:`Shop` with a direct channel that sells through the host, the ledger and the
legs read back, and notifications posted to the host as the network would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select

from host.kit import (
    RunningHost,
    SignedClient,
    make_merchant,
    make_terminal,
    remember,
    serve_in_thread,
)
from host.network_kit import host_database
from scanpay.host.clock import ManualClock
from scanpay.host.db.models import LedgerAccount, NetworkLeg, Payment
from scanpay.host.domain.ledger import Book
from scanpay.host.services import audit, channels, ledger, leg_sweeper, network_refunds
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.networks.leg import Leg
from scanpay.networks.port import Channel
from support import free_socket

__all__ = [
    "AMOUNT",
    "BEIJING",
    "NetworkSim",
    "Shop",
    "Stack",
    "balance",
    "network_owes",
    "network_stack",
    "network_stack_fixture",
    "next_at",
    "notify",
    "open_shop",
    "sim_key",
]

AMOUNT = 2_345
BEIJING = ZoneInfo("Asia/Shanghai")

S = TypeVar("S", bound="NetworkSim")


class NetworkSim(Protocol):
    """A served simulator as these tests use it (``sim.common_kit.RunningSimBase``)."""

    url: str
    clock: ManualClock
    folder: Path

    def admin(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def wallet(self, balance: int, **body: Any) -> dict[str, Any]: ...

    def code(
        self, wallet_id: int, outcome: str | None = None, seconds: float | None = None, **body: Any
    ) -> str: ...

    def balance(self, wallet_id: int) -> int: ...

    def books_balance(self) -> None: ...


@dataclass
class Stack(Generic[S]):
    """The simulator and the host, each on a clock the test moves together."""

    sim: S
    host: RunningHost

    def advance(self, seconds: float) -> None:
        self.host.clock.advance(seconds)
        self.sim.clock.advance(seconds)

    def sweep(self) -> int:
        return leg_sweeper.run_due(self.host.ctx) + network_refunds.run_due(self.host.ctx)


@contextmanager
def network_stack(
    folder: Path,
    backend: str,
    sim: AbstractContextManager[S],
    network: str,
    options: Callable[[S, str], Mapping[str, str]],
) -> Iterator[Stack[S]]:
    """The host on ``backend`` routing to ``network`` at ``sim`` (served here) with
    ``options(sim, notify_url)``: ``notify_url`` is where the host takes the network's
    notifications, known before the host starts since its socket is taken first. At the
    end the simulator's books balance and the host's audit chain holds."""
    with ExitStack() as on_exit:
        url = on_exit.enter_context(host_database(folder, backend))
        running = on_exit.enter_context(sim)
        now = datetime.now(UTC).replace(microsecond=0)
        running.clock.set(now)
        sock = free_socket()
        notify_url = f"http://127.0.0.1:{sock.getsockname()[1]}/networks/{network}/notify"
        settings = HostSettings(
            database_url=url,
            min_terminal_version="1.0.0",
            data_dir=str(folder),
            networks={network: dict(options(running, notify_url))},
        )
        host = on_exit.enter_context(
            serve_in_thread(settings, ManualClock(now), backend, sweep=False, sock=sock)
        )
        yield Stack(running, host)
        running.books_balance()
        assert audit.verify(host.ctx).ok


def network_stack_fixture(
    network: str,
    running_sim: Callable[[Path], AbstractContextManager[S]],
    options: Callable[[S, str], Mapping[str, str]],
) -> Any:
    """A module's fixture ``stack``: :func:`network_stack` once on SQLite and once on
    PostgreSQL, the simulator from ``running_sim(folder)``."""

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def stack(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Stack[S]]:
        folder = tmp_path_factory.mktemp(f"{network}_host")
        with network_stack(folder, request.param, running_sim(folder), network, options) as made:
            yield made

    return stack


@dataclass
class Shop:
    """A merchant of the host with a direct channel to ``account`` at the simulator
    (Alipay's app, UnionPay's merId), a terminal, and a customer's wallet."""

    stack: Stack[Any]
    merchant_id: str
    account: str
    terminal: SignedClient
    wallet_id: int
    prefix: str
    takings_of: Callable[[str], int]

    def code(self, outcome: str | None = None, **body: Any) -> str:
        return remember(self.stack.sim.code(self.wallet_id, outcome, **body))

    def pay(self, code: str, amount: int = AMOUNT) -> tuple[str, dict[str, Any]]:
        no = self.prefix + uuid.uuid4().hex[:20]
        answer = self.terminal.pay(no, amount, code)
        assert answer.status_code == 200, answer.text
        return no, answer.json()

    def get(self, no: str) -> dict[str, Any]:
        data: dict[str, Any] = self.terminal.get(no).json()
        return data

    def payment(self, no: str) -> Payment:
        with self.stack.host.ctx.db.read() as session:
            found = session.scalar(select(Payment).where(Payment.out_trade_no == no))
            assert found is not None
            return found

    def leg(self, no: str) -> Leg:
        with self.stack.host.ctx.db.read() as session:
            payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
            assert payment is not None
            record = session.scalar(select(NetworkLeg).where(NetworkLeg.payment_id == payment.id))
            assert record is not None
            return Leg.from_dict(json.loads(record.leg))

    def wallet(self) -> int:
        return int(self.stack.sim.balance(self.wallet_id))

    def takings(self) -> int:
        return self.takings_of(self.account)


@contextmanager
def open_shop(
    stack: Stack[Any],
    channel: Channel,
    account: str,
    *,
    prefix: str,
    takings_of: Callable[[str], int],
) -> Iterator[Shop]:
    """A :class:`Shop` on ``channel`` (the simulator's keys, remembered so no log shows
    them) with a wallet of 1,000.00; at the end the host's ledger checks."""
    ctx = stack.host.ctx
    merchant_id = make_merchant(ctx)
    remember(*channel.secrets.values())
    channels.add_channel(
        ctx,
        merchant_id,
        network=channel.network,
        mode="direct",
        app_id=channel.app_id,
        mch_id=channel.mch_id,
        secrets=dict(channel.secrets),
    )
    wallet = int(stack.sim.wallet(100_000)["wallet_id"])
    terminal = make_terminal(stack.host, merchant_id)
    yield Shop(stack, merchant_id, account, terminal, wallet, prefix, takings_of)
    report = ledger.check(ctx)
    assert report.ok, report.to_dict()


def balance(ctx: HostContext, code: str) -> int:
    """The balance of the host's ledger account ``code`` (0 before it exists)."""
    with ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return account.balance if account is not None else 0


def network_owes(ctx: HostContext, network: str) -> int:
    """What ``network`` owes the host's merchants in CNY, by the host's real books."""
    return -balance(ctx, ledger.network_code(network, Book.REAL, "CNY"))


def next_at(ctx: HostContext, no: str) -> datetime | None:
    """When the leg of the sale ``no`` acts next (None: it is done)."""
    with ctx.db.read() as session:
        payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
        assert payment is not None
        found: datetime | None = session.scalar(
            select(NetworkLeg.next_at).where(NetworkLeg.payment_id == payment.id)
        )
        return found


def sim_key(sim: NetworkSim, file_name: str) -> RSAPrivateKey:
    """The simulator's own signing key (what the network signs its notifications with),
    read from its folder."""
    [path] = sim.folder.rglob(file_name)
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, RSAPrivateKey)
    return key


def notify(stack: Stack[Any], network: str, form: Mapping[str, str]) -> httpx.Response:
    """``form`` posted to the host's notification URL for ``network``, as the network does."""
    return httpx.post(f"{stack.host.url}/networks/{network}/notify", data=dict(form), timeout=30)
