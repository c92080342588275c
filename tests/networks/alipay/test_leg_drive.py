"""The pieces fit: the pure network leg driven with this adapter and Alipay's own timing
(``LEG_RULES``: a query every few seconds, the cancel at the deadline with no wait of
its own) against the simulator, by the test-local driver of :mod:`networks.leg_driver`."""

from __future__ import annotations

import secrets
import time

from networks.alipay.kit import network, pay_request, shop
from networks.leg_driver import Driver, driving
from scanpay.networks import LegStatus, PayRequest, ReverseRequested
from scanpay.networks.alipay import LEG_RULES as RULES
from scanpay.networks.alipay import AlipayNetwork
from sim.alipay.kit import RunningSim

AMOUNT = 800


def _driver(adapter: AlipayNetwork, sim: RunningSim, request: PayRequest) -> Driver:
    return driving(adapter, request, RULES, sim.clock)


def _request(
    sim: RunningSim, wallet: int, outcome: str | None = None, **body: object
) -> PayRequest:
    _, channel = shop(sim)
    code = sim.code(wallet, outcome, **body)
    return pay_request(channel, code, AMOUNT, "T" + secrets.token_hex(12))


def test_waiting_for_the_password_until_the_deadline_then_cancelled(
    sim: RunningSim, adapter: AlipayNetwork
) -> None:
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(adapter, sim, _request(sim, wallet, "WAIT_PASSWORD_NEVER"))
    leg = driver.run()
    assert leg.status is LegStatus.REVERSED and leg.result_code == "12"
    queries = [c for c in driver.calls if c.startswith("query")]
    # A query every few seconds up to the deadline (Alipay's guide: 3-5 s).
    assert len(queries) >= RULES.deadline / 5 and set(queries) == {"query:USER_PAYING"}
    assert driver.calls[-1] == "reverse:DONE"
    assert driver.now >= RULES.deadline  # cancelled at the deadline, not sooner
    assert sim.balance(wallet) == 10_000


def test_the_customer_confirms_in_time(sim: RunningSim, adapter: AlipayNetwork) -> None:
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(adapter, sim, _request(sim, wallet, "WAIT_PASSWORD_SUCCESS", seconds=10))
    leg = driver.run()
    assert leg.status is LegStatus.APPROVED and leg.transaction_id
    assert driver.calls[0] == "pay" and driver.calls[-1] == "query:PAID"
    assert sim.balance(wallet) == 10_000 - AMOUNT


def test_the_customer_gives_up(sim: RunningSim, adapter: AlipayNetwork) -> None:
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(adapter, sim, _request(sim, wallet, "WAIT_PASSWORD_FAIL", seconds=6))
    leg = driver.run()
    assert leg.status is LegStatus.DECLINED and leg.result_code == "12"
    assert driver.calls[-1] == "query:CLOSED"
    assert sim.balance(wallet) == 10_000


def test_a_lost_reply_is_queried_and_approved_once(sim: RunningSim) -> None:
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = _request(sim, wallet, "CHARGED_NO_REPLY")

    def charged() -> None:
        # The network charges while it holds the reply; on a busy machine that may come
        # after the adapter gave up: wait for the network's books, not for a time.
        deadline = time.monotonic() + 60
        while sim.balance(wallet) == 10_000:
            assert time.monotonic() < deadline, "never charged"
            time.sleep(0.1)

    with network(sim.url + "/gateway.do", pay=2) as impatient:
        driver = _driver(impatient, sim, request)
        driver.after_pay = charged
        leg = driver.run()
    assert leg.status is LegStatus.APPROVED and driver.calls[:2] == ["pay", "query:PAID"]
    assert sim.balance(wallet) == 10_000 - AMOUNT  # charged once


def test_a_cancel_asked_again_at_once(sim: RunningSim, adapter: AlipayNetwork) -> None:
    """Approved, then the terminal reverses it: Alipay takes the cancel at once (no wait),
    asks for it again (retry_flag=Y), and the second is done."""
    wallet = int(sim.wallet(10_000)["wallet_id"])
    driver = _driver(adapter, sim, _request(sim, wallet, "CANCEL_RETRY"))
    assert driver.run().status is LegStatus.APPROVED
    driver.feed(ReverseRequested(driver.now))
    leg = driver.run()
    assert leg.status is LegStatus.REVERSED
    assert driver.calls[-2:] == ["reverse:AGAIN", "reverse:DONE"]
    assert driver.now < RULES.deadline  # nothing made it wait
    assert sim.balance(wallet) == 10_000
