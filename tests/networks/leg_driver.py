"""A small test-local driver of the pure network leg (``scanpay.networks.leg.step``)
through an adapter against a simulator, on a fake clock that moves the simulator's
clock along (so a customer's password delay runs on the same time). Not production
code: the host's driver journals each leg before it acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from scanpay.networks import (
    FINAL_STATUSES,
    CallPay,
    CallQuery,
    CallReverse,
    Event,
    Leg,
    LegRules,
    Network,
    PayAnswered,
    PayRequest,
    QueryAnswered,
    Record,
    ReverseAnswered,
    Sent,
    Tick,
    due,
    exhausted,
    step,
)

__all__ = ["Driver", "driving"]


class _Clock(Protocol):
    def advance(self, seconds: float) -> None: ...


@dataclass
class Driver:
    """Runs a leg's actions through the adapter until the leg settles; ``calls`` names
    each call and its answer (``pay``, ``query:STATE``, ``reverse:OUTCOME``)."""

    network: Network
    request: PayRequest
    rules: LegRules
    sim_clock: _Clock
    leg: Leg
    now: float = 0.0
    calls: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    pending: list[object] = field(default_factory=list)
    after_pay: Callable[[], None] | None = None
    """Run once after the pay call (a test's wait for the network to have done its part)."""

    def advance_to(self, at: float) -> None:
        if at > self.now:
            self.sim_clock.advance(at - self.now)
            self.now = at

    def feed(self, event: Event) -> None:
        made = step(self.leg, event, self.rules)
        self.leg = made.leg
        self.pending.extend(made.actions)

    def run(self) -> Leg:
        channel, no, rules = self.request.channel, self.request.trade_no, self.rules
        for _ in range(200):
            if not self.pending:
                at = due(self.leg, rules)
                if self.leg.status in FINAL_STATUSES or exhausted(self.leg, rules) or at is None:
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


def driving(network: Network, request: PayRequest, rules: LegRules, sim_clock: _Clock) -> Driver:
    """A driver of a new leg for ``request``, sent (its pay call the first action)."""
    leg = Leg(request.trade_no, network.name, request.amount)
    driver = Driver(network, request, rules, sim_clock, leg)
    driver.feed(Sent(driver.now))
    return driver
