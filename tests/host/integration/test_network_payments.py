"""Payments routed to WeChat Pay (issue 16): terminal protocol -> host -> the WeChat Pay
simulator, on SQLite and PostgreSQL.

Each test checks the three places money is written: the terminal's answers, the
host's payment, leg and ledger, and the simulator's own accounts (the customer's
wallet, the merchant's balance, its orders). Both clocks are the tests' own: the
host's leg sweeper (:func:`leg_sweeper.run_due`) is driven by hand after moving
them, so nothing here waits on wall time except a pay call the network never answers.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from host.kit import (
    SignedClient,
    make_merchant,
    make_terminal,
    remember,
)
from host.network_kit import Stack, sim_and_host, wechat_merchant
from scanpay.cli import app
from scanpay.host.db.models import (
    LedgerAccount,
    Merchant,
    NetworkLeg,
    Payment,
    Terminal,
    parse_public_id,
)
from scanpay.host.domain.ledger import Book
from scanpay.host.services import audit, ledger, leg_sweeper, network_legs, payments
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.networks.leg import Leg, LegStatus
from scanpay.protocol.models import PaymentRequest
from sim.kit import Merchant as SimMerchant

DEADLINE = 45.0  # WeChat Pay's, the default
AMOUNT = 1_234


@dataclass
class Shop:
    """A merchant of the host with a direct channel to its merchant at the simulator,
    a terminal, and a customer's WeChat wallet."""

    stack: Stack
    merchant_id: str
    terminal: SignedClient
    wechat: SimMerchant
    wallet_id: int

    def code(self, outcome: str | None = None, seconds: float | None = None) -> str:
        return remember(self.stack.sim.code(self.wallet_id, outcome, seconds))

    def pay(self, code: str, amount: int = AMOUNT, no: str | None = None) -> dict[str, Any]:
        answer = self.terminal.pay(no or trade(), amount, code)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def get(self, no: str) -> dict[str, Any]:
        answer = self.terminal.get(no)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def wallet_balance(self) -> int:
        return self.stack.sim.balance(self.wallet_id)

    def merchant_balance(self) -> int:
        return self.stack.sim.merchant_balance(self.wechat.mchid)

    def orders(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.stack.sim.admin(
            "GET", "/sim/orders", params={"mchid": self.wechat.mchid}
        )
        return found

    def leg(self, no: str) -> tuple[Payment, Leg]:
        with self.stack.ctx.db.read() as session:
            payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
            assert payment is not None
            record = session.scalar(select(NetworkLeg).where(NetworkLeg.payment_id == payment.id))
            assert record is not None
            return payment, Leg.from_dict(json.loads(record.leg))


def trade() -> str:
    return "N" + uuid.uuid4().hex[:20]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with sim_and_host(tmp_path_factory.mktemp("network"), request.param) as running:
        yield running


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    ctx = stack.ctx
    merchant_id, wechat = wechat_merchant(ctx, stack.sim)
    wallet = stack.sim.wallet(100_000)
    yield Shop(
        stack, merchant_id, make_terminal(stack.host, merchant_id), wechat, wallet["wallet_id"]
    )
    report = ledger.check(ctx)
    assert report.ok, report.to_dict()
    assert audit.verify(ctx).ok


def _network_owes(ctx: HostContext) -> int:
    """What the host's books say WeChat Pay owes (minus the network clearing balance)."""
    code = ledger.network_code("wechat_pay", Book.REAL, "CNY")
    with ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return -account.balance if account is not None else 0


def test_a_wechat_code_is_approved_through_the_network(shop: Shop) -> None:
    owed = _network_owes(shop.stack.ctx)
    before = shop.wallet_balance()
    no = trade()
    answer = shop.pay(shop.code(), no=no)
    assert (answer["status"], answer["code"], answer["wallet"]) == ("SUCCESS", "00", "wechat_pay")
    assert shop.wallet_balance() == before - AMOUNT
    assert shop.merchant_balance() == AMOUNT
    [order] = shop.orders()
    payment, leg = shop.leg(no)
    assert order["out_trade_no"] == leg.trade_no == payment.public_id
    assert order["state"] == "SUCCESS"
    assert leg.status is LegStatus.APPROVED and payment.network == "wechat_pay"
    assert _network_owes(shop.stack.ctx) == owed + AMOUNT


def test_a_retry_of_the_same_request_never_reaches_the_network_again(shop: Shop) -> None:
    code, no = shop.code(), trade()
    first = shop.pay(code, no=no)
    second = shop.terminal.pay(no, AMOUNT, code)
    assert second.status_code == 200 and second.headers.get("X-Scanpay-Replayed") == "true"
    assert second.json()["status"] == first["status"] == "SUCCESS"
    assert len(shop.orders()) == 1


def test_a_code_of_a_network_without_a_channel_is_declined_with_its_own_reason(
    stack: Stack,
) -> None:
    merchant_id = make_merchant(stack.ctx)
    terminal = make_terminal(stack.host, merchant_id)
    wallet = stack.sim.wallet(10_000)
    code = remember(stack.sim.code(wallet["wallet_id"]))
    answer = terminal.pay(trade(), AMOUNT, code).json()
    assert (answer["status"], answer["code"]) == ("FAILED", "57")
    assert "does not take this wallet" in answer["message"]["en"]
    assert "未开通" in answer["message"]["zh-CN"]
    assert stack.sim.balance(wallet["wallet_id"]) == 10_000


def test_a_network_decline_fails_the_sale_in_the_networks_words(shop: Shop) -> None:
    before = shop.wallet_balance()
    answer = shop.pay(shop.code("NOTENOUGH"))
    assert (answer["status"], answer["code"]) == ("FAILED", "51")
    assert answer["message"]["en"]
    assert shop.wallet_balance() == before and shop.merchant_balance() == 0


def test_user_paying_then_confirmed_is_approved_by_a_query(shop: Shop) -> None:
    no = trade()
    answer = shop.pay(shop.code("USERPAYING_SUCCESS", 3), no=no)
    assert (answer["status"], answer["code"]) == ("USER_PAYING", "09")
    assert 0 < answer["pin_expires_in"] <= DEADLINE
    assert shop.stack.sweep() == 0  # nothing due before the first poll
    shop.stack.advance(5)
    assert shop.stack.sweep() == 1
    assert shop.get(no)["status"] == "SUCCESS"
    assert shop.merchant_balance() == AMOUNT
    _, leg = shop.leg(no)
    assert leg.status is LegStatus.APPROVED and leg.queries == 1


def test_user_paying_past_the_deadline_is_reversed_at_the_network(shop: Shop) -> None:
    before, no = shop.wallet_balance(), trade()
    assert shop.pay(shop.code("USERPAYING_NEVER"), no=no)["status"] == "USER_PAYING"
    for _ in range(int(DEADLINE // 5) - 1):
        shop.stack.advance(5)
        shop.stack.sweep()
        assert shop.get(no)["status"] == "USER_PAYING"
    shop.stack.advance(5)
    shop.stack.sweep()
    answer = shop.get(no)
    assert (answer["status"], answer["code"]) == ("FAILED", "12")
    assert "cancelled" in answer["message"]["en"]
    payment, leg = shop.leg(no)
    assert leg.status is LegStatus.REVERSED and payment.reason == "network_timeout"
    [order] = shop.orders()
    assert order["state"] in ("REVOKED", "CLOSED")  # nothing paid: it was closed
    assert shop.wallet_balance() == before and shop.merchant_balance() == 0


def test_a_terminal_reverse_of_an_approved_sale_returns_the_money_at_the_network(
    shop: Shop,
) -> None:
    before, no = shop.wallet_balance(), trade()
    assert shop.pay(shop.code(), no=no)["status"] == "SUCCESS"
    reversed_ = shop.terminal.reverse(no)
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "REVERSED"
    _, leg = shop.leg(no)
    assert leg.status is LegStatus.REVERSING
    assert shop.stack.sweep() == 0  # WeChat Pay: never sooner than 15 s after the pay call
    shop.stack.advance(15)
    assert shop.stack.sweep() == 1
    _, leg = shop.leg(no)
    assert leg.status is LegStatus.REVERSED
    assert shop.wallet_balance() == before and shop.merchant_balance() == 0
    assert shop.get(no)["status"] == "REVERSED"


def test_a_system_error_is_queried_never_taken_as_a_decline(shop: Shop) -> None:
    no = trade()
    answer = shop.pay(shop.code("SYSTEMERROR"), no=no)
    assert answer["status"] == "USER_PAYING"  # in doubt: the terminal queries
    shop.stack.advance(5)
    shop.stack.sweep()
    # The simulator left the order NOTPAY: it is still open, so only the deadline's
    # reverse ends it; no money moved.
    assert shop.get(no)["status"] == "USER_PAYING"
    shop.stack.advance(DEADLINE)
    shop.stack.sweep()
    assert shop.get(no)["status"] == "FAILED"
    assert shop.merchant_balance() == 0


def test_a_reply_lost_after_the_network_charged_is_found_by_the_query(shop: Shop) -> None:
    before, no = shop.wallet_balance(), trade()
    answer = shop.pay(shop.code("CHARGED_NO_REPLY", 30), no=no)
    assert answer["status"] == "USER_PAYING"  # the pay call timed out: no answer
    assert shop.wallet_balance() == before - AMOUNT  # but the network charged
    shop.stack.advance(5)
    shop.stack.sweep()
    assert shop.get(no)["status"] == "SUCCESS"
    assert shop.merchant_balance() == AMOUNT


def test_a_host_that_died_before_the_pay_call_leaves_a_leg_the_sweeper_ends(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leg journaled as sent whose pay call never went out (the process died between
    commit and call): once its lease lapses the sweeper queries, then reverses."""
    no = trade()
    monkeypatch.setattr(network_legs, "pay", lambda *args, **kwargs: None)  # the crash
    request = PaymentRequest(out_trade_no=no, amount=AMOUNT, currency="CNY", auth_code=shop.code())
    payments.create_payment(shop.stack.ctx, _identity(shop), request)
    monkeypatch.undo()
    assert shop.get(no)["status"] == "USER_PAYING"
    assert shop.stack.sweep() == 0  # its driver's lease still holds
    shop.stack.advance(network_legs.LEASE.total_seconds() + 1)
    assert shop.stack.sweep() == 1  # Recovered: it asks the network
    _, leg = shop.leg(no)
    assert leg.status is LegStatus.UNKNOWN and leg.queries >= 1
    shop.stack.advance(DEADLINE)
    shop.stack.sweep()
    payment, leg = shop.leg(no)
    assert leg.status is LegStatus.REVERSED
    assert payment.status == "FAILED" and payment.reason == "network_timeout"
    assert shop.orders() == []  # the network never saw it
    assert shop.merchant_balance() == 0


def _identity(shop: Shop) -> TerminalIdentity:
    terminal_pk = parse_public_id(shop.terminal.terminal_id, "T")
    with shop.stack.ctx.db.read() as session:
        terminal = session.get(Terminal, terminal_pk)
        assert terminal is not None
        merchant = session.get(Merchant, terminal.merchant_id)
        assert merchant is not None
        return TerminalIdentity(
            terminal_pk=terminal.id,
            terminal_id=shop.terminal.terminal_id,
            merchant_pk=merchant.id,
            merchant_id=merchant.public_id,
            merchant_status=merchant.status,
            key_hex=shop.terminal.key,
        )


class _Counting:
    """The real adapter, counting its calls by kind (two drivers must never double one)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, Counter[str]()
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


def test_two_sweepers_at_once_make_each_call_once(shop: Shop) -> None:
    """Every host process sweeps the same legs: the lease's compare-and-set lets one
    drive each leg, so each due query goes out once."""
    numbers = [trade() for _ in range(6)]
    for no in numbers:
        assert shop.pay(shop.code("USERPAYING_SUCCESS"), no=no)["status"] == "USER_PAYING"
    ctx = shop.stack.ctx
    counting = _Counting(ctx.network("wechat_pay"))
    ctx._networks["wechat_pay"] = counting  # type: ignore[assignment]
    try:
        shop.stack.advance(5)
        start = threading.Barrier(2)

        def sweep() -> int:
            start.wait()
            return leg_sweeper.run_due(ctx)

        with ThreadPoolExecutor(2) as pool:
            driven = sum(pool.map(lambda _: sweep(), range(2)))
    finally:
        ctx._networks["wechat_pay"] = counting.inner
    assert driven == len(numbers)
    assert counting.calls["query"] == len(numbers)
    assert [shop.get(no)["status"] for no in numbers] == ["SUCCESS"] * len(numbers)


def test_the_operator_lists_the_legs_still_in_doubt(shop: Shop) -> None:
    doubtful, settled = trade(), trade()
    shop.pay(shop.code("USERPAYING_NEVER"), no=doubtful)
    shop.pay(shop.code(), no=settled)
    settings = shop.stack.ctx.settings
    env = {"SCANPAY_DATABASE_URL": settings.database_url, "SCANPAY_DATA_DIR": settings.data_dir}
    result = CliRunner().invoke(app, ["host", "channel", "legs", "--json"], env=env)
    assert result.exit_code == 0, result.output
    listed = {leg["out_trade_no"]: leg for leg in json.loads(result.output)}
    assert doubtful in listed and settled not in listed
    leg = listed[doubtful]
    assert (leg["status"], leg["payment_status"], leg["network"]) == (
        "USER_PAYING",
        "USER_PAYING",
        "wechat_pay",
    )
    assert leg["merchant_id"] == shop.merchant_id and leg["amount"] == AMOUNT
    every = CliRunner().invoke(app, ["host", "channel", "legs", "--all", "--json"], env=env)
    assert settled in {leg["out_trade_no"] for leg in json.loads(every.output)}
