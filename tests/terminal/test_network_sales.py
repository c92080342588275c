"""Sales paid with WeChat Pay codes through the whole chain (issue 16): the terminal
agent -> the host (SQLite and PostgreSQL) -> the WeChat Pay simulator, one sale for
every outcome the simulator lets a test choose.

Each sale is checked in the three places money is written, once all three are done:

- the terminal's journal: the sale's final state and the host's result code and status,
  the states it went through (never a reversal of its own), an intact hash chain;
- the host: the payment, its network leg (``network_legs``) and the ledger (balanced;
  for an approval, WeChat Pay's clearing account owing the amount, once);
- the simulator's own accounts: the customer's wallet, the merchant's balance, the
  order of the host's trade number (the payment's ``public_id``), and its books
  balanced (``GET /sim/accounts``).

Every clock is real and the host drives its legs by itself (``network_kit``); the
tests wait for states, never for a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanpay.host.services import ledger
from scanpay.networks.leg import LegStatus
from scanpay.terminal.sale import SaleState, agrees_with_host
from terminal.network_kit import (
    AMOUNT,
    BACKENDS,
    NetworkHost,
    Till,
    network_host,
    open_till,
)

BALANCE = 100_000


@pytest.fixture(scope="module", params=BACKENDS)
def host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NetworkHost]:
    with network_host(
        tmp_path_factory.mktemp(f"network-{request.param}"), request.param
    ) as running:
        yield running
        accounts = running.sim.accounts()
        assert accounts["balanced"], accounts


@pytest.fixture
def till(host: NetworkHost, tmp_path: Path) -> Iterator[Till]:
    with open_till(host, tmp_path, BALANCE) as opened:
        yield opened


@dataclass(frozen=True)
class Case:
    """One outcome chosen at the network, and where the sale must end."""

    outcome: str | None
    seconds: float | None
    terminal: SaleState
    code: str
    """The result code: the host's payment's, and the terminal's sale's."""
    status: str
    """The host's payment status."""
    reason: str | None
    leg: LegStatus
    order: str | None
    """The simulator's order state (None: the network made no order)."""
    charged: bool
    waited: bool
    """The terminal showed the sale waiting (USER_PAYING) on its way."""
    queried: bool
    """The host asked the network about the payment (else the pay call's answer did)."""
    reached: bool = True
    """The network read the code and its wallet (the order names the wallet)."""


CASES = [
    Case(None, None, SaleState.APPROVED, "00", "SUCCESS", None, LegStatus.APPROVED,
         "SUCCESS", charged=True, waited=False, queried=False),
    Case("NOTENOUGH", None, SaleState.DECLINED, "51", "FAILED", "wechat_pay:NOTENOUGH",
         LegStatus.DECLINED, "PAYERROR", charged=False, waited=False, queried=False),
    # The code is spent before any order is made: the network has no trace of the trade.
    Case("AUTHCODEEXPIRE", None, SaleState.DECLINED, "54", "FAILED",
         "wechat_pay:AUTHCODEEXPIRE", LegStatus.DECLINED, None, charged=False, waited=False,
         queried=False),
    Case("USERPAYING_SUCCESS", 3, SaleState.APPROVED, "00", "SUCCESS", None, LegStatus.APPROVED,
         "SUCCESS", charged=True, waited=True, queried=True),
    Case("USERPAYING_FAIL", 3, SaleState.DECLINED, "05", "FAILED", "wechat_pay:PAYERROR",
         LegStatus.DECLINED, "PAYERROR", charged=False, waited=True, queried=True),
    # The customer never confirms: the host's deadline fails the payment, and its reverse
    # closes the order at the network, which can then never be paid.
    Case("USERPAYING_NEVER", None, SaleState.DECLINED, "12", "FAILED", "network_timeout",
         LegStatus.REVERSED, "CLOSED", charged=False, waited=True, queried=True),
    # In doubt, never a decline: queried (the order is NOTPAY, still payable) until the
    # deadline, whose reverse closes it; no money moved.
    Case("SYSTEMERROR", None, SaleState.DECLINED, "12", "FAILED", "network_timeout",
         LegStatus.REVERSED, "CLOSED", charged=False, waited=True, queried=True, reached=False),
    # The network charged, its reply never came: the host's pay call times out, its query
    # finds the trade paid; approved once.
    Case("CHARGED_NO_REPLY", 60, SaleState.APPROVED, "00", "SUCCESS", None, LegStatus.APPROVED,
         "SUCCESS", charged=True, waited=True, queried=True),
    # A reply 2 s late is within the host's pay call's timeout: the pay call approves.
    Case("SLOW", 2, SaleState.APPROVED, "00", "SUCCESS", None, LegStatus.APPROVED, "SUCCESS",
         charged=True, waited=False, queried=False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.outcome or "approved" for c in CASES])
def test_a_sale_ends_alike_on_the_terminal_the_host_and_the_network(till: Till, case: Case) -> None:
    host = till.host
    owed = host.network_owes()

    no = till.sell(till.code(case.outcome, case.seconds))
    sale = till.settled(no)
    payment = till.payment(no)
    record, leg = till.settled_leg(payment)

    # The terminal's journal: the host's word, reached without a reversal of its own.
    assert (sale.state, payment.status, payment.code) == (case.terminal, case.status, case.code)
    assert sale.result is not None
    assert (sale.result.code, sale.result.status) == (payment.code, payment.status)
    assert agrees_with_host(sale, payment.status)
    assert sale.payment_id == payment.public_id
    states = [e.to_state for e in till.events(no)]
    assert (SaleState.USER_PAYING.value in states) is case.waited, states
    assert SaleState.REVERSING.value not in states, states
    assert till.agent.agent.journal.verify_chain() is None

    # The host: the payment, its leg at the network, the ledger.
    assert (payment.network, payment.amount, payment.reason) == ("wechat_pay", AMOUNT, case.reason)
    assert (leg.status, record.status) == (case.leg, case.leg)
    assert leg.trade_no == record.trade_no == payment.public_id
    assert (leg.queries >= 1) is case.queried, leg
    if case.leg is LegStatus.REVERSED:
        assert leg.reverse_tries >= 1
    report = ledger.check(host.ctx)
    assert report.ok, report.to_dict()
    assert host.network_owes() == owed + (AMOUNT if case.charged else 0)

    # The network's own accounts.
    assert till.wallet_balance() == BALANCE - (AMOUNT if case.charged else 0)
    assert till.merchant_balance() == (AMOUNT if case.charged else 0)
    orders = till.orders(payment.public_id)
    if case.order is None:
        assert orders == []
    else:
        [order] = orders
        assert (order["state"], order["total"], order["wallet_id"]) == (
            case.order,
            AMOUNT,
            till.wallet_id if case.reached else None,
        )
    accounts = host.sim.accounts()
    assert accounts["balanced"], accounts


def test_a_payment_the_network_failed_is_not_called_a_time_out(till: Till) -> None:
    """The customer's payment fails at WeChat Pay 3 s into the password step (cancelled,
    or refused by the bank): the sale is declined, and the cashier must not be told that
    the customer ran out of time (the customer may retry at once with the same wallet)."""
    no = till.sell(till.code("USERPAYING_FAIL", 3))
    sale = till.settled(no)
    payment = till.payment(no)
    _, leg = till.settled_leg(payment)
    assert (sale.state, leg.status, payment.reason) == (
        SaleState.DECLINED,
        LegStatus.DECLINED,
        "wechat_pay:PAYERROR",
    )
    assert leg.finished_at is not None and leg.sent_at is not None
    assert leg.finished_at - leg.sent_at < till.host.ctx.leg_rules.deadline  # not timed out
    view = till.agent.get(no)
    assert not sale.customer_timed_out, (
        "the terminal took the host's code 12 for a network decline (wechat_pay:PAYERROR) "
        f"as the customer's time-out: screen {view['screen']['id']!r}, "
        f"{view['screen']['message']['en']!r}"
    )
    assert view["screen"]["id"] == "declined"


def test_the_terminal_waits_for_the_hosts_answer_to_a_pay_call_the_network_never_answers(
    till: Till,
) -> None:
    """The host answers a payment only once its pay call to the network is over, which
    may take the adapter's whole pay timeout: a terminal that gives up on its send
    sooner turns every slow network into a sale in doubt (UNKNOWN, then queries)."""
    no = till.sell(till.code("CHARGED_NO_REPLY", 60))
    sale = till.settled(no)
    assert sale.state == SaleState.APPROVED  # recovered by its queries all the same
    [send] = [e for e in till.events(no) if e.from_state == SaleState.SUBMITTED.value]
    waited = till.agent.agent.config.request_timeout
    assert send.event == "payment_replied", (
        f"the terminal gave up on its send after {waited} s ({send.detail}), while the "
        f"host's pay call to WeChat Pay may take {till.host.pay_timeout()} s before the "
        "host answers"
    )
