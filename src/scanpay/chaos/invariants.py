"""The exactly-once invariants of DESIGN.md, as pure checks over collected facts.

The chaos harness (:mod:`scanpay.chaos.harness`) gathers what every party
says once the run has settled - each terminal's journal, the host's payments
and refunds, the customers' side of every ledger entry, the day's settlement -
into one :class:`Facts`, and :func:`check_all` judges it. Nothing here does
I/O or reads a clock, so every rule is unit-tested with hand-made facts
(``tests/chaos/test_invariants.py``).

The money of one sale is followed from three independent places, so that a
bug in one of them cannot hide itself:

- the terminal's journal: what the cashier was shown (APPROVED, DECLINED...);
- the ledger, seen from the customer's wallet (:class:`Movement`): what left
  and came back to the customer;
- the settlement (:class:`SettledLine`), computed from the merchant's
  clearing account: what the merchant is paid for.

All facts concern one merchant: a trade number (``out_trade_no``) names one
sale (the host keys payments on merchant and trade number; each terminal's
numbers carry its own id).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "CAPTURED_STATES",
    "FINAL_STATES",
    "UNPAID_STATES",
    "Facts",
    "HostPayment",
    "HostRefund",
    "InvariantResult",
    "MoveKind",
    "Movement",
    "SettledLine",
    "TerminalRefund",
    "TerminalSale",
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

CAPTURED_STATES = frozenset({"APPROVED", "PARTIALLY_REFUNDED", "REFUNDED"})
"""Terminal states in which the cashier saw the money taken (refunds may follow)."""
UNPAID_STATES = frozenset({"DECLINED", "CANCELLED", "REVERSED"})
"""Terminal states in which the cashier saw the sale fail: no money may stay moved."""
FINAL_STATES = CAPTURED_STATES | UNPAID_STATES

# The host's payment status that matches each captured terminal state.
_HOST_STATUS = {
    "APPROVED": "SUCCESS",
    "PARTIALLY_REFUNDED": "PARTIALLY_REFUNDED",
    "REFUNDED": "REFUNDED",
}
# Host statuses under which no money stays with the merchant.
_HOST_UNPAID = frozenset({"FAILED", "REVERSED"})
_REFUND_SETTLED = frozenset({"SUCCESS", "FAILED"})

#: At most this many violations are kept per invariant (the count is exact).
MAX_SHOWN = 20


class MoveKind(StrEnum):
    """What a ledger entry did to the customer's money for one payment."""

    CAPTURE = "capture"
    """The payment took the amount from the wallet."""
    RETURN = "return"
    """A reversal gave a captured amount back."""
    REFUND = "refund"
    """A refund gave (part of) it back."""


@dataclass(frozen=True, slots=True)
class TerminalSale:
    """A sale as a terminal's journal shows it."""

    terminal_id: str
    out_trade_no: str
    state: str
    amount: int
    refunded_amount: int = 0
    submitted: bool = False
    """The payment was (journaled as) sent: the host may have seen it."""


@dataclass(frozen=True, slots=True)
class TerminalRefund:
    """A refund as a terminal's journal shows it (PENDING, UNKNOWN, SUCCESS, FAILED)."""

    terminal_id: str
    out_refund_no: str
    out_trade_no: str
    state: str
    amount: int


@dataclass(frozen=True, slots=True)
class HostPayment:
    """A payment row of the host (a tombstone left by an early reversal included)."""

    terminal_id: str
    out_trade_no: str
    status: str
    amount: int
    refunded_amount: int = 0


@dataclass(frozen=True, slots=True)
class HostRefund:
    """A refund row of the host (SUCCESS, or a stored refusal: FAILED)."""

    out_refund_no: str
    out_trade_no: str
    status: str
    amount: int


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger entry of a payment, as the customer's wallet saw it (``amount`` > 0)."""

    out_trade_no: str
    kind: MoveKind
    amount: int
    out_refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class SettledLine:
    """One line of a settlement: ``payment``, ``refund`` or ``reversal`` (``amount`` > 0)."""

    out_trade_no: str
    kind: str
    amount: int
    out_refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the invariants look at, gathered after every terminal has recovered."""

    sales: Sequence[TerminalSale] = ()
    refunds: Sequence[TerminalRefund] = ()
    reversals_waiting: Sequence[str] = ()
    """Reversals no host has acknowledged yet (``terminal/out_trade_no``)."""
    payments: Sequence[HostPayment] = ()
    host_refunds: Sequence[HostRefund] = ()
    movements: Sequence[Movement] = ()
    settled: Sequence[SettledLine] = ()
    wallets_opened: int = 0
    """What the customers' wallets were loaded with, in all."""
    wallets_now: Mapping[str, int] = field(default_factory=dict)
    """Each customer wallet's balance now."""
    ledger_entries: int = 0
    ledger_problems: Sequence[str] = ()
    """What the host's own ledger check found (sums, balances = postings, negatives)."""
    chains_checked: int = 0
    chain_problems: Sequence[str] = ()
    """Broken hash chains: the terminals' journals and the host's audit trail."""


@dataclass(frozen=True, slots=True)
class InvariantResult:
    """One invariant's verdict: how many things it checked and what broke it."""

    name: str
    description: str
    checked: int
    violations: tuple[str, ...] = ()
    violation_count: int = 0

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "ok": self.ok,
            "checked": self.checked,
            "violations": self.violation_count,
            "examples": list(self.violations),
        }


def _result(name: str, description: str, checked: int, found: list[str]) -> InvariantResult:
    return InvariantResult(name, description, checked, tuple(found[:MAX_SHOWN]), len(found))


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


def _expected_net(sale: TerminalSale) -> int:
    """What the terminal says the customer paid in the end."""
    return sale.amount - sale.refunded_amount if sale.state in CAPTURED_STATES else 0


def _name(sale: TerminalSale) -> str:
    return f"{sale.terminal_id}/{sale.out_trade_no} {sale.state}"


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
            found.append(f"{_name(sale)}: captured {len(m.captures)} times")
        elif m.captures[0] != sale.amount:
            found.append(f"{_name(sale)}: captured {m.captures[0]}, the sale is {sale.amount}")
        if m.returns:
            found.append(f"{_name(sale)}: reversed in the ledger ({sum(m.returns)} returned)")
        if m.net != _expected_net(sale):
            found.append(
                f"{_name(sale)}: the customer paid {m.net} net, the terminal says "
                f"{_expected_net(sale)}"
            )
    return _result(
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
            found.append(f"{_name(sale)}: the customer is out {m.net}")
    return _result(
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
    return _result(
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
            found.append(f"{_name(sale)}: not settled")
    for refund in facts.refunds:
        if refund.state not in _REFUND_SETTLED:
            found.append(f"{refund.terminal_id}/{refund.out_refund_no} refund {refund.state}")
    found.extend(f"{item}: reversal not acknowledged" for item in facts.reversals_waiting)
    for p in facts.payments:
        if p.status == "USER_PAYING":
            found.append(f"{p.terminal_id}/{p.out_trade_no}: still USER_PAYING on the host")
    return _result(
        "nothing_in_doubt",
        "no sale, refund or reversal is left in doubt after recovery",
        len(facts.sales) + len(facts.refunds) + len(facts.payments),
        found,
    )


def ledger_balances(facts: Facts) -> InvariantResult:
    """The host's ledger check: every entry and book sums to zero, every balance equals
    its postings, no guarded account is negative."""
    return _result(
        "ledger_balances",
        "the ledger sums to zero and every balance equals its postings (ledger check)",
        facts.ledger_entries,
        list(facts.ledger_problems),
    )


def no_negative_balance(facts: Facts) -> InvariantResult:
    """No customer's wallet is below zero."""
    found = [f"wallet {a}: {b}" for a, b in sorted(facts.wallets_now.items()) if b < 0]
    return _result(
        "no_negative_balance",
        "no customer balance is negative",
        len(facts.wallets_now),
        found,
    )


def customers_lost_what_terminals_show(facts: Facts) -> InvariantResult:
    """What all customers are out of pocket equals what the terminals say they paid
    (sales shown captured, less their refunds): end to end, wallet to receipt."""
    shown = sum(_expected_net(s) for s in facts.sales)
    lost = facts.wallets_opened - sum(facts.wallets_now.values())
    found = [] if lost == shown else [f"customers are out {lost}, terminals show {shown}"]
    return _result(
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
            found.append(f"{_name(sale)}: the host has it from {p.terminal_id}")
        if sale.state in CAPTURED_STATES:
            if p is None:
                found.append(f"{_name(sale)}: the host has no such payment")
            elif p.status != _HOST_STATUS[sale.state]:
                found.append(f"{_name(sale)}: the host says {p.status}")
            elif p.amount != sale.amount or p.refunded_amount != sale.refunded_amount:
                found.append(
                    f"{_name(sale)}: amount {sale.amount} refunded {sale.refunded_amount}, "
                    f"the host has {p.amount} refunded {p.refunded_amount}"
                )
        elif not sale.submitted:
            if p is not None:
                found.append(f"{_name(sale)}: never sent, but the host has it ({p.status})")
        elif p is not None and p.status not in _HOST_UNPAID:
            found.append(f"{_name(sale)}: the host says {p.status}")
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
                f"{_name(sale)}: refunded {sale.refunded_amount}, its refunds sum to "
                f"{refunded[sale.out_trade_no]}"
            )
    return _result(
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
        if net != _expected_net(sale):
            found.append(f"{_name(sale)}: settled {net}, the terminal shows {_expected_net(sale)}")
    known = {s.out_trade_no for s in facts.sales}
    found.extend(
        f"{no}: settled, but no terminal knows the sale" for no in sorted(set(lines) - known)
    )
    return _result(
        "settlement_agrees",
        "the day's settlement matches the ledger and the journals line for line",
        len(facts.settled),
        found,
    )


def journals_intact(facts: Facts) -> InvariantResult:
    """Every terminal journal's hash chain and the host's audit chain verify."""
    return _result(
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


def check_all(facts: Facts) -> list[InvariantResult]:
    """Every invariant, in the order of the report."""
    return [check(facts) for check in _ALL]
