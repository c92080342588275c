"""The adapter against the Alipay simulator (scanpay.sim.alipay), over loopback HTTP:
approved, the password step then the query, declines, a charge whose answer is lost
found by the query, cancel, refunds (idempotent), the refund query, the day's bill.
Both verification modes; the simulator's books balance at the end."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from networks.alipay.kit import shop
from scanpay.networks import (
    Channel,
    Outcome,
    PayRequest,
    RefundRequest,
    RefundStatus,
    ReverseOutcome,
    StatementKind,
    TradeState,
)
from scanpay.networks.alipay import AlipayNetwork
from scanpay.networks.alipay.config import BEIJING
from sim.alipay.kit import RunningSim

MODES = ["public_key", "certificate"]


def _no() -> str:
    return "T" + secrets.token_hex(12)


def _pay(channel: Channel, code: str, amount: int, no: str | None = None) -> PayRequest:
    return PayRequest(
        channel, no or _no(), code, amount, "CNY", "莉莉茶铺 tea, 2 cups", store_id="S1"
    )


def _wallet(sim: RunningSim, balance: int = 10_000) -> int:
    return int(sim.wallet(balance)["wallet_id"])


@pytest.mark.parametrize("mode", MODES)
def test_approved(sim: RunningSim, adapter: AlipayNetwork, mode: str) -> None:
    app, channel = shop(sim, mode)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet), 1234)
    answer = adapter.pay(request)
    assert (answer.outcome, answer.result_code) == (Outcome.APPROVED, "00")
    assert answer.transaction_id and len(answer.transaction_id) == 28
    assert sim.balance(wallet) == 10_000 - 1234 and sim.app_balance(app.app_id) == 1234
    found = adapter.query(channel, request.trade_no)
    assert (found.state, found.amount, found.transaction_id) == (
        TradeState.PAID,
        1234,
        answer.transaction_id,
    )
    # The same trade number again is not a second charge: the query decides (paid).
    again = adapter.pay(request)
    assert again.outcome is Outcome.UNKNOWN and again.network_code == "ACQ.TRADE_HAS_SUCCESS"
    assert sim.balance(wallet) == 10_000 - 1234


def test_password_then_query(sim: RunningSim, adapter: AlipayNetwork) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet, "WAIT_PASSWORD_SUCCESS", seconds=10), 500)
    answer = adapter.pay(request)
    assert (answer.outcome, answer.result_code) == (Outcome.USER_PAYING, "09")
    assert adapter.query(channel, request.trade_no).state is TradeState.USER_PAYING
    sim.clock.advance(11)
    found = adapter.query(channel, request.trade_no)
    assert (found.state, found.amount) == (TradeState.PAID, 500)
    assert sim.balance(wallet) == 10_000 - 500


def test_password_never_then_cancel(sim: RunningSim, adapter: AlipayNetwork) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet, "WAIT_PASSWORD_NEVER"), 500)
    assert adapter.pay(request).outcome is Outcome.USER_PAYING
    done = adapter.reverse(channel, request.trade_no)
    assert (done.outcome, done.network_code) == (ReverseOutcome.DONE, "close")
    assert adapter.query(channel, request.trade_no).state is TradeState.CLOSED
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize(
    ("outcome", "sub_code", "ours"),
    [
        ("DECLINE", "ACQ.BUYER_BALANCE_NOT_ENOUGH", "51"),
        ("DECLINE", "ACQ.PAYMENT_AUTH_CODE_INVALID", "14"),
        ("DECLINE", "ACQ.TRADE_HAS_CLOSE", "12"),
        ("DECLINE", "ACQ.PAYMENT_REQUEST_HAS_RISK", "57"),
        ("DECLINE", "ACQ.PAYMENT_FAIL", "05"),
    ],
)
def test_declined(
    sim: RunningSim, adapter: AlipayNetwork, outcome: str, sub_code: str, ours: str
) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim)
    answer = adapter.pay(_pay(channel, sim.code(wallet, outcome, sub_code=sub_code), 300))
    assert (answer.outcome, answer.result_code) == (Outcome.DECLINED, ours)
    assert answer.network_code == sub_code
    assert answer.message.zh_cn and answer.message.en
    assert sim.balance(wallet) == 10_000


def test_not_enough_money(sim: RunningSim, adapter: AlipayNetwork) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim, 100)
    answer = adapter.pay(_pay(channel, sim.code(wallet), 300))
    assert (answer.outcome, answer.result_code) == (Outcome.DECLINED, "51")
    assert sim.balance(wallet) == 100


@pytest.mark.parametrize("outcome", ["CHARGED_THEN_UNKNOWN", "WRONG_SIGNATURE"])
def test_charged_then_unknown_is_found_by_the_query(
    sim: RunningSim, adapter: AlipayNetwork, outcome: str
) -> None:
    _, channel = shop(sim, "certificate")
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet, outcome), 700)
    answer = adapter.pay(request)
    assert (answer.outcome, answer.result_code) == (Outcome.UNKNOWN, "91")
    found = adapter.query(channel, request.trade_no)
    assert (found.state, found.amount) == (TradeState.PAID, 700)


@pytest.mark.parametrize("outcome", ["SYSTEM_ERROR", "ACQ_SYSTEM_ERROR"])
def test_a_system_error_is_unknown(sim: RunningSim, adapter: AlipayNetwork, outcome: str) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet, outcome), 700)
    assert adapter.pay(request).outcome is Outcome.UNKNOWN
    assert adapter.reverse(channel, request.trade_no).done
    assert sim.balance(wallet) == 10_000


def test_unknown_trade(sim: RunningSim, adapter: AlipayNetwork) -> None:
    _, channel = shop(sim)
    assert adapter.query(channel, _no()).state is TradeState.NOT_FOUND


def test_cancel_a_paid_trade(sim: RunningSim, adapter: AlipayNetwork) -> None:
    app, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet), 900)
    assert adapter.pay(request).outcome is Outcome.APPROVED
    done = adapter.reverse(channel, request.trade_no)
    assert (done.outcome, done.network_code) == (ReverseOutcome.DONE, "refund")
    assert sim.balance(wallet) == 10_000 and sim.app_balance(app.app_id) == 0
    # Closed after a payment: reversed, no money stayed.
    assert adapter.query(channel, request.trade_no).state is TradeState.REVERSED
    assert adapter.reverse(channel, request.trade_no).done  # idempotent


def test_cancel_asked_again(sim: RunningSim, adapter: AlipayNetwork) -> None:
    _, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet, "CANCEL_RETRY"), 900)
    adapter.pay(request)
    first = adapter.reverse(channel, request.trade_no)
    assert first.outcome is ReverseOutcome.AGAIN
    assert adapter.reverse(channel, request.trade_no).done
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize("mode", MODES)
def test_refunds(sim: RunningSim, adapter: AlipayNetwork, mode: str) -> None:
    app, channel = shop(sim, mode)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet), 1000)
    assert adapter.pay(request).outcome is Outcome.APPROVED
    first = RefundRequest(channel, request.trade_no, "R" + request.trade_no, 300, 1000, "CNY")
    assert (adapter.refund(first).status, sim.balance(wallet)) == (RefundStatus.SUCCESS, 9_300)
    # The same refund again: Alipay moves no money (fund_change=N); the query says done.
    repeat = adapter.refund(first)
    assert (repeat.status, repeat.amount) == (RefundStatus.SUCCESS, 300)
    assert sim.balance(wallet) == 9_300
    found = adapter.refund_query(channel, first.refund_no)
    assert (found.status, found.amount) == (RefundStatus.SUCCESS, 300)
    found = adapter.refund_query(channel, first.refund_no, request.trade_no)
    assert found.status is RefundStatus.SUCCESS
    # More than what is left: refused, nothing moved.
    over = RefundRequest(channel, request.trade_no, "S" + request.trade_no, 800, 1000, "CNY")
    refused = adapter.refund(over)
    assert refused.status is RefundStatus.FAILED and refused.message is not None
    assert sim.balance(wallet) == 9_300 and sim.app_balance(app.app_id) == 700
    never = adapter.refund_query(channel, "N" + request.trade_no, request.trade_no)
    assert never.status is RefundStatus.UNKNOWN  # not found is not a "no"


def test_the_days_statement(sim: RunningSim, adapter: AlipayNetwork) -> None:
    app, channel = shop(sim)
    wallet = _wallet(sim)
    request = _pay(channel, sim.code(wallet), 1230)
    paid = adapter.pay(request)
    refund = RefundRequest(channel, request.trade_no, "R" + request.trade_no, 230, 1230, "CNY")
    assert adapter.refund(refund).status is RefundStatus.SUCCESS
    day: date = sim.clock.now().astimezone(BEIJING).date()
    assert not adapter.statement(channel, day).ready  # not published yet
    sim.admin("POST", f"/sim/apps/{app.app_id}/bills/{day.isoformat()}")
    statement = adapter.statement(channel, day)
    assert statement.ready
    lines = {(line.kind, line.trade_no): line for line in statement.lines}
    payment = lines[(StatementKind.PAYMENT, request.trade_no)]
    assert (payment.amount, payment.transaction_id) == (1230, paid.transaction_id)
    assert payment.time.utcoffset() == timedelta(hours=8)
    refunded = lines[(StatementKind.REFUND, request.trade_no)]
    assert (refunded.amount, refunded.refund_no) == (230, refund.refund_no)


def test_one_adapter_serves_many_threads(sim: RunningSim, adapter: AlipayNetwork) -> None:
    channels = [shop(sim, mode)[1] for mode in MODES]
    wallet = _wallet(sim, 100_000)
    requests = [_pay(channels[i % 2], sim.code(wallet), 100 + i) for i in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(adapter.pay, requests))
    assert [a.outcome for a in answers] == [Outcome.APPROVED] * len(requests)
    assert sim.balance(wallet) == 100_000 - sum(r.amount for r in requests)
