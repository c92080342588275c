"""The exactly-once invariants of DESIGN.md, as pure checks over collected facts.

The chaos harness (:mod:`scanpay.chaos.harness`) gathers what every party
says once the run has settled - each terminal's journal, the host's payments
and refunds, the customers' side of every ledger entry, the day's settlement -
into one :class:`~scanpay.chaos.facts.Facts` (the facts and what they mean:
:mod:`scanpay.chaos.facts`), and :func:`check_all` judges it: the invariants
here, then the network's (:mod:`scanpay.chaos.network_invariants`) when the run
paid through one. Nothing here does I/O or reads a clock, so every rule is
unit-tested with hand-made facts (``tests/chaos/test_invariants.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanpay.chaos.facts import (
    CAPTURED_STATES,
    FINAL_STATES,
    UNPAID_STATES,
    Facts,
    InvariantResult,
    MoveKind,
    Movement,
    expected_net,
    sale_name,
    verdict,
)
from scanpay.chaos.network_invariants import (
    network_agrees,
    network_books_balance,
    network_charged_once,
    network_day_reconciles,
    network_nothing_pending,
    network_refunds_once,
    network_unpaid_moved_nothing,
)

__all__ = [
    "charged_once",
    "check_all",
    "customers_lost_what_terminals_show",
    "journal_and_host_agree",
    "journals_intact",
    "ledger_balances",
    "no_double_charge",
    "no_negative_balance",
    "nothing_in_doubt",
    "settlement_agrees",
    "unpaid_moved_nothing",
]

# The host's payment status that matches each captured terminal state.
_HOST_STATUS = {
    "APPROVED": "SUCCESS",
    "PARTIALLY_REFUNDED": "PARTIALLY_REFUNDED",
    "REFUNDED": "REFUNDED",
}
# Host statuses under which no money stays with the merchant.
_HOST_UNPAID = frozenset({"FAILED", "REVERSED"})
_REFUND_SETTLED = frozenset({"SUCCESS", "FAILED"})


# ----------------------------------------------------------------------------- helpers


@dataclass
class _Money:
    """One payment's movements, summed by kind."""

    captures: list[int] = field(default_factory=list)
    returns: list[int] = field(default_factory=list)
    refunds: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def net(self) -> int:
        """What the customer is out of pocket for this payment."""
        back = sum(self.returns) + sum(sum(v) for v in self.refunds.values())
        return sum(self.captures) - back


def _by_payment(movements: Iterable[Movement]) -> dict[str, _Money]:
    money: dict[str, _Money] = defaultdict(_Money)
    for m in movements:
        entry = money[m.out_trade_no]
        if m.kind is MoveKind.CAPTURE:
            entry.captures.append(m.amount)
        elif m.kind is MoveKind.RETURN:
            entry.returns.append(m.amount)
        else:
            entry.refunds[m.out_refund_no or "?"].append(m.amount)
    return money


# ---------------------------------------------------------------------------- invariants


def charged_once(facts: Facts) -> InvariantResult:
    """Every sale a terminal shows APPROVED (refunded since or not) was captured exactly
    once, for its amount, never reversed, and its refunds are the ledger's refunds."""
    money = _by_payment(facts.movements)
    found: list[str] = []
    checked = 0
    for sale in facts.sales:
        if sale.state not in CAPTURED_STATES:
            continue
        checked += 1
        m = money.get(sale.out_trade_no, _Money())
        if len(m.captures) != 1:
            found.append(f"{sale_name(sale)}: captured {len(m.captures)} times")
        elif m.captures[0] != sale.amount:
            found.append(f"{sale_name(sale)}: captured {m.captures[0]}, the sale is {sale.amount}")
        if m.returns:
            found.append(f"{sale_name(sale)}: reversed in the ledger ({sum(m.returns)} returned)")
        if m.net != expected_net(sale):
            found.append(
                f"{sale_name(sale)}: the customer paid {m.net} net, the terminal says "
                f"{expected_net(sale)}"
            )
    return verdict(
        "charged_once",
        "every sale shown APPROVED is captured exactly once in the ledger",
        checked,
        found,
    )


def unpaid_moved_nothing(facts: Facts) -> InvariantResult:
    """Every sale a terminal shows DECLINED, CANCELLED or REVERSED left the customer
    where they were: whatever was captured was given back."""
    money = _by_payment(facts.movements)
    found: list[str] = []
    checked = 0
    for sale in facts.sales:
        if sale.state not in UNPAID_STATES:
            continue
        checked += 1
        m = money.get(sale.out_trade_no)
        if m is not None and m.net != 0:
            found.append(f"{sale_name(sale)}: the customer is out {m.net}")
    return verdict(
        "unpaid_moved_nothing",
        "every sale shown DECLINED, CANCELLED or REVERSED moved no money (net)",
        checked,
        found,
    )


def no_double_charge(facts: Facts) -> InvariantResult:
    """No payment is captured twice or returned twice, no refund is paid twice, and no
    money moves for a trade number that no terminal knows."""
    money = _by_payment(facts.movements)
    known = {s.out_trade_no for s in facts.sales}
    found: list[str] = []
    for no, m in sorted(money.items()):
        if len(m.captures) > 1:
            found.append(f"{no}: captured {len(m.captures)} times")
        if len(m.returns) > len(m.captures):
            found.append(f"{no}: returned {len(m.returns)} times, captured {len(m.captures)}")
        for refund_no, paid in sorted(m.refunds.items()):
            if len(paid) > 1:
                found.append(f"{no}: refund {refund_no} paid {len(paid)} times")
        if m.net < 0:
            found.append(f"{no}: the customer got back {-m.net} more than was taken")
        if no not in known:
            found.append(f"{no}: money moved ({m.net} net) for a sale no terminal knows")
    return verdict(
        "no_double_charge",
        "no payment is captured or given back twice; no money moves without a sale",
        len(money),
        found,
    )


def nothing_in_doubt(facts: Facts) -> InvariantResult:
    """After recovery every sale and refund is settled, every reversal acknowledged, and
    the host has no payment still waiting for a PIN."""
    found: list[str] = []
    for sale in facts.sales:
        if sale.state not in FINAL_STATES:
            found.append(f"{sale_name(sale)}: not settled")
    for refund in facts.refunds:
        if refund.state not in _REFUND_SETTLED:
            found.append(f"{refund.terminal_id}/{refund.out_refund_no} refund {refund.state}")
    found.extend(f"{item}: reversal not acknowledged" for item in facts.reversals_waiting)
    for p in facts.payments:
        if p.status == "USER_PAYING":
            found.append(f"{p.terminal_id}/{p.out_trade_no}: still USER_PAYING on the host")
    return verdict(
        "nothing_in_doubt",
        "no sale, refund or reversal is left in doubt after recovery",
        len(facts.sales) + len(facts.refunds) + len(facts.payments),
        found,
    )


def ledger_balances(facts: Facts) -> InvariantResult:
    """The host's ledger check: every entry and book sums to zero, every balance equals
    its postings, no guarded account is negative."""
    return verdict(
        "ledger_balances",
        "the ledger sums to zero and every balance equals its postings (ledger check)",
        facts.ledger_entries,
        list(facts.ledger_problems),
    )


def no_negative_balance(facts: Facts) -> InvariantResult:
    """No customer's wallet is below zero."""
    found = [f"wallet {a}: {b}" for a, b in sorted(facts.wallets_now.items()) if b < 0]
    return verdict(
        "no_negative_balance",
        "no customer balance is negative",
        len(facts.wallets_now),
        found,
    )


def customers_lost_what_terminals_show(facts: Facts) -> InvariantResult:
    """What all customers are out of pocket equals what the terminals say they paid
    (sales shown captured, less their refunds): end to end, wallet to receipt. Sales
    paid with a network's codes are left to :func:`network_books_balance`."""
    network = facts.network_sales
    # A network's customers pay from their wallets at the network (network_books_balance).
    shown = sum(expected_net(s) for s in facts.sales if s.out_trade_no not in network)
    lost = facts.wallets_opened - sum(facts.wallets_now.values())
    found = [] if lost == shown else [f"customers are out {lost}, terminals show {shown}"]
    return verdict(
        "customers_paid_what_was_shown",
        "the customers' wallets lost exactly what the terminals show as paid",
        len(facts.wallets_now),
        found,
    )


def journal_and_host_agree(facts: Facts) -> InvariantResult:
    """One-to-one: every sale the host may have seen has the host's matching payment
    (or none, for a failed one), every host payment has its terminal's sale, and every
    refund is the same on both sides."""
    found: list[str] = []
    host = {p.out_trade_no: p for p in facts.payments}
    sales = {s.out_trade_no: s for s in facts.sales}
    for sale in facts.sales:
        p = host.get(sale.out_trade_no)
        if p is not None and p.terminal_id != sale.terminal_id:
            found.append(f"{sale_name(sale)}: the host has it from {p.terminal_id}")
        if sale.state in CAPTURED_STATES:
            if p is None:
                found.append(f"{sale_name(sale)}: the host has no such payment")
            elif p.status != _HOST_STATUS[sale.state]:
                found.append(f"{sale_name(sale)}: the host says {p.status}")
            elif p.amount != sale.amount or p.refunded_amount != sale.refunded_amount:
                found.append(
                    f"{sale_name(sale)}: amount {sale.amount} refunded {sale.refunded_amount}, "
                    f"the host has {p.amount} refunded {p.refunded_amount}"
                )
        elif not sale.submitted:
            if p is not None:
                found.append(f"{sale_name(sale)}: never sent, but the host has it ({p.status})")
        elif p is not None and p.status not in _HOST_UNPAID:
            found.append(f"{sale_name(sale)}: the host says {p.status}")
    for p in facts.payments:
        if p.out_trade_no not in sales:
            found.append(f"{p.terminal_id}/{p.out_trade_no}: host {p.status}, no terminal sale")
    # Refunds, both ways, and the journal's own sum per sale.
    host_refunds = {r.out_refund_no: r for r in facts.host_refunds}
    terminal_refunds = {r.out_refund_no: r for r in facts.refunds}
    refunded: Counter[str] = Counter()
    for r in facts.refunds:
        h = host_refunds.get(r.out_refund_no)
        if r.state == "SUCCESS":
            refunded[r.out_trade_no] += r.amount
            if h is None or h.status != "SUCCESS" or h.amount != r.amount:
                seen = "nothing" if h is None else f"{h.status} {h.amount}"
                found.append(f"refund {r.out_refund_no} {r.amount}: the host has {seen}")
        elif r.state == "FAILED" and h is not None and h.status == "SUCCESS":
            found.append(f"refund {r.out_refund_no}: FAILED at the terminal, paid by the host")
    for h in facts.host_refunds:
        if h.status == "SUCCESS" and h.out_refund_no not in terminal_refunds:
            found.append(f"refund {h.out_refund_no}: paid by the host, unknown to the terminal")
    for sale in facts.sales:
        if sale.refunded_amount != refunded[sale.out_trade_no]:
            found.append(
                f"{sale_name(sale)}: refunded {sale.refunded_amount}, its refunds sum to "
                f"{refunded[sale.out_trade_no]}"
            )
    return verdict(
        "journals_and_host_agree",
        "terminal journals and host payments and refunds agree one-to-one",
        len(facts.sales) + len(facts.payments) + len(facts.refunds) + len(facts.host_refunds),
        found,
    )


def settlement_agrees(facts: Facts) -> InvariantResult:
    """The day's settlement has one payment line per capture, one reversal line per
    return and one refund line per refund, for the same amounts, and pays the merchant
    for each sale exactly what its terminal shows."""
    found: list[str] = []
    money = _by_payment(facts.movements)
    kinds = {
        "payment": MoveKind.CAPTURE,
        "reversal": MoveKind.RETURN,
        "refund": MoveKind.REFUND,
    }
    as_moves: list[Movement] = []
    for line in facts.settled:
        kind = kinds.get(line.kind)
        if kind is None:
            found.append(f"{line.out_trade_no}: unknown settlement line {line.kind!r}")
        else:
            as_moves.append(Movement(line.out_trade_no, kind, line.amount, line.out_refund_no))
    # The same bookkeeping as the ledger's, so the two can be compared field by field.
    lines = _by_payment(as_moves)
    for no in sorted(set(money) | set(lines)):
        ledger, settled = money.get(no, _Money()), lines.get(no, _Money())
        if sorted(ledger.captures) != sorted(settled.captures):
            found.append(f"{no}: captures {ledger.captures}, settled payments {settled.captures}")
        if sorted(ledger.returns) != sorted(settled.returns):
            found.append(f"{no}: returns {ledger.returns}, settled reversals {settled.returns}")
        if dict(ledger.refunds) != dict(settled.refunds):
            found.append(f"{no}: refunds {dict(ledger.refunds)}, settled {dict(settled.refunds)}")
    for sale in facts.sales:
        net = lines[sale.out_trade_no].net if sale.out_trade_no in lines else 0
        if net != expected_net(sale):
            found.append(
                f"{sale_name(sale)}: settled {net}, the terminal shows {expected_net(sale)}"
            )
    known = {s.out_trade_no for s in facts.sales}
    found.extend(
        f"{no}: settled, but no terminal knows the sale" for no in sorted(set(lines) - known)
    )
    return verdict(
        "settlement_agrees",
        "the day's settlement matches the ledger and the journals line for line",
        len(facts.settled),
        found,
    )


def journals_intact(facts: Facts) -> InvariantResult:
    """Every terminal journal's hash chain and the host's audit chain verify."""
    return verdict(
        "chains_intact",
        "every terminal journal and the host's audit trail verify (hash chains)",
        facts.chains_checked,
        list(facts.chain_problems),
    )


_ALL = (
    charged_once,
    unpaid_moved_nothing,
    no_double_charge,
    nothing_in_doubt,
    ledger_balances,
    no_negative_balance,
    customers_lost_what_terminals_show,
    journal_and_host_agree,
    settlement_agrees,
    journals_intact,
)

_NETWORK = (
    network_charged_once,
    network_unpaid_moved_nothing,
    network_nothing_pending,
    network_agrees,
    network_refunds_once,
    network_books_balance,
    network_day_reconciles,
)


def check_all(facts: Facts) -> list[InvariantResult]:
    """Every invariant, in the order of the report (the network's when it has facts)."""
    checks = _ALL + (_NETWORK if facts.networks else ())
    return [check(facts) for check in checks]
