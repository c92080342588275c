"""Alipay codes through the host (issue 17): terminal protocol -> host -> the Alipay
simulator, on SQLite and PostgreSQL, through the same port, legs and refunds as
WeChat Pay's; the day then reconciles against Alipay's own bill.

Each test checks the host's answer and records and the simulator's books (the
customer's wallet, the app's balance). The host's sweepers are driven by hand after
moving both clocks.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
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
from networks.alipay.kit import shop as alipay_app
from scanpay.host.clock import ManualClock
from scanpay.host.db.models import LedgerAccount, NetworkLeg, Payment
from scanpay.host.domain.ledger import Book
from scanpay.host.services import audit, channels, ledger, leg_sweeper, network_refunds
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.settings import HostSettings
from scanpay.networks.leg import Leg, LegStatus
from sim.alipay.kit import RunningSim, running_sim
from support import free_socket

AMOUNT = 2_345
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class Stack:
    sim: RunningSim
    host: RunningHost

    def advance(self, seconds: float) -> None:
        self.host.clock.advance(seconds)
        self.sim.clock.advance(seconds)

    def sweep(self) -> int:
        return leg_sweeper.run_due(self.host.ctx) + network_refunds.run_due(self.host.ctx)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("alipay_host")
    with ExitStack() as on_exit:
        url = on_exit.enter_context(host_database(folder, request.param))
        sim = on_exit.enter_context(running_sim(folder))
        now = datetime.now(UTC).replace(microsecond=0)
        sim.clock.set(now)
        # The host's own URL is in its settings (Alipay's notify_url): its socket first.
        sock = free_socket()
        notify_url = f"http://127.0.0.1:{sock.getsockname()[1]}/networks/alipay/notify"
        options = {"gateway": sim.url + "/gateway.do", "pay_timeout": "8", "notify_url": notify_url}
        settings = HostSettings(
            database_url=url,
            min_terminal_version="1.0.0",
            data_dir=str(folder),
            networks={"alipay": options},
        )
        host = on_exit.enter_context(
            serve_in_thread(settings, ManualClock(now), request.param, sweep=False, sock=sock)
        )
        yield Stack(sim, host)
        sim.books_balance()
        assert audit.verify(host.ctx).ok


@dataclass
class Shop:
    stack: Stack
    merchant_id: str
    app_id: str
    terminal: SignedClient
    wallet_id: int

    def code(self, outcome: str | None = None, **body: Any) -> str:
        return remember(self.stack.sim.code(self.wallet_id, outcome, **body))

    def pay(self, code: str, amount: int = AMOUNT) -> tuple[str, dict[str, Any]]:
        no = "A" + uuid.uuid4().hex[:20]
        answer = self.terminal.pay(no, amount, code)
        assert answer.status_code == 200, answer.text
        return no, answer.json()

    def get(self, no: str) -> dict[str, Any]:
        data: dict[str, Any] = self.terminal.get(no).json()
        return data

    def leg(self, no: str) -> Leg:
        with self.stack.host.ctx.db.read() as session:
            payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
            assert payment is not None
            record = session.scalar(select(NetworkLeg).where(NetworkLeg.payment_id == payment.id))
            assert record is not None
            return Leg.from_dict(json.loads(record.leg))

    def wallet(self) -> int:
        return self.stack.sim.balance(self.wallet_id)

    def takings(self) -> int:
        return self.stack.sim.app_balance(self.app_id)


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    ctx = stack.host.ctx
    merchant_id = make_merchant(ctx)
    app, channel = alipay_app(stack.sim)
    remember(*channel.secrets.values())
    channels.add_channel(
        ctx,
        merchant_id,
        network="alipay",
        mode="direct",
        app_id=channel.app_id,
        mch_id=channel.mch_id,
        secrets=dict(channel.secrets),
    )
    wallet = int(stack.sim.wallet(100_000)["wallet_id"])
    yield Shop(stack, merchant_id, app.app_id, make_terminal(stack.host, merchant_id), wallet)
    report = ledger.check(ctx)
    assert report.ok, report.to_dict()


def _balance(stack: Stack, code: str) -> int:
    with stack.host.ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return account.balance if account is not None else 0


def _alipay_owes(shop: Shop) -> int:
    code = ledger.network_code("alipay", Book.REAL, "CNY")
    with shop.stack.host.ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return -account.balance if account is not None else 0


def test_an_alipay_code_is_approved_and_refunded_through_alipay(shop: Shop) -> None:
    before, owed = shop.wallet(), _alipay_owes(shop)
    no, answer = shop.pay(shop.code())
    assert (answer["status"], answer["code"], answer["wallet"]) == ("SUCCESS", "00", "alipay")
    assert shop.wallet() == before - AMOUNT and shop.takings() == AMOUNT
    assert _alipay_owes(shop) == owed + AMOUNT
    assert shop.leg(no).status is LegStatus.APPROVED

    refund = shop.terminal.refund("R" + no[1:], no, 345).json()
    assert (refund["status"], refund["code"]) == ("SUCCESS", "00"), refund
    assert shop.wallet() == before - AMOUNT + 345 and shop.takings() == AMOUNT - 345
    assert shop.get(no)["status"] == "PARTIALLY_REFUNDED"
    again = shop.terminal.refund("R" + no[1:], no, 345).json()
    assert again["refund_id"] == refund["refund_id"] and shop.takings() == AMOUNT - 345


def test_the_password_step_is_queried_to_success(shop: Shop) -> None:
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_SUCCESS", seconds=3))
    assert (answer["status"], answer["code"]) == ("USER_PAYING", "09")
    queried = 0
    for _ in range(5):  # the leg's next query comes within one poll interval
        shop.stack.advance(2)
        queried += shop.stack.sweep()
        if shop.get(no)["status"] == "SUCCESS":
            break
    assert queried >= 1 and shop.get(no)["status"] == "SUCCESS"
    assert shop.leg(no).queries >= 1
    assert shop.takings() == AMOUNT


@pytest.mark.parametrize(
    ("sub_code", "code"),
    [("ACQ.BUYER_BALANCE_NOT_ENOUGH", "51"), ("ACQ.PAYMENT_AUTH_CODE_INVALID", "14")],
)
def test_a_decline_is_alipays_word_in_our_code(shop: Shop, sub_code: str, code: str) -> None:
    before = shop.wallet()
    no, answer = shop.pay(shop.code("DECLINE", sub_code=sub_code))
    assert (answer["status"], answer["code"]) == ("FAILED", code), answer
    assert shop.wallet() == before and shop.takings() == 0
    with shop.stack.host.ctx.db.read() as session:
        payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
        assert payment is not None and payment.reason == f"alipay:{sub_code}"


def test_a_password_never_entered_is_cancelled_at_once_after_the_deadline(shop: Shop) -> None:
    """Alipay lets a trade be cancelled at once: past the deadline the host cancels it
    in the same pass (WeChat Pay would wait for its 15 s)."""
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_NEVER"))
    assert answer["status"] == "USER_PAYING"
    for _ in range(20):
        shop.stack.advance(5)
        shop.stack.sweep()
        if shop.leg(no).status is LegStatus.REVERSED:
            break
    assert shop.leg(no).status is LegStatus.REVERSED
    found = shop.get(no)
    assert found["status"] == "FAILED"
    assert shop.takings() == 0


def test_the_day_reconciles_against_alipays_bill(stack: Stack, shop: Shop) -> None:
    shop.pay(shop.code())
    refunded, _ = shop.pay(shop.code(), amount=1_000)
    assert shop.terminal.refund("R" + refunded[1:], refunded, 1_000).json()["status"] == "SUCCESS"
    shop.pay(shop.code("DECLINE", sub_code="ACQ.BUYER_BALANCE_NOT_ENOUGH"))
    # Paid, then reversed by the terminal: Alipay's cancel refunds it, numbered as the trade.
    reversed_, _ = shop.pay(shop.code(), amount=500)
    assert shop.terminal.reverse(reversed_).json()["status"] == "REVERSED"
    stack.advance(1)
    stack.sweep()
    assert shop.leg(reversed_).status is LegStatus.REVERSED
    day = stack.host.clock.now().astimezone(BEIJING).date()
    stack.sim.admin("POST", f"/sim/apps/{shop.app_id}/bills/{day.isoformat()}")
    runs = [
        r for r in reconcile(stack.host.ctx, day, "alipay") if r.channel_key == shop.merchant_id
    ]
    assert len(runs) == 1 and runs[0].status.value == "done", runs
    assert runs[0].breaks == ()
    # Two payments, a refund, and a payment with its cancel.
    assert (runs[0].matched, runs[0].lines) == (4, 5)
    # Alipay's 0.6 % fee, half up per line: 14 on 23.45, 6 on 10.00 given back with its
    # refund, 3 on 5.00 given back with its cancel. Booked once, however often it runs.
    assert runs[0].fees == {"CNY": 14}
    expense = ledger.network_fee_code("alipay", Book.REAL, "CNY")
    assert _balance(stack, expense) == -14
    [again] = [
        r for r in reconcile(stack.host.ctx, day, "alipay") if r.channel_key == shop.merchant_id
    ]
    assert again.fees == {"CNY": 14} and _balance(stack, expense) == -14


# ---------------------------------------------------------------- notifications


def _sim_key(stack: Stack) -> RSAPrivateKey:
    """The simulator's own signing key (what Alipay signs its notifications with)."""
    [path] = stack.sim.folder.rglob("alipay_key.pem")
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, RSAPrivateKey)
    return key


def _signed(params: dict[str, str], key: RSAPrivateKey) -> dict[str, str]:
    text = "&".join(
        f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v
    )
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**params, "sign": base64.b64encode(signature).decode()}


def _notify(stack: Stack, form: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.host.url}/networks/alipay/notify", data=form, timeout=30)


def _next_at(shop: Shop, no: str) -> datetime | None:
    with shop.stack.host.ctx.db.read() as session:
        payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
        assert payment is not None
        found = session.scalar(
            select(NetworkLeg.next_at).where(NetworkLeg.payment_id == payment.id)
        )
        return found


def test_alipays_notification_makes_the_host_ask_at_once(shop: Shop) -> None:
    """The customer confirms; Alipay notifies the host, which queries then and there
    rather than at its next poll; the query's answer settles the sale."""
    stack = shop.stack
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_SUCCESS", seconds=600))
    assert answer["status"] == "USER_PAYING"
    assert stack.sweep() == 0  # its first query is not due yet
    scheduled = _next_at(shop, no)
    assert scheduled is not None and scheduled > stack.host.clock.now()
    [trade] = [
        t
        for t in stack.sim.admin("GET", "/sim/trades")
        if t["out_trade_no"] == answer["payment_id"]
    ]
    stack.sim.admin("POST", f"/sim/trades/{trade['trade_no']}/confirm")
    deadline = time.monotonic() + 60  # the simulator delivers on its own
    while _next_at(shop, no) == scheduled:
        assert time.monotonic() < deadline, "the host was never notified"
        time.sleep(0.05)
    assert stack.sweep() == 1  # no clock moved: the notification made the query due
    assert shop.get(no)["status"] == "SUCCESS"
    [sent] = [
        n
        for n in stack.sim.admin("GET", "/sim/notifications")
        if n["trade_no"] == trade["trade_no"]
    ]
    assert sent["delivered_at"] is not None  # answered "success"

    # The same notification again (Alipay resends): accepted, and nothing changes.
    again = _notify(stack, _signed(sent["params"], _sim_key(stack)))
    assert (again.status_code, again.text) == (200, "success")
    assert _next_at(shop, no) is None and stack.sweep() == 0


def test_a_forged_notification_changes_nothing(shop: Shop) -> None:
    stack = shop.stack
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_NEVER"))
    scheduled = _next_at(shop, no)
    params = {
        "notify_type": "trade_status_sync",
        "notify_id": "forged",
        "notify_time": "2026-12-08 10:00:00",
        "app_id": shop.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "out_trade_no": answer["payment_id"],
        "trade_no": "2026120822001400000000000001",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "23.45",
    }
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = _signed(params, _sim_key(stack))
    tampered = {**genuine, "total_amount": "0.01"}
    other_app = _signed({**params, "app_id": "2021009999999999"}, _sim_key(stack))
    for form in (_signed(params, stranger), {**params}, tampered, other_app):
        refused = _notify(stack, form)
        assert (refused.status_code, refused.text) == (400, "failure"), form
    unknown = _notify(stack, _signed({**params, "out_trade_no": "P" + "0" * 24}, _sim_key(stack)))
    assert unknown.status_code == 400
    assert _next_at(shop, no) == scheduled and stack.sweep() == 0
    assert shop.get(no)["status"] == "USER_PAYING"
    # Signed by Alipay for this app: taken, as a hint only; the query still decides.
    assert _notify(stack, genuine).status_code == 200
    assert stack.sweep() == 1 and shop.get(no)["status"] == "USER_PAYING"
