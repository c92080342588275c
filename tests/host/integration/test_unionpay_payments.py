"""UnionPay codes through the host: terminal protocol -> host -> the UnionPay simulator,
on SQLite and PostgreSQL, through the same port, legs and refunds as WeChat Pay's and
Alipay's; the day then reconciles against UnionPay's own settlement file.

Each test checks the host's answer and records and the simulator's books (the
customer's wallet, the merchant's balance). The host's sweepers are driven by hand
after moving both clocks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import TypeAlias

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from host.networks_kit import (
    AMOUNT,
    BEIJING,
    Shop,
    network_owes,
    network_stack_fixture,
    next_at,
    notify,
    open_shop,
    sim_key,
)
from host.networks_kit import Stack as NetworkStack
from scanpay.host.services.reconciliation import reconcile
from scanpay.networks.leg import LegStatus
from scanpay.networks.unionpay.acp import SIGN_CERT, sign_fields
from scanpay.sim.unionpay.context import SIM_CN
from sim.unionpay.kit import RunningSim, running_sim

Stack: TypeAlias = NetworkStack[RunningSim]


def _options(sim: RunningSim, back_url: str) -> dict[str, str]:
    # The host's own URL is in its settings (UnionPay's backUrl): its socket first.
    return {"gateway": sim.url, "back_url": back_url, "expected_cn": SIM_CN, "pay_timeout": "8"}


stack = network_stack_fixture("unionpay", running_sim, _options)


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    merchant = stack.sim.merchant()
    with open_shop(
        stack,
        merchant.channel(),
        merchant.mer_id,
        prefix="U",
        takings_of=stack.sim.merchant_balance,
    ) as opened:
        yield opened


def _unionpay_owes(shop: Shop) -> int:
    return network_owes(shop.stack.host.ctx, "unionpay")


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
    [order] = [o for o in shop.stack.sim.orders(shop.account) if o["txn_type"] == "01"]
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
    stack.sim.admin("POST", f"/sim/merchants/{shop.account}/bills/{day.isoformat()}")
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
    return sim_key(stack.sim, "sign_key.pem")


def _notify(stack: Stack, form: dict[str, str]) -> httpx.Response:
    return notify(stack, "unionpay", form)


def _next_at(shop: Shop, no: str) -> datetime | None:
    return next_at(shop.stack.host.ctx, no)


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
    [order] = [o for o in stack.sim.orders(shop.account) if o["order_id"] == trade_no]
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
        "merId": shop.account,
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
