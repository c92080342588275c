"""Kit for sales paid through a payment network: a real terminal agent, a real host on
SQLite or PostgreSQL, and the WeChat Pay simulator the host routes WeChat Pay codes to.

Nothing is faked and every clock is the machine's: the terminal agent runs in this
process behind its API (``terminal.harness``), the host is its own app under uvicorn
with its sweepers on (the network legs are driven by the host itself, about every
second), and the simulator runs on the system clock too, since the host's calls to it
are signed with the host's time. Only the timings are shortened (:data:`LEG_SETTINGS`,
:data:`TERMINAL_SETTINGS`), so a sale the customer never confirms settles within a
test; waits are for states, with generous limits, never timed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select

from host.kit import remember
from host.network_kit import host_database, wechat_merchant
from scanpay.host import HostSettings, create_app
from scanpay.host.db.models import LedgerAccount, Merchant, NetworkLeg, Payment, parse_public_id
from scanpay.host.domain.ledger import Book
from scanpay.host.services import ledger, terminals
from scanpay.host.services.context import HostContext
from scanpay.networks.leg import Leg, LegStatus
from scanpay.sim.wechat import SimSettings
from scanpay.sim.wechat import create_app as create_sim
from scanpay.sim.wechat.clock import SystemClock
from scanpay.terminal.journal import Journal, JournalEvent
from scanpay.terminal.sale import FINAL_STATES, Sale
from sim.kit import Merchant as SimMerchant
from support import app_in_thread
from terminal.harness import FAST, AgentHandle, add_operators, start_agent

__all__ = [
    "AMOUNT",
    "BACKENDS",
    "LEG_SETTINGS",
    "SETTLED_LEGS",
    "TERMINAL_SETTINGS",
    "NetworkHost",
    "Simulator",
    "Till",
    "network_host",
    "open_till",
    "running_simulator",
    "wait_for",
]

AMOUNT = 1_234
BACKENDS = ["sqlite", "postgresql"]

#: The host's network leg, shortened: WeChat Pay's deadline is 45 s and its reverse no
#: sooner than 15 s after the pay call; here the customer has 20 s, the reverse may go
#: 2 s after the pay call, and the network is asked every second. 20 s, not less: the
#: deadline must leave room for a pay call that takes the adapter's whole timeout (10 s,
#: the lost reply), the query after it and a busy machine's delays, before it cuts.
LEG_SETTINGS: dict[str, float] = {
    "network_deadline": 20.0,
    "network_reverse_after": 2.0,
    "network_poll": 1.0,
}

#: The terminal's settings: the harness's quick ones, but with the request timeout of a
#: shipped terminal (its default, not overridden: what a till waits for the host's
#: answer is part of what is tested) and the deadline of an unknown outcome equal to
#: the host's network deadline (as the defaults are: 45 s and 45 s).
TERMINAL_SETTINGS: dict[str, Any] = {
    key: value for key, value in FAST.items() if key not in ("request_timeout", "connect_timeout")
} | {
    "unknown_deadline": LEG_SETTINGS["network_deadline"],
    "customer_deadline": LEG_SETTINGS["network_deadline"],
    "poll_interval": 0.5,
    "query_backoff_cap": 1.0,
    "reversal_backoff_cap": 1.0,
}

#: Where a leg ends: nothing more is scheduled for it.
SETTLED_LEGS = frozenset({LegStatus.APPROVED, LegStatus.DECLINED, LegStatus.REVERSED})

T = TypeVar("T")


def wait_for(
    what: str, probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 120.0
) -> T:
    """``probe()`` until ``done`` says its value is the one wanted; the value. Polls (a
    state of another process has no event to wait on) with a generous limit: the machine
    is busy, and only a state that never comes fails."""
    end = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > end:
            raise AssertionError(f"{what}: still {value!r} after {timeout} s")
        time.sleep(0.1)
        value = probe()
    return value


# ---------------------------------------------------------------------- the network


@dataclass
class Simulator:
    """The WeChat Pay simulator on a loopback port, seen through its admin (``/sim/``)."""

    url: str
    http: httpx.Client

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url + path, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def wallet(self, balance: int) -> int:
        """A new customer's WeChat wallet holding ``balance`` fen; its id."""
        return int(self.admin("POST", "/sim/wallets", json={"balance": balance})["wallet_id"])

    def code(self, wallet_id: int, outcome: str | None = None, seconds: float | None = None) -> str:
        """A payment code of ``wallet_id`` whose first payment ends as ``outcome`` says."""
        body: dict[str, Any] = {}
        if outcome is not None:
            body["outcome"] = outcome
        if seconds is not None:
            body["seconds"] = seconds
        made = self.admin("POST", f"/sim/wallets/{wallet_id}/codes", json=body)
        return remember(str(made["auth_code"]))

    def balance(self, wallet_id: int) -> int:
        return int(self.admin("GET", f"/sim/wallets/{wallet_id}")["balance"])

    def merchant_balance(self, mchid: str) -> int:
        return int(self.admin("GET", f"/sim/merchants/{mchid}")["balance"])

    def orders(self, mchid: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.admin("GET", "/sim/orders", params={"mchid": mchid})
        return found

    def accounts(self) -> dict[str, Any]:
        found: dict[str, Any] = self.admin("GET", "/sim/accounts")
        return found


@contextmanager
def running_simulator(folder: Path) -> Iterator[Simulator]:
    """The simulator on the system clock (the host signs its calls with real time)."""
    app = create_sim(SimSettings(data_dir=folder / "sim"), SystemClock())
    with (
        app_in_thread(app, "the simulator") as url,
        httpx.Client(timeout=60, trust_env=False) as http,
    ):
        yield Simulator(url, http)


# ------------------------------------------------------------------------- the host


@dataclass
class NetworkHost:
    """The host serving on a loopback port with its sweepers, its WeChat Pay adapter
    pointed at the simulator, and a context on the same database to read it with."""

    url: str
    ctx: HostContext
    backend: str
    sim: Simulator

    def network_owes(self) -> int:
        """What the host's books say WeChat Pay owes (minus its clearing balance)."""
        code = ledger.network_code("wechat_pay", Book.REAL, "CNY")
        with self.ctx.db.read() as session:
            account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
            return -account.balance if account is not None else 0

    def pay_timeout(self) -> float:
        """The seconds the host's WeChat Pay adapter gives a pay call (its setting)."""
        return float(self.ctx.network("wechat_pay").settings.timeouts.pay)  # type: ignore[attr-defined]


@contextmanager
def network_host(folder: Path, backend: str) -> Iterator[NetworkHost]:
    """A simulator and a host on ``backend`` (``sqlite`` or ``postgresql``; the latter
    skips, or fails in CI, without a PostgreSQL server)."""
    with ExitStack() as stack:
        url = stack.enter_context(host_database(folder, backend))
        sim = stack.enter_context(running_simulator(folder))
        settings = HostSettings(
            database_url=url,
            data_dir=str(folder),
            network_deadline=LEG_SETTINGS["network_deadline"],
            network_reverse_after=LEG_SETTINGS["network_reverse_after"],
            network_poll=LEG_SETTINGS["network_poll"],
            # The adapter's own timeouts (a pay call: 10 s) are kept: they are tested too.
            networks={"wechat_pay": {"gateway": sim.url}},
        )
        # The system clock and the sweepers on: the host drives its legs by itself.
        host_url = stack.enter_context(app_in_thread(create_app(settings), "the host"))
        ctx = HostContext.open(settings)
        stack.callback(ctx.close)
        yield NetworkHost(host_url, ctx, backend, sim)


# ------------------------------------------------------------------------- the till


@dataclass
class Till:
    """One shop: a merchant of the host with a direct WeChat Pay channel to its own
    merchant at the simulator, an activated terminal agent with a cashier logged in,
    and a customer's WeChat wallet at the simulator."""

    host: NetworkHost
    merchant_id: str
    wechat: SimMerchant
    wallet_id: int
    agent: AgentHandle

    def code(self, outcome: str | None = None, seconds: float | None = None) -> str:
        return self.host.sim.code(self.wallet_id, outcome, seconds)

    def sell(self, code: str, amount: int = AMOUNT) -> str:
        """The cashier's sale paid with ``code``: started, scanned, confirmed; its number."""
        no = str(self.agent.sale(amount)["out_trade_no"])
        scanned = self.agent.scan(no, code)
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["code"]["scheme"] == "wechat_pay", scanned.text
        self.agent.confirm(no)
        return no

    def settled(self, no: str, timeout: float = 120.0) -> Sale:
        """Wait until the sale is final on the terminal, with nothing in doubt and no
        reversal waiting; the journal's sale."""
        journal: Journal = self.agent.agent.journal
        self.agent.wait_state(no, *(s.value for s in FINAL_STATES), timeout=timeout)
        wait_for(
            "the terminal's reversals and sales in doubt",
            lambda: (journal.count_in_doubt(), len(journal.reversals(waiting=True))),
            lambda counts: counts == (0, 0),
            timeout,
        )
        sale = journal.get_sale(no)
        assert sale is not None
        return sale

    def events(self, no: str) -> list[JournalEvent]:
        """The terminal journal's rows of sale ``no``, oldest first."""
        journal: Journal = self.agent.agent.journal
        return journal.events(no)

    def payment(self, no: str) -> Payment:
        with self.host.ctx.db.read() as session:
            row = session.scalar(
                select(Payment).where(
                    Payment.out_trade_no == no,
                    Payment.merchant_id == _merchant_pk(session, self.merchant_id),
                )
            )
            assert row is not None, f"the host has no payment {no}"
            session.expunge(row)
            return row

    def leg(self, payment: Payment) -> tuple[NetworkLeg, Leg]:
        with self.host.ctx.db.read() as session:
            record = session.scalar(select(NetworkLeg).where(NetworkLeg.payment_id == payment.id))
            assert record is not None, f"payment {payment.public_id} has no network leg"
            session.expunge(record)
            return record, Leg.from_dict(json.loads(record.leg))

    def settled_leg(self, payment: Payment, timeout: float = 120.0) -> tuple[NetworkLeg, Leg]:
        """Wait until the host's leg of ``payment`` is done: settled, nothing scheduled."""
        return wait_for(
            f"the leg of {payment.public_id}",
            lambda: self.leg(payment),
            lambda found: found[1].status in SETTLED_LEGS and found[0].next_at is None,
            timeout,
        )

    def wallet_balance(self) -> int:
        return self.host.sim.balance(self.wallet_id)

    def merchant_balance(self) -> int:
        return self.host.sim.merchant_balance(self.wechat.mchid)

    def orders(self, trade_no: str) -> list[dict[str, Any]]:
        """The simulator's orders of this shop with ``trade_no`` (the host's payment id)."""
        return [o for o in self.host.sim.orders(self.wechat.mchid) if o["out_trade_no"] == trade_no]


def _merchant_pk(session: Any, merchant_id: str) -> int:
    pk = parse_public_id(merchant_id, "M")
    merchant = session.get(Merchant, pk)
    assert merchant is not None
    return int(merchant.id)


@contextmanager
def open_till(host: NetworkHost, folder: Path, balance: int = 100_000) -> Iterator[Till]:
    """A new shop on ``host`` (see :class:`Till`); the agent is stopped at the end."""
    merchant_id, wechat = wechat_merchant(host.ctx, host.sim)
    directory = folder / "terminal"
    _activate(host, merchant_id, directory)
    add_operators(directory)
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        yield Till(host, merchant_id, wechat, host.sim.wallet(balance), agent)
    finally:
        agent.stop()


def _activate(host: NetworkHost, merchant_id: str, directory: Path) -> None:
    from scanpay.terminal.agent import activate_terminal

    issued = terminals.add_terminal(host.ctx, merchant_id)
    printer = {
        "kind": "file",
        "path": str(directory.parent / "printer.bin"),
        "encoding": "gb18030",
        "width": 58,
        "language": "en",
    }
    config = activate_terminal(
        host.url,
        remember(issued.activation_code),
        directory=directory,
        settings={**TERMINAL_SETTINGS, "printer": printer},
    )
    remember(config.key)
