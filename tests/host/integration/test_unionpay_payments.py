"""UnionPay codes through the host: terminal protocol -> host -> the UnionPay simulator,
on SQLite and PostgreSQL, through the same port, legs and refunds as WeChat Pay's and
Alipay's; the day then reconciles against UnionPay's own settlement file.

Each test checks the host's answer and records and the simulator's books (the
customer's wallet, the merchant's balance). The host's sweepers are driven by hand
after moving both clocks.
"""

from __future__ import annotations

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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
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
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.settings import HostSettings
from scanpay.networks.leg import Leg, LegStatus
from scanpay.networks.unionpay.acp import SIGN_CERT, sign_fields
from scanpay.sim.unionpay.context import SIM_CN
from sim.unionpay.kit import RunningSim, running_sim
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
    folder = tmp_path_factory.mktemp("unionpay_host")
    with ExitStack() as on_exit:
        url = on_exit.enter_context(host_database(folder, request.param))
        sim = on_exit.enter_context(running_sim(folder))
        now = datetime.now(UTC).replace(microsecond=0)
        sim.clock.set(now)
        # The host's own URL is in its settings (UnionPay's backUrl): its socket first.
        sock = free_socket()
        back_url = f"http://127.0.0.1:{sock.getsockname()[1]}/networks/unionpay/notify"
        options = {
            "gateway": sim.url,
            "back_url": back_url,
            "expected_cn": SIM_CN,
            "pay_timeout": "8",
        }
        settings = HostSettings(
            database_url=url,
            min_terminal_version="1.0.0",
            data_dir=str(folder),
            networks={"unionpay": options},
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
    mer_id: str
    terminal: SignedClient
    wallet_id: int

    def code(self, outcome: str | None = None, **body: Any) -> str:
        return remember(self.stack.sim.code(self.wallet_id, outcome, **body))

    def pay(self, code: str, amount: int = AMOUNT) -> tuple[str, dict[str, Any]]:
        no = "U" + uuid.uuid4().hex[:20]
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
        return self.stack.sim.balance(self.wallet_id)

    def takings(self) -> int:
        return self.stack.sim.merchant_balance(self.mer_id)


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    ctx = stack.host.ctx
    merchant_id = make_merchant(ctx)
    merchant = stack.sim.merchant()
    channel = merchant.channel()
    remember(*channel.secrets.values())
    channels.add_channel(
        ctx,
        merchant_id,
        network="unionpay",
        mode="direct",
        app_id=channel.app_id,
        mch_id=channel.mch_id,
        secrets=dict(channel.secrets),
    )
    wallet = int(stack.sim.wallet(100_000)["wallet_id"])
    terminal = make_terminal(stack.host, merchant_id)
    yield Shop(stack, merchant_id, merchant.mer_id, terminal, wallet)
    report = ledger.check(ctx)
    assert report.ok, report.to_dict()


def _unionpay_owes(shop: Shop) -> int:
    code = ledger.network_code("unionpay", Book.REAL, "CNY")
    with shop.stack.host.ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return -account.balance if account is not None else 0


def _settle(shop: Shop, no: str, status: str, tries: int = 20) -> None:
    """Move both clocks and sweep until the payment is ``status``."""
    for _ in range(tries):
        if shop.get(no)["status"] == status:
            return
        shop.stack.advance(2)
        shop.stack.sweep()
    assert shop.get(no)["status"] == status


def test_a_unionpay_code_is_approved_and_refunded_through_unionpay(shop: Shop) -> None:
    before, owed = shop.wallet(), _unionpay_owes(shop)
    no, answer = shop.pay(shop.code())
    assert (answer["status"], answer["code"]) == ("SUCCESS", "00"), answer
    assert shop.wallet() == before - AMOUNT and shop.takings() == AMOUNT
    assert _unionpay_owes(shop) == owed + AMOUNT
    assert shop.leg(no).status is LegStatus.APPROVED
    assert shop.payment(no).network == "unionpay"

    refund = shop.terminal.refund("R" + no[1:], no, 345).json()
    assert (refund["status"], refund["code"]) == ("SUCCESS", "00"), refund
    assert shop.wallet() == before - AMOUNT + 345 and shop.takings() == AMOUNT - 345
    assert shop.get(no)["status"] == "PARTIALLY_REFUNDED"
    again = shop.terminal.refund("R" + no[1:], no, 345).json()
    assert again["refund_id"] == refund["refund_id"] and shop.takings() == AMOUNT - 345


def test_the_password_step_is_queried_to_success(shop: Shop) -> None:
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_SUCCESS", seconds=3))
    assert answer["status"] == "USER_PAYING", answer
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
    ("outcome", "body", "network_code", "code"),
    [
        ("DECLINE", {"resp_code": "64"}, "64", "51"),
        ("AUTHCODEEXPIRE", {}, "80", "54"),
        ("DECLINE", {"resp_code": "88"}, "88", "14"),
    ],
)
def test_a_decline_is_unionpays_word_in_our_code(
    shop: Shop, outcome: str, body: dict[str, str], network_code: str, code: str
) -> None:
    before = shop.wallet()
    no, answer = shop.pay(shop.code(outcome, **body))
    assert (answer["status"], answer["code"]) == ("FAILED", code), answer
    assert shop.wallet() == before and shop.takings() == 0
    assert shop.payment(no).reason == f"unionpay:{network_code}"


def test_a_password_never_entered_is_cancelled_after_the_deadline(shop: Shop) -> None:
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_NEVER"))
    assert answer["status"] == "USER_PAYING"
    for _ in range(20):
        shop.stack.advance(5)
        shop.stack.sweep()
        if shop.leg(no).status is LegStatus.REVERSED:
            break
    assert shop.leg(no).status is LegStatus.REVERSED
    assert shop.get(no)["status"] == "FAILED"
    assert shop.takings() == 0 and shop.wallet() == 100_000
    [order] = [o for o in shop.stack.sim.orders(shop.mer_id) if o["txn_type"] == "01"]
    assert order["cancelled"] is True


def test_the_day_reconciles_against_unionpays_file(stack: Stack, shop: Shop) -> None:
    shop.pay(shop.code())
    refunded, _ = shop.pay(shop.code(), amount=1_000)
    assert shop.terminal.refund("R" + refunded[1:], refunded, 1_000).json()["status"] == "SUCCESS"
    shop.pay(shop.code("DECLINE", resp_code="64"))
    # Paid, then reversed by the terminal: UnionPay's cancel gives it back.
    reversed_, _ = shop.pay(shop.code(), amount=500)
    assert shop.terminal.reverse(reversed_).json()["status"] == "REVERSED"
    stack.advance(1)
    stack.sweep()
    assert shop.leg(reversed_).status is LegStatus.REVERSED
    day = stack.host.clock.now().astimezone(BEIJING).date()
    stack.sim.admin("POST", f"/sim/merchants/{shop.mer_id}/bills/{day.isoformat()}")
    runs = [
        r for r in reconcile(stack.host.ctx, day, "unionpay") if r.channel_key == shop.merchant_id
    ]
    assert len(runs) == 1 and runs[0].status.value == "done", runs
    assert runs[0].breaks == (), [(b.kind, b.trade_no, b.detail) for b in runs[0].breaks]
    # Three payments, a refund, and a cancel.
    assert (runs[0].matched, runs[0].lines) == (4, 5)


# ---------------------------------------------------------------- notifications


def _sim_key(stack: Stack) -> RSAPrivateKey:
    """The simulator's own signing key (what UnionPay signs its notifications with)."""
    [path] = stack.sim.folder.rglob("sign_key.pem")
    key = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, RSAPrivateKey)
    return key


def _notify(stack: Stack, form: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{stack.host.url}/networks/unionpay/notify", data=form, timeout=30)


def _next_at(shop: Shop, no: str) -> datetime | None:
    with shop.stack.host.ctx.db.read() as session:
        payment = session.scalar(select(Payment).where(Payment.out_trade_no == no))
        assert payment is not None
        found = session.scalar(
            select(NetworkLeg.next_at).where(NetworkLeg.payment_id == payment.id)
        )
        return found


def test_unionpays_notification_makes_the_host_ask_at_once(shop: Shop) -> None:
    """The customer confirms; UnionPay notifies the host's backUrl, which queries then
    and there rather than at its next poll; the query's answer settles the sale."""
    stack = shop.stack
    no, answer = shop.pay(shop.code("WAIT_PASSWORD_SUCCESS", seconds=600))
    assert answer["status"] == "USER_PAYING"
    assert stack.sweep() == 0  # its first query is not due yet
    scheduled = _next_at(shop, no)
    assert scheduled is not None and scheduled > stack.host.clock.now()
    trade_no = shop.payment(no).public_id
    [order] = [o for o in stack.sim.orders(shop.mer_id) if o["order_id"] == trade_no]
    stack.sim.admin("POST", f"/sim/orders/{order['query_id']}/confirm")
    deadline = time.monotonic() + 60  # the simulator delivers on its own
    while _next_at(shop, no) == scheduled:
        assert time.monotonic() < deadline, "the host was never notified"
        time.sleep(0.05)
    assert stack.sweep() == 1  # no clock moved: the notification made the query due
    assert shop.get(no)["status"] == "SUCCESS"
    while True:
        [sent] = [
            n for n in stack.sim.admin("GET", "/sim/notifications") if n["order_id"] == trade_no
        ]
        if sent["delivered_at"] is not None:  # answered HTTP 200
            break
        assert time.monotonic() < deadline, "the host never answered 200"
        time.sleep(0.05)

    # The same notification again (UnionPay resends): accepted, and nothing changes.
    again = _notify(stack, sign_fields(_with_cert(stack, sent["fields"]), _sim_key(stack)))
    assert (again.status_code, again.text) == (200, "ok")
    assert _next_at(shop, no) is None and stack.sweep() == 0


def _with_cert(stack: Stack, fields: dict[str, str]) -> dict[str, str]:
    [path] = stack.sim.folder.rglob("sign_cert.pem")
    return {**fields, SIGN_CERT: path.read_text()}


def test_a_forged_notification_changes_nothing(shop: Shop) -> None:
    stack = shop.stack
    no, _ = shop.pay(shop.code("WAIT_PASSWORD_NEVER"))
    scheduled = _next_at(shop, no)
    trade_no = shop.payment(no).public_id
    fields = {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "bizType": "000000",
        "accessType": "0",
        "merId": shop.mer_id,
        "orderId": trade_no,
        "txnType": "01",
        "txnSubType": "06",
        "txnTime": "20261208101500",
        "txnAmt": str(AMOUNT),
        "currencyCode": "156",
        "queryId": "261208101500123456789",
        "respCode": "00",
        "respMsg": "成功[0000000]",
    }
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = sign_fields(_with_cert(stack, fields), _sim_key(stack))
    tampered = {**genuine, "txnAmt": "1"}
    other_merchant = sign_fields(
        _with_cert(stack, {**fields, "merId": "777000000000000"}), _sim_key(stack)
    )
    unsigned = _with_cert(stack, fields)
    for form in (sign_fields(_with_cert(stack, fields), stranger), unsigned, tampered):
        refused = _notify(stack, form)
        assert (refused.status_code, refused.text) == (400, "failure"), form
    assert _notify(stack, other_merchant).status_code == 400
    unknown = sign_fields(_with_cert(stack, {**fields, "orderId": "P" + "0" * 24}), _sim_key(stack))
    assert _notify(stack, unknown).status_code == 400
    assert _next_at(shop, no) == scheduled and stack.sweep() == 0
    assert shop.get(no)["status"] == "USER_PAYING"
    # Signed by UnionPay for this merchant: taken, as a hint only; the query still decides.
    assert _notify(stack, genuine).status_code == 200
    assert stack.sweep() == 1 and shop.get(no)["status"] == "USER_PAYING"
