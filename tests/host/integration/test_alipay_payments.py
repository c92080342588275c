"""Alipay codes through the host (issue 17): terminal protocol -> host -> the Alipay
simulator, on SQLite and PostgreSQL, through the same port, legs and refunds as
WeChat Pay's; the day then reconciles against Alipay's own bill.

Each test checks the host's answer and records and the simulator's books (the
customer's wallet, the app's balance). The host's sweepers are driven by hand after
moving both clocks.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TypeAlias

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select

from host.networks_kit import (
    AMOUNT,
    BEIJING,
    Shop,
    balance,
    network_owes,
    network_stack_fixture,
    next_at,
    notify,
    open_shop,
    sim_key,
)
from host.networks_kit import Stack as NetworkStack
from networks.alipay.kit import shop as alipay_app
from scanpay.host.db.models import Payment
from scanpay.host.domain.ledger import Book
from scanpay.host.services import ledger
from scanpay.host.services.reconciliation import reconcile
from scanpay.networks.leg import LegStatus
from sim.alipay.kit import RunningSim, running_sim

Stack: TypeAlias = NetworkStack[RunningSim]


def _options(sim: RunningSim, notify_url: str) -> dict[str, str]:
    # The host's own URL is in its settings (Alipay's notify_url): its socket first.
    return {"gateway": sim.url + "/gateway.do", "pay_timeout": "8", "notify_url": notify_url}


stack = network_stack_fixture("alipay", running_sim, _options)


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    app, channel = alipay_app(stack.sim)
    with open_shop(
        stack, channel, app.app_id, prefix="A", takings_of=stack.sim.app_balance
    ) as opened:
        yield opened


def _alipay_owes(shop: Shop) -> int:
    return network_owes(shop.stack.host.ctx, "alipay")


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
    stack.sim.admin("POST", f"/sim/apps/{shop.account}/bills/{day.isoformat()}")
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
    assert balance(stack.host.ctx, expense) == -14
    [again] = [
        r for r in reconcile(stack.host.ctx, day, "alipay") if r.channel_key == shop.merchant_id
    ]
    assert again.fees == {"CNY": 14} and balance(stack.host.ctx, expense) == -14


# ---------------------------------------------------------------- notifications


def _sim_key(stack: Stack) -> RSAPrivateKey:
    """The simulator's own signing key (what Alipay signs its notifications with)."""
    return sim_key(stack.sim, "alipay_key.pem")


def _signed(params: dict[str, str], key: RSAPrivateKey) -> dict[str, str]:
    text = "&".join(
        f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v
    )
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**params, "sign": base64.b64encode(signature).decode()}


def _notify(stack: Stack, form: dict[str, str]) -> httpx.Response:
    return notify(stack, "alipay", form)


def _next_at(shop: Shop, no: str) -> datetime | None:
    return next_at(shop.stack.host.ctx, no)


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
        "app_id": shop.account,
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
