"""Reverse and refunds through the adapter: money back at the network, ``recall``, the
answers for trades and refunds the network does not know, and refund queries."""

from __future__ import annotations

import pytest

from networks.wechat.kit import ALL, SOME, make_shop, pay_request, refund_request, trade_no
from scanpay.networks import Outcome, RefundStatus, ReverseOutcome, TradeState
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim

AMOUNT = 1000


@pytest.mark.parametrize("variant", ALL)
def test_reverse_of_a_paid_trade_gives_the_money_back(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED
    assert sim.balance(wallet) == 10_000 - AMOUNT

    answer = network.reverse(shop.channel, request.trade_no)
    assert answer.done and answer.message is not None
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mchid) == 0
    assert network.query(shop.channel, request.trade_no).state is TradeState.REVERSED
    assert network.reverse(shop.channel, request.trade_no).done  # idempotent
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize("variant", ALL)
def test_reverse_recall_is_again_then_done(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet, "REVERSE_RECALL"), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED

    first = network.reverse(shop.channel, request.trade_no)
    assert first.again and first.outcome is ReverseOutcome.AGAIN
    assert sim.balance(wallet) == 10_000 - AMOUNT  # nothing done yet
    assert network.reverse(shop.channel, request.trade_no).done
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize("variant", SOME)
def test_a_trade_the_network_never_saw(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    """Query: NOT_FOUND (not final: a pay call may still arrive). Reverse: DONE, as the
    network holds nothing under the number (docs/networks.md, "The adapter")."""
    shop = make_shop(sim, variant)
    no = trade_no()
    found = network.query(shop.channel, no)
    assert found.state is TradeState.NOT_FOUND
    assert found.network_code in ("ORDERNOTEXIST", "ORDER_NOT_EXIST")
    reversed_ = network.reverse(shop.channel, no)
    assert reversed_.done and reversed_.network_code in ("ORDERNOTEXIST", "ORDER_NOT_EXIST")


@pytest.mark.parametrize("variant", ALL)
def test_refunds_and_refund_queries(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED
    no = request.trade_no

    first = network.refund(refund_request(shop, no, "R1" + no, 300, AMOUNT, "chipped cup"))
    # v2 answers "accepted" (its refund query says when it is done); v3 says it is done.
    expected = RefundStatus.PROCESSING if shop.api == "v2" else RefundStatus.SUCCESS
    assert first.status is expected and first.refund_id and first.amount == 300
    assert sim.balance(wallet) == 10_000 - AMOUNT + 300
    queried = network.refund_query(shop.channel, "R1" + no)
    assert queried.status is RefundStatus.SUCCESS
    assert (queried.refund_id, queried.amount) == (first.refund_id, 300)

    again = network.refund(refund_request(shop, no, "R1" + no, 300, AMOUNT))  # a retry
    assert again.refund_id == first.refund_id and again.status is not RefundStatus.FAILED
    assert sim.balance(wallet) == 10_000 - AMOUNT + 300

    too_much = network.refund(refund_request(shop, no, "R2" + no, 800, AMOUNT))
    assert too_much.status is RefundStatus.FAILED and too_much.message is not None
    assert too_much.network_code == "INVALID_REQUEST"
    assert network.query(shop.channel, no).state is TradeState.REFUNDED

    unknown = network.refund_query(shop.channel, "R9" + no)
    assert unknown.status is RefundStatus.UNKNOWN  # not there (yet): ask with the refund
    assert unknown.network_code in ("REFUNDNOTEXIST", "RESOURCE_NOT_EXISTS")
    assert sim.balance(wallet) == 10_000 - AMOUNT + 300


@pytest.mark.parametrize("variant", SOME)
def test_a_refund_processing_at_first(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet, "REFUND_PROCESSING"), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED
    refund_no = "R" + request.trade_no
    answer = network.refund(refund_request(shop, request.trade_no, refund_no, AMOUNT, AMOUNT))
    assert answer.status is RefundStatus.PROCESSING
    assert network.refund_query(shop.channel, refund_no).status is RefundStatus.SUCCESS
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize("variant", SOME)
def test_a_refund_of_a_trade_not_paid_fails(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet, "NOTENOUGH"), AMOUNT)
    assert network.pay(request).outcome is Outcome.DECLINED
    answer = network.refund(
        refund_request(shop, request.trade_no, "R" + request.trade_no, AMOUNT, AMOUNT)
    )
    assert answer.status is RefundStatus.FAILED
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize("variant", SOME)
def test_a_reverse_too_late_is_refused(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    assert network.pay(request).outcome is Outcome.APPROVED
    sim.clock.advance(8 * 86400)  # the network reverses within 7 days
    answer = network.reverse(shop.channel, request.trade_no)
    assert answer.outcome is ReverseOutcome.REFUSED and answer.network_code == "REVERSE_EXPIRE"
    assert answer.message is not None and "refund" in answer.message.en
    assert sim.balance(wallet) == 10_000 - AMOUNT
