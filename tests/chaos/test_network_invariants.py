"""The network's invariants: each holds on a consistent world and catches its breach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from scanpay.chaos.facts import (
    Facts,
    HostLeg,
    HostPayment,
    HostRefund,
    InvariantResult,
    MoveKind,
    Movement,
    NetworkFacts,
    NetworkOrder,
    NetworkRefund,
    NetworkStatementLine,
    ReconciledBreak,
    ReconciledRun,
    SettledLine,
    TerminalRefund,
    TerminalSale,
)
from scanpay.chaos.invariants import check_all, customers_lost_what_terminals_show
from scanpay.chaos.network_invariants import (
    network_agrees,
    network_books_balance,
    network_charged_once,
    network_day_reconciles,
    network_nothing_pending,
    network_refunds_once,
    network_unpaid_moved_nothing,
)

T = "T000001"
WX = "wechat_pay"
DAY = "2026-12-08"
CAP, RET, REF = MoveKind.CAPTURE, MoveKind.RETURN, MoveKind.REFUND


def world() -> Facts:
    """Six sales on one terminal, every party agreeing:

    W1 approved 1000 through the network (trade P1 paid); W2 declined by the network
    (P2 PAYERROR); W3 approved then reversed by the terminal (P3 paid, then revoked);
    W4 in doubt past the deadline, reversed by the leg (P4 closed unpaid); W5
    cancelled before it was sent; B1 approved 250 from a built-in wallet. The host's
    reconciliation of the day matched the statement's two trades (P1 paid, P3 revoked).
    """
    sales = [
        TerminalSale(T, "W1", "APPROVED", 1000, 0, True),
        TerminalSale(T, "W2", "DECLINED", 400, 0, True),
        TerminalSale(T, "W3", "REVERSED", 300, 0, True),
        TerminalSale(T, "W4", "DECLINED", 200, 0, True),
        TerminalSale(T, "W5", "CANCELLED", 900, 0, False),
        TerminalSale(T, "B1", "APPROVED", 250, 0, True),
    ]
    payments = [
        HostPayment(T, "W1", "SUCCESS", 1000, 0, WX),
        HostPayment(T, "W2", "FAILED", 400, 0, WX),
        HostPayment(T, "W3", "REVERSED", 300, 0, WX),
        HostPayment(T, "W4", "FAILED", 200, 0, WX),
        HostPayment(T, "B1", "SUCCESS", 250),
    ]
    movements = [
        Movement("W1", CAP, 1000),
        Movement("W3", CAP, 300),
        Movement("W3", RET, 300),
        Movement("B1", CAP, 250),
    ]
    settled = [
        SettledLine("W1", "payment", 1000),
        SettledLine("W3", "payment", 300),
        SettledLine("W3", "reversal", 300),
        SettledLine("B1", "payment", 250),
    ]
    network = NetworkFacts(
        network=WX,
        sales=frozenset({"W1", "W2", "W3", "W4", "W5"}),
        legs=[
            HostLeg("W1", "P1", "APPROVED", 1000),
            HostLeg("W2", "P2", "DECLINED", 400),
            HostLeg("W3", "P3", "REVERSED", 300),
            HostLeg("W4", "P4", "REVERSED", 200),
        ],
        orders=[
            NetworkOrder("P1", "SUCCESS", 1000, 0, "1"),
            NetworkOrder("P2", "PAYERROR", 400, 0, "2"),
            NetworkOrder("P3", "REVOKED", 300, 300, "1"),
            NetworkOrder("P4", "CLOSED", 200, 0, "1"),
        ],
        statement=[
            NetworkStatementLine("P1", "payment", 1000),
            NetworkStatementLine("P3", "payment", 300),
            NetworkStatementLine("P3", "refund", 300, "REVERSE4200"),
        ],
        wallets_opened=20_100,
        wallets_now={"1": 19_000, "2": 100},
        merchant_received=1000,
        books_balanced=True,
        books={"funded": 20_100, "wallets": 19_100, "merchants": 1000},
        reconciled=[ReconciledRun(DAY, "M000001", "done", None, matched=2, lines=3)],
    )
    return Facts(
        sales=sales,
        payments=payments,
        movements=movements,
        settled=settled,
        wallets_opened=5_000,
        wallets_now={"A": 4_750},  # B1 only: the network's sales paid at the network
        ledger_entries=4,
        chains_checked=30,
        networks=(network,),
    )


def _n(facts: Facts) -> NetworkFacts:
    assert facts.networks
    return facts.networks[0]


def _net(facts: Facts, **changes: object) -> Facts:
    return replace(facts, networks=(replace(_n(facts), **changes),))


def test_the_consistent_world_keeps_every_invariant() -> None:
    results = check_all(world())
    assert [r.name for r in results if not r.ok] == []
    network = {r.name: r for r in results if r.name.startswith("network_")}
    assert set(network) == {
        "network_charged_once",
        "network_unpaid_moved_nothing",
        "network_nothing_pending",
        "network_agrees",
        "network_refunds_once",
        "network_books_balance",
        "network_day_reconciles",
    }
    assert network["network_charged_once"].checked == 1
    assert network["network_day_reconciles"].checked == 1 + 3  # the run and its lines
    assert network["network_unpaid_moved_nothing"].checked == 4
    assert all(r.checked > 0 for r in network.values() if r.name != "network_refunds_once")
    # No refund in that world: the reverse's own refund of P3 is not one.
    assert network["network_refunds_once"].checked == 0


def test_without_a_network_its_invariants_are_not_judged() -> None:
    facts = replace(world(), networks=())
    names = {r.name for r in check_all(facts)}
    assert not any(n.startswith("network_") for n in names)
    assert network_charged_once(facts).checked == 0


def test_the_built_in_wallets_answer_only_for_built_in_sales() -> None:
    assert customers_lost_what_terminals_show(world()).ok
    # Without the network's facts W1's 1000 would be owed by the built-in wallets.
    broken = customers_lost_what_terminals_show(replace(world(), networks=()))
    assert not broken.ok and "terminals show 1250" in broken.violations[0]


def test_a_declined_payment_the_terminal_reversed_after_is_no_disagreement() -> None:
    """The terminal never heard W2's decline and reversed it: the host's payment is
    REVERSED, the leg stays DECLINED (final; it ignores the reverse), nothing moved."""
    facts = world()
    payments = [
        replace(p, status="REVERSED") if p.out_trade_no == "W2" else p for p in facts.payments
    ]
    facts = replace(facts, payments=payments)
    assert network_agrees(facts).ok
    # An approved leg whose payment the host calls reversed is still one.
    assert not network_agrees(_legs(facts, "P2", status="APPROVED")).ok


def test_a_reverse_of_an_order_that_had_failed_is_no_disagreement() -> None:
    """Alipay keeps an order whose buyer's password failed as failed when the host's
    cancel comes after (its deadline passed with the queries' answers lost): the leg
    REVERSED, the order PAYERROR, nothing moved. A paid one is still a disagreement."""
    facts = world()
    [order] = [o for o in _n(facts).orders if o.trade_no == "P2"]
    assert order.state == "PAYERROR"
    assert network_agrees(_legs(facts, "P2", status="REVERSED")).ok
    paid = _orders(_legs(facts, "P2", status="REVERSED"), "P2", state="SUCCESS")
    assert not network_agrees(paid).ok


def _orders(facts: Facts, trade_no: str, **changes: object) -> Facts:
    orders = [replace(o, **changes) if o.trade_no == trade_no else o for o in _n(facts).orders]
    return _net(facts, orders=orders)


def _legs(facts: Facts, trade_no: str, **changes: object) -> Facts:
    legs = [replace(g, **changes) if g.trade_no == trade_no else g for g in _n(facts).legs]
    return _net(facts, legs=legs)


def _charged_twice(f: Facts) -> Facts:
    """W1 paid again under a second trade number (a retry the host did not dedupe)."""
    return _net(
        f,
        legs=[*_n(f).legs, HostLeg("W1", "P1b", "APPROVED", 1000)],
        orders=[*_n(f).orders, NetworkOrder("P1b", "SUCCESS", 1000)],
        statement=[*_n(f).statement, NetworkStatementLine("P1b", "payment", 1000)],
    )


def _without_statement_line(f: Facts) -> Facts:
    return _net(f, statement=[s for s in _n(f).statement if s.trade_no != "P1"])


def _unknown_order(f: Facts) -> Facts:
    return _net(f, orders=[*_n(f).orders, NetworkOrder("PX", "CLOSED", 10)])


def _leg_of_a_built_in_sale(f: Facts) -> Facts:
    return _net(f, legs=[*_n(f).legs, HostLeg("B1", "PB", "DECLINED", 250)])


def _still_user_paying(f: Facts) -> Facts:
    payments = [
        replace(p, status="USER_PAYING") if p.out_trade_no == "W4" else p for p in f.payments
    ]
    return replace(f, payments=payments)


BREACHES: dict[str, tuple[Callable[[Facts], Facts], Callable[[Facts], InvariantResult], str]] = {
    "paid twice at the network": (_charged_twice, network_charged_once, "2 paid orders"),
    "paid another amount": (
        lambda f: _orders(f, "P1", total=999),
        network_charged_once,
        "paid 999 at the network",
    ),
    "approved, never paid at the network": (
        lambda f: _orders(f, "P1", state="CLOSED"),
        network_charged_once,
        "0 paid orders",
    ),
    "approved without a leg": (
        lambda f: _net(f, legs=[g for g in _n(f).legs if g.trade_no != "P1"]),
        network_charged_once,
        "no network leg",
    ),
    "the statement lacks the payment": (
        _without_statement_line,
        network_charged_once,
        "statement has payments []",
    ),
    "declined, the network kept it": (
        lambda f: _orders(f, "P2", state="SUCCESS"),
        network_unpaid_moved_nothing,
        "P2 SUCCESS at the network",
    ),
    "reversed, nothing given back": (
        lambda f: _orders(f, "P3", refunded=0),
        network_unpaid_moved_nothing,
        "the network kept 300",
    ),
    "reversed, the statement shows no refund": (
        lambda f: _net(f, statement=[s for s in _n(f).statement if s.kind != "refund"]),
        network_unpaid_moved_nothing,
        "statement nets 300",
    ),
    "a leg left reversing": (
        lambda f: _legs(f, "P4", status="REVERSING"),
        network_nothing_pending,
        "leg still REVERSING",
    ),
    "an order left open at the network": (
        lambda f: _orders(f, "P4", state="NOTPAY"),
        network_nothing_pending,
        "P4: NOTPAY",
    ),
    "a routed payment still waiting": (
        _still_user_paying,
        network_nothing_pending,
        "routed payment still USER_PAYING",
    ),
    "an order the host has no leg for": (_unknown_order, network_agrees, "host has no leg"),
    "a built-in sale at the network": (
        _leg_of_a_built_in_sale,
        network_agrees,
        "not paid with the network's code",
    ),
    "leg and host payment disagree": (
        lambda f: _legs(f, "P1", status="REVERSED"),
        network_agrees,
        "leg REVERSED, the host's payment SUCCESS",
    ),
    "leg and order disagree": (
        lambda f: _orders(f, "P2", state="REVOKED", refunded=400),
        network_agrees,
        "leg DECLINED, the network's order REVOKED",
    ),
    "a statement line for no order": (
        lambda f: _net(
            f,
            statement=[*_n(f).statement, NetworkStatementLine("PZ", "payment", 5)],
        ),
        network_agrees,
        "no such order",
    ),
    "a day without its statement": (
        lambda f: _net(f, statement_problems=["2026-12-07: no statement (no answer)"]),
        network_agrees,
        "no statement",
    ),
    "the network's books off": (
        lambda f: _net(f, books_balanced=False),
        network_books_balance,
        "do not balance",
    ),
    "customers out more than shown": (
        lambda f: _net(f, wallets_now={"1": 18_900, "2": 100}),
        network_books_balance,
        "customers are out 1100, terminals show 1000",
    ),
    "the merchant got less": (
        lambda f: _net(f, merchant_received=700),
        network_books_balance,
        "the merchant got 700",
    ),
}


# Every kind of break the host's reconciliation names (host/domain/reconciliation.py).
BREAK_KINDS = (
    "network_only",
    "host_only",
    "amount_mismatch",
    "currency_mismatch",
    "refund_network_only",
    "refund_host_only",
    "refund_amount_mismatch",
    "duplicate_line",
    "unknown_status",
)


def _runs(f: Facts, *runs: ReconciledRun) -> Facts:
    return _net(f, reconciled=list(runs))


@pytest.mark.parametrize("kind", BREAK_KINDS)
def test_each_kind_of_break_fails_the_day(kind: str) -> None:
    broken = ReconciledRun(
        DAY,
        "M000001",
        "done",
        None,
        matched=1,
        lines=3,
        breaks=[ReconciledBreak(kind, "P3", "as the matcher said")],
    )
    result = network_day_reconciles(_runs(world(), broken))
    assert not result.ok
    assert result.violations == (f"{WX}: {DAY} M000001: {kind} break on P3: as the matcher said",)
    assert not all(r.ok for r in check_all(_runs(world(), broken)))


def test_every_break_of_every_day_is_counted() -> None:
    clean = ReconciledRun(DAY, "M000001", "done", None, matched=2, lines=2)
    late = ReconciledRun(
        "2026-12-09",
        "M000001",
        "done",
        None,
        matched=0,
        lines=2,
        breaks=[ReconciledBreak("host_only", "P5"), ReconciledBreak("network_only", "P6")],
    )
    result = network_day_reconciles(_runs(world(), clean, late))
    assert result.violation_count == 2
    assert result.violations == (
        f"{WX}: 2026-12-09 M000001: host_only break on P5",
        f"{WX}: 2026-12-09 M000001: network_only break on P6",
    )
    assert result.checked == 2 + 4
    assert network_day_reconciles(_runs(world(), clean, replace(late, breaks=[]))).ok


def test_a_statement_not_ready_fails_the_day_with_its_reason() -> None:
    waiting = ReconciledRun(DAY, "M000001", "statement_not_ready", "NO_STATEMENT_EXIST")
    result = network_day_reconciles(_runs(world(), waiting))
    assert not result.ok
    assert result.violations == (f"{WX}: {DAY} M000001: statement_not_ready (NO_STATEMENT_EXIST)",)
    # No reason given is still a failure, and says so.
    bare = network_day_reconciles(_runs(world(), replace(waiting, network_code=None)))
    assert bare.violations == (f"{WX}: {DAY} M000001: statement_not_ready (no reason given)",)


def test_network_sales_never_reconciled_fail_the_day() -> None:
    result = network_day_reconciles(_runs(world()))
    assert not result.ok
    assert "were not reconciled" in result.violations[0]
    # A run with no sales through the network has nothing to reconcile.
    quiet = _net(world(), sales=frozenset(), reconciled=[])
    assert network_day_reconciles(quiet).ok
    assert network_day_reconciles(replace(world(), networks=())).checked == 0


@pytest.mark.parametrize("breach", sorted(BREACHES))
def test_each_breach_is_caught(breach: str) -> None:
    change, check, words = BREACHES[breach]
    assert check(world()).ok
    result = check(change(world()))
    assert not result.ok, breach
    assert any(words in v for v in result.violations), result.violations
    assert not all(r.ok for r in check_all(change(world())))


# ------------------------------------------------------------------ refunds at the network


def refunded_world() -> Facts:
    """The world, and W6: approved 800 through the network (P6), 300 of it refunded back
    through the network under the host refund's id R1, then 500 more asked and refused
    there (R2, FAILED at the host, nothing at the network). The network also holds P3's
    reverse's own refund, which no host refund names."""
    f = world()
    n = _n(f)
    return replace(
        f,
        sales=[*f.sales, TerminalSale(T, "W6", "PARTIALLY_REFUNDED", 800, 300, True)],
        refunds=[
            TerminalRefund(T, "RF6a", "W6", "SUCCESS", 300),
            TerminalRefund(T, "RF6b", "W6", "FAILED", 500),
        ],
        payments=[*f.payments, HostPayment(T, "W6", "PARTIALLY_REFUNDED", 800, 300, WX)],
        host_refunds=[
            HostRefund("RF6a", "W6", "SUCCESS", 300, "R1", WX, "P6"),
            HostRefund("RF6b", "W6", "FAILED", 500, "R2", WX, "P6"),
        ],
        movements=[*f.movements, Movement("W6", CAP, 800), Movement("W6", REF, 300, "RF6a")],
        settled=[
            *f.settled,
            SettledLine("W6", "payment", 800),
            SettledLine("W6", "refund", 300, "RF6a"),
        ],
        networks=(
            replace(
                n,
                sales=n.sales | {"W6"},
                legs=[*n.legs, HostLeg("W6", "P6", "APPROVED", 800)],
                orders=[*n.orders, NetworkOrder("P6", "REFUND", 800, 300, "1")],
                refunds=[
                    NetworkRefund("P3", "REVERSE4200", 300, "SUCCESS", reverse=True),
                    NetworkRefund("P6", "R1", 300, "SUCCESS"),
                ],
                statement=[
                    *n.statement,
                    NetworkStatementLine("P6", "payment", 800),
                    NetworkStatementLine("P6", "refund", 300, "R1"),
                ],
                wallets_now={"1": 18_500, "2": 100},
                merchant_received=1500,
                books={"funded": 20_100, "wallets": 18_600, "merchants": 1500},
                reconciled=[ReconciledRun(DAY, "M000001", "done", None, matched=3, lines=5)],
            ),
        ),
    )


def test_refunds_back_through_the_network_keep_every_invariant() -> None:
    results = {r.name: r for r in check_all(refunded_world())}
    assert [n for n, r in results.items() if not r.ok] == []
    # Two host refunds of the network's payment, one refund taken there.
    assert results["network_refunds_once"].checked == 2 + 1


def _host_refunds(f: Facts, refund_id: str, **changes: object) -> Facts:
    return replace(
        f,
        host_refunds=[
            replace(r, **changes) if r.refund_id == refund_id else r for r in f.host_refunds
        ],
    )


def _network_refunds(f: Facts, *refunds: NetworkRefund) -> Facts:
    return _net(f, refunds=[*_n(f).refunds, *refunds])


REFUND_BREACHES: dict[str, tuple[Callable[[Facts], Facts], str]] = {
    "a refund taken twice under its number": (
        lambda f: _network_refunds(f, NetworkRefund("P6", "R1", 300, "SUCCESS")),
        "refund R1 (W6/RF6a): SUCCESS at the host, taken 2 times at the network",
    ),
    "a refund taken again under another number": (
        lambda f: _network_refunds(f, NetworkRefund("P6", "RX", 300, "SUCCESS")),
        "refund RX of P6: 300 taken at the network, the host has no such refund",
    ),
    "a refund paid by the host, missing at the network": (
        lambda f: _net(f, refunds=[r for r in _n(f).refunds if r.refund_no != "R1"]),
        "refund R1 (W6/RF6a): SUCCESS at the host, taken 0 times at the network",
    ),
    "a refund refused by the host, taken at the network": (
        lambda f: _network_refunds(f, NetworkRefund("P6", "R2", 500, "SUCCESS")),
        "refund R2 (W6/RF6b): FAILED at the host, 500 taken at the network",
    ),
    "another amount at the network": (
        lambda f: _net(f, refunds=[replace(r, amount=299) for r in _n(f).refunds]),
        "refund R1 (W6/RF6a): 300 at the host, 299 at the network",
    ),
    "of another trade at the network": (
        lambda f: _net(
            f,
            refunds=[
                replace(r, trade_no="P1") if r.refund_no == "R1" else r for r in _n(f).refunds
            ],
        ),
        "refund R1 (W6/RF6a): of P6 at the host, of P1 at the network",
    ),
    "still processing at the network": (
        lambda f: _net(
            f,
            refunds=[
                replace(r, status="PROCESSING") if r.refund_no == "R1" else r for r in _n(f).refunds
            ],
        ),
        "refund R1 (W6/RF6a): SUCCESS at the host, PROCESSING at the network",
    ),
    "still processing at the host": (
        lambda f: _host_refunds(f, "R2", status="PROCESSING"),
        "refund R2 (W6/RF6b): still PROCESSING at the host after the sweepers drained",
    ),
}


@pytest.mark.parametrize("breach", sorted(REFUND_BREACHES))
def test_each_refund_breach_is_caught(breach: str) -> None:
    change, words = REFUND_BREACHES[breach]
    assert network_refunds_once(refunded_world()).ok
    result = network_refunds_once(change(refunded_world()))
    assert not result.ok, breach
    # Each violation is named by its network.
    assert f"{WX}: {words}" in result.violations, result.violations


def test_the_built_in_wallets_refunds_are_not_the_networks() -> None:
    """A refund of a built-in wallet's payment has no network: not looked for there."""
    facts = refunded_world()
    facts = replace(
        facts, host_refunds=[*facts.host_refunds, HostRefund("RB1", "B1", "SUCCESS", 50, "R9")]
    )
    result = network_refunds_once(facts)
    assert result.ok and result.checked == 3


# ------------------------------------------------------------------ two networks at once


def _alipay_side() -> NetworkFacts:
    """An Alipay side of the same run: A1 approved 500 through Alipay (trade Q1), 200 of
    it refunded there under the host refund's id R5."""
    return NetworkFacts(
        network="alipay",
        sales=frozenset({"A1"}),
        legs=[HostLeg("A1", "Q1", "APPROVED", 500, "alipay")],
        orders=[NetworkOrder("Q1", "REFUND", 500, 200, "7")],
        refunds=[NetworkRefund("Q1", "R5", 200, "SUCCESS")],
        statement=[
            NetworkStatementLine("Q1", "payment", 500),
            NetworkStatementLine("Q1", "refund", 200, "R5"),
        ],
        wallets_opened=10_000,
        wallets_now={"7": 9_700},
        merchant_received=300,
        books={"funded": 10_000, "wallets": 9_700, "merchants": 300},
        reconciled=[ReconciledRun(DAY, "M000001", "done", None, matched=2, lines=2)],
    )


def two_networks() -> Facts:
    """The refunded world through WeChat Pay, and A1 through Alipay beside it."""
    f = refunded_world()
    return replace(
        f,
        sales=[*f.sales, TerminalSale(T, "A1", "PARTIALLY_REFUNDED", 500, 200, True)],
        refunds=[*f.refunds, TerminalRefund(T, "RA1", "A1", "SUCCESS", 200)],
        payments=[*f.payments, HostPayment(T, "A1", "PARTIALLY_REFUNDED", 500, 200, "alipay")],
        host_refunds=[
            *f.host_refunds,
            HostRefund("RA1", "A1", "SUCCESS", 200, "R5", "alipay", "Q1"),
        ],
        movements=[*f.movements, Movement("A1", CAP, 500), Movement("A1", REF, 200, "RA1")],
        settled=[
            *f.settled,
            SettledLine("A1", "payment", 500),
            SettledLine("A1", "refund", 200, "RA1"),
        ],
        networks=(_n(f), _alipay_side()),
    )


def test_each_network_is_judged_on_its_own_facts() -> None:
    results = {r.name: r for r in check_all(two_networks())}
    assert [n for n, r in results.items() if not r.ok] == []
    # Each network's refunds are looked for at that network only.
    assert results["network_refunds_once"].checked == (2 + 1) + (1 + 1)
    assert results["network_charged_once"].checked == 2 + 1


def _alipay(f: Facts, **changes: object) -> Facts:
    wechat, alipay = f.networks
    return replace(f, networks=(wechat, replace(alipay, **changes)))


@pytest.mark.parametrize(
    ("change", "check", "words"),
    [
        (
            lambda f: _alipay(f, refunds=[]),
            network_refunds_once,
            "alipay: refund R5 (A1/RA1): SUCCESS at the host, taken 0 times at the network",
        ),
        (
            lambda f: _alipay(f, merchant_received=500),
            network_books_balance,
            "alipay: the merchant got 500 at the network, terminals show 300",
        ),
        (
            # A WeChat Pay leg of an Alipay payment: routed elsewhere.
            lambda f: replace(
                f,
                networks=(
                    replace(_n(f), legs=[*_n(f).legs, HostLeg("A1", "Q1", "APPROVED", 500)]),
                    f.networks[1],
                ),
            ),
            network_agrees,
            "wechat_pay: A1 (Q1): a leg for a payment the host did not route here",
        ),
    ],
)
def test_a_breach_at_one_network_is_named_by_it(
    change: Callable[[Facts], Facts], check: Callable[[Facts], InvariantResult], words: str
) -> None:
    assert check(two_networks()).ok
    result = check(change(two_networks()))
    assert words in result.violations, result.violations
