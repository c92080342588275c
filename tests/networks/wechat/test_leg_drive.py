"""The pieces fit: the pure network leg (``scanpay.networks.leg.step``) driven with this
adapter against the simulator, by the test-local driver of :mod:`networks.leg_driver`."""

from __future__ import annotations

import time

import pytest

from networks.leg_driver import Driver, driving
from networks.wechat.kit import adapter, make_shop, pay_request
from scanpay.networks import LegRules, LegStatus, PayRequest, ReverseRequested
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim

# WeChat's rules, shortened: a 30 s deadline, a query every 5 s, reverse after 15 s.
RULES = LegRules(deadline=30.0, first_query_after=2.0, poll_interval=5.0, reverse_after=15.0)
VARIANTS = ["v3-public_key-direct", "v2-HMAC-SHA256-partner"]
AMOUNT = 800


def _driver(network: WeChatPayNetwork, sim: RunningSim, request: PayRequest) -> Driver:
    return driving(network, request, RULES, sim.clock)


@pytest.mark.parametrize("variant", VARIANTS)
def test_userpaying_until_the_deadline_then_reversed(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(network, sim, pay_request(shop, sim.code(wallet, "USERPAYING_NEVER"), AMOUNT))
    leg = driver.run()
    assert leg.status is LegStatus.REVERSED and leg.result_code == "12"
    assert driver.calls[0] == "pay" and driver.calls[-1] == "reverse:DONE"
    queries = [c for c in driver.calls if c.startswith("query")]
    assert queries and all(c == "query:USER_PAYING" for c in queries)
    assert driver.now >= RULES.deadline  # the reverse came at the deadline, not sooner
    assert [r.outcome for r in driver.records] == [LegStatus.REVERSED]
    assert network.query(shop.channel, leg.trade_no).state.value == "CLOSED"
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mchid) == 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_userpaying_then_the_customer_confirms(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    code = sim.code(wallet, "USERPAYING_SUCCESS", seconds=12)
    driver = _driver(network, sim, pay_request(shop, code, AMOUNT))
    leg = driver.run()
    assert leg.status is LegStatus.APPROVED and leg.transaction_id
    assert driver.calls == ["pay", "query:USER_PAYING", "query:USER_PAYING", "query:PAID"]
    assert sim.balance(wallet) == 10_000 - AMOUNT


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_lost_reply_is_queried_and_approved_once(sim: RunningSim, variant: str) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet, "CHARGED_NO_REPLY"), AMOUNT)

    def charged() -> None:
        # The network charges while it holds the reply; on a busy machine that may come
        # after the adapter gave up: wait for the network's books, not for a time.
        deadline = time.monotonic() + 60
        while sim.balance(wallet) == 10_000:
            assert time.monotonic() < deadline, "never charged"
            time.sleep(0.1)

    with adapter(sim.url, pay=2) as impatient:
        driver = _driver(impatient, sim, request)
        driver.after_pay = charged
        leg = driver.run()
    assert leg.status is LegStatus.APPROVED
    assert sim.balance(wallet) == 10_000 - AMOUNT  # charged once


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_reverse_asked_again_by_the_network(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    """Approved, then the terminal reverses it: recall=Y first, then done."""
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(network, sim, pay_request(shop, sim.code(wallet, "REVERSE_RECALL"), AMOUNT))
    assert driver.run().status is LegStatus.APPROVED
    driver.advance_to(3.0)
    driver.feed(ReverseRequested(driver.now))
    leg = driver.run()
    assert leg.status is LegStatus.REVERSED
    assert driver.calls[-2:] == ["reverse:AGAIN", "reverse:DONE"]
    assert driver.now >= RULES.reverse_after  # never sooner than 15 s after the pay
    assert sim.balance(wallet) == 10_000
