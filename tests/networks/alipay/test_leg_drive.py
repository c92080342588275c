"""The pieces fit: the pure network leg driven with this adapter and Alipay's own timing
(``LEG_RULES``: a query every few seconds, the cancel at the deadline with no wait of
its own) against the simulator, by a small test-local driver with a fake clock that
moves the simulator's clock along. Not production code: the host's driver journals
each leg before it acts."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from networks.alipay.kit import network, pay_request, shop
from scanpay.networks import (
    FINAL_STATUSES,
    CallPay,
    CallQuery,
    CallReverse,
    Event,
    Leg,
    LegStatus,
    PayAnswered,
    PayRequest,
    QueryAnswered,
    Record,
    ReverseAnswered,
    ReverseRequested,
    Sent,
    Tick,
    due,
    exhausted,
    step,
)
from scanpay.networks.alipay import LEG_RULES as RULES
from scanpay.networks.alipay import AlipayNetwork
from sim.alipay.kit import RunningSim

AMOUNT = 800


@dataclass
class Driver:
    """Runs a leg's actions through the adapter until the leg settles."""

    network: AlipayNetwork
    request: PayRequest
    sim: RunningSim
    leg: Leg
    now: float = 0.0
    calls: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    pending: list[object] = field(default_factory=list)
    after_pay: Callable[[], None] | None = None

    def advance_to(self, at: float) -> None:
        if at > self.now:
            self.sim.clock.advance(at - self.now)
            self.now = at

    def feed(self, event: Event) -> None:
        made = step(self.leg, event, RULES)
        self.leg = made.leg
        self.pending.extend(made.actions)

    def run(self) -> Leg:
        channel, no = self.request.channel, self.request.trade_no
        for _ in range(200):
            if not self.pending:
                at = due(self.leg, RULES)
                if self.leg.status in FINAL_STATUSES or exhausted(self.leg, RULES) or at is None:
                    return self.leg
                self.advance_to(at)
                self.feed(Tick(self.now))
                continue
            action = self.pending.pop(0)
            if isinstance(action, Record):
                self.records.append(action)
            elif isinstance(action, CallPay):
                self.calls.append("pay")
                answer = self.network.pay(self.request)
                if self.after_pay is not None:
                    self.after_pay()
                self.feed(PayAnswered(self.now, answer))
            elif isinstance(action, CallQuery):
                self.advance_to(action.at)
                found = self.network.query(channel, no)
                self.calls.append(f"query:{found.state.value}")
                self.feed(QueryAnswered(self.now, found))
            elif isinstance(action, CallReverse):
                self.advance_to(action.at)
                done = self.network.reverse(channel, no)
                self.calls.append(f"reverse:{done.outcome.value}")
                self.feed(ReverseAnswered(self.now, done))
        raise AssertionError(f"the leg did not settle: {self.leg}")


def _driver(adapter: AlipayNetwork, sim: RunningSim, request: PayRequest) -> Driver:
    driver = Driver(adapter, request, sim, Leg(request.trade_no, "alipay", request.amount))
    driver.feed(Sent(driver.now))
    return driver


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
