"""Pay through the adapter against the simulator, in every variant (API v3 in both ways
of verifying the network, direct and partner; API v2 signed MD5 and HMAC-SHA256):
each outcome the network gives, mapped to the port, checked against the network's own
balances."""

from __future__ import annotations

import time

import pytest

from networks.wechat.kit import ALL, SOME, adapter, make_shop, pay_request, trade_no
from scanpay.networks import Outcome, TradeState
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim

AMOUNT = 1234


def _wallet(sim: RunningSim, balance: int = 100_000) -> int:
    return int(sim.wallet(balance)["wallet_id"])


@pytest.mark.parametrize("variant", ALL)
def test_approved(sim: RunningSim, network: WeChatPayNetwork, variant: str) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    request = pay_request(shop, sim.code(wallet), AMOUNT)

    answer = network.pay(request)
    assert answer.outcome is Outcome.APPROVED and answer.result_code == "00"
    assert answer.network_code == "SUCCESS" and answer.transaction_id
    assert sim.balance(wallet) == 100_000 - AMOUNT
    assert sim.merchant_balance(shop.mchid) == AMOUNT

    found = network.query(shop.channel, request.trade_no)
    assert found.state is TradeState.PAID
    assert found.amount == AMOUNT and found.transaction_id == answer.transaction_id


@pytest.mark.parametrize("variant", ALL)
def test_userpaying_then_paid_failed_or_still_paying(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    requests = {
        outcome: pay_request(shop, sim.code(wallet, outcome, seconds=20), AMOUNT)
        for outcome in ("USERPAYING_SUCCESS", "USERPAYING_FAIL", "USERPAYING_NEVER")
    }
    for request in requests.values():
        answer = network.pay(request)
        assert answer.outcome is Outcome.USER_PAYING, answer
        assert answer.result_code == "09" and answer.network_code == "USERPAYING"
        assert network.query(shop.channel, request.trade_no).state is TradeState.USER_PAYING
    assert sim.balance(wallet) == 100_000  # nothing moves before the password

    sim.clock.advance(21)
    paid = network.query(shop.channel, requests["USERPAYING_SUCCESS"].trade_no)
    assert paid.state is TradeState.PAID and paid.amount == AMOUNT and paid.transaction_id
    failed = network.query(shop.channel, requests["USERPAYING_FAIL"].trade_no)
    assert failed.state is TradeState.PAY_ERROR and failed.message is not None
    waiting = network.query(shop.channel, requests["USERPAYING_NEVER"].trade_no)
    assert waiting.state is TradeState.USER_PAYING
    assert sim.balance(wallet) == 100_000 - AMOUNT
    assert sim.merchant_balance(shop.mchid) == AMOUNT

    # The one still waiting is closed by a reverse; nothing was taken.
    assert network.reverse(shop.channel, requests["USERPAYING_NEVER"].trade_no).done
    closed = network.query(shop.channel, requests["USERPAYING_NEVER"].trade_no)
    assert closed.state is TradeState.CLOSED
    assert sim.balance(wallet) == 100_000 - AMOUNT


@pytest.mark.parametrize("variant", ALL)
def test_declines_carry_the_network_code_and_ours(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    cases = [
        (sim.code(wallet, "NOTENOUGH"), "51", "NOTENOUGH"),
        (sim.code(wallet, "AUTHCODEEXPIRE"), "54", "AUTHCODEEXPIRE"),
        ("134567890123456789", "14", "AUTH_CODE_INVALID"),  # in the format, never issued
        ("1345678901", "14", "AUTH_CODE_ERROR"),  # not in the format (v3: a PARAM_ERROR)
    ]
    for code, ours, theirs in cases:
        answer = network.pay(pay_request(shop, code, AMOUNT))
        assert answer.outcome is Outcome.DECLINED, (code[:4], answer)
        assert (answer.result_code, answer.network_code) == (ours, theirs)
        assert answer.message.zh_cn and answer.message.en
    assert sim.balance(wallet) == 100_000
    assert sim.merchant_balance(shop.mchid) == 0


@pytest.mark.parametrize("variant", ALL)
def test_system_error_is_unknown_and_charges_nothing(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    request = pay_request(shop, sim.code(wallet, "SYSTEMERROR"), AMOUNT)
    answer = network.pay(request)
    assert answer.outcome is Outcome.UNKNOWN and answer.result_code == "91"
    assert answer.network_code in ("SYSTEMERROR", "SYSTEM_ERROR")
    assert network.query(shop.channel, request.trade_no).state is TradeState.NOT_PAID
    assert sim.balance(wallet) == 100_000
    # The network's rule: the same request again goes on.
    assert network.pay(request).outcome is Outcome.APPROVED
    assert sim.balance(wallet) == 100_000 - AMOUNT


@pytest.mark.parametrize("variant", SOME)
def test_a_trade_number_used_before_is_never_a_decline(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED
    again = network.pay(request)  # a retry of ours: the trade is paid
    assert (again.outcome, again.result_code, again.network_code) == (
        Outcome.UNKNOWN,
        "91",
        "ORDERPAID",
    )
    other = network.pay(pay_request(shop, sim.code(wallet), AMOUNT, no=request.trade_no))
    assert other.outcome is Outcome.UNKNOWN and other.network_code == "OUT_TRADE_NO_USED"
    assert network.query(shop.channel, request.trade_no).state is TradeState.PAID
    assert sim.balance(wallet) == 100_000 - AMOUNT


def _until_paid(network: WeChatPayNetwork, shop_channel: object, no: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        state = network.query(shop_channel, no).state  # type: ignore[arg-type]
        if state is TradeState.PAID:
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.2)


@pytest.mark.parametrize("variant", SOME)
def test_slow_past_the_timeout_is_unknown_then_paid_once(sim: RunningSim, variant: str) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    request = pay_request(shop, sim.code(wallet, "SLOW", seconds=8), AMOUNT)
    with adapter(sim.url, pay=2) as impatient:
        answer = impatient.pay(request)
        assert answer.outcome is Outcome.UNKNOWN and answer.network_code is None
        _until_paid(impatient, shop.channel, request.trade_no)
    assert sim.balance(wallet) == 100_000 - AMOUNT  # charged once
    assert sim.merchant_balance(shop.mchid) == AMOUNT


@pytest.mark.parametrize("variant", SOME)
def test_charged_without_a_reply_is_unknown_then_paid_once(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    # The reply never comes: the adapter's timeout ends the wait.
    held = pay_request(shop, sim.code(wallet, "CHARGED_NO_REPLY"), AMOUNT)
    with adapter(sim.url, pay=2) as impatient:
        assert impatient.pay(held).outcome is Outcome.UNKNOWN
    # The connection is closed without a byte of reply (a reset, for the client).
    dropped = pay_request(shop, sim.code(wallet, "CHARGED_NO_REPLY", seconds=0.5), AMOUNT)
    assert network.pay(dropped).outcome is Outcome.UNKNOWN
    for request in (held, dropped):
        _until_paid(network, shop.channel, request.trade_no)
    assert sim.balance(wallet) == 100_000 - 2 * AMOUNT
    assert sim.merchant_balance(shop.mchid) == 2 * AMOUNT


@pytest.mark.parametrize("variant", SOME)
def test_every_character_a_trade_number_may_have(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = _wallet(sim)
    no = "A-b_1|2*" + trade_no()[1:12]
    request = pay_request(shop, sim.code(wallet), AMOUNT, no=no)
    assert network.pay(request).outcome is Outcome.APPROVED
    assert network.query(shop.channel, no).state is TradeState.PAID
    assert network.reverse(shop.channel, no).done
    assert network.query(shop.channel, no).state is TradeState.REVERSED
    assert sim.balance(wallet) == 100_000
