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

A sale paid with a payment network's code (WeChat Pay) is followed the same way
on the host's side - its capture takes the money from the network's clearing
account instead of a wallet - and, through :class:`NetworkFacts`, on the
network's side too: the host's journaled legs, the network's own orders and its
statement of the day, the customers' wallets and the merchant's balance there,
and the network's own books. The network knows a sale by the host's trade
number for it (the payment's id, one per payment request), not the terminal's.
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
    "HostLeg",
    "HostPayment",
    "HostRefund",
    "InvariantResult",
    "MoveKind",
    "Movement",
    "NetworkFacts",
    "NetworkOrder",
    "NetworkStatementLine",
    "SettledLine",
    "TerminalRefund",
    "TerminalSale",
    "charged_once",
    "check_all",
    "customers_lost_what_terminals_show",
    "journal_and_host_agree",
    "journals_intact",
    "ledger_balances",
    "network_agrees",
    "network_books_balance",
    "network_charged_once",
    "network_nothing_pending",
    "network_unpaid_moved_nothing",
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
    network: str | None = None
    """The payment network it was routed to (None: the built-in wallet)."""


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
class HostLeg:
    """A network leg the host journaled (``network_legs``): which sale, which trade number."""

    out_trade_no: str
    """The sale's (terminal's) trade number."""
    trade_no: str
    """The trade number the network knows it by."""
    status: str
    """PENDING, SENT, USER_PAYING, UNKNOWN, REVERSING; final: APPROVED, DECLINED, REVERSED."""
    amount: int


@dataclass(frozen=True, slots=True)
class NetworkOrder:
    """An order in the network's own books (the simulator's ``GET /sim/orders``)."""

    trade_no: str
    state: str
    """SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR."""
    total: int
    refunded: int = 0
    wallet: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkStatementLine:
    """A line of the network's statement (bill) of a day: ``payment`` or ``refund``."""

    trade_no: str
    kind: str
    amount: int
    refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """What the payment network says, and what of the host and the run concerns it."""

    network: str
    sales: frozenset[str] = frozenset()
    """The sales (terminal trade numbers) the customers paid with this network's codes."""
    legs: Sequence[HostLeg] = ()
    orders: Sequence[NetworkOrder] = ()
    statement: Sequence[NetworkStatementLine] = ()
    statement_problems: Sequence[str] = ()
    """Days whose statement the network did not give (the lines are then incomplete)."""
    wallets_opened: int = 0
    """What the run loaded the customers' wallets at the network with, in all."""
    wallets_now: Mapping[str, int] = field(default_factory=dict)
    merchant_received: int = 0
    """The merchant's balance at the network (the run's merchant starts at zero)."""
    books_balanced: bool = True
    """The network's own check: every unit funded is in a wallet or with a merchant."""
    books: Mapping[str, int] = field(default_factory=dict)


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
    network: NetworkFacts | None = None
    """The payment network's side, when the run paid some sales through one."""


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
    (sales shown captured, less their refunds): end to end, wallet to receipt. Sales
    paid with a network's codes are left to :func:`network_books_balance`."""
    network = facts.network.sales if facts.network is not None else frozenset()
    # A network's customers pay from their wallets at the network (network_books_balance).
    shown = sum(_expected_net(s) for s in facts.sales if s.out_trade_no not in network)
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


# ------------------------------------------------------------------- the network's side

# Orders under which the customer's money is with the merchant (less refunds).
_ORDER_PAID = frozenset({"SUCCESS", "REFUND"})
# Orders that end with nothing moved: reversed after payment, closed unpaid, failed.
_ORDER_UNPAID = frozenset({"REVOKED", "CLOSED", "PAYERROR"})
# Orders the network still holds open: waiting for the password, stopped at an error.
_ORDER_PENDING = frozenset({"NOTPAY", "USERPAYING"})
_LEG_FINAL = frozenset({"APPROVED", "DECLINED", "REVERSED"})
# What the host's payment may be, and the network's order, once its leg ended so.
_LEG_HOST = {
    "APPROVED": frozenset({"SUCCESS"}),
    # A terminal that never heard the decline reverses the failed payment: REVERSED,
    # nothing moved either way (the leg, already final, ignores the reverse).
    "DECLINED": frozenset({"FAILED", "REVERSED"}),
    "REVERSED": frozenset({"FAILED", "REVERSED"}),
}
_LEG_ORDER = {
    "APPROVED": _ORDER_PAID,
    "DECLINED": frozenset({"PAYERROR", "CLOSED"}),
    "REVERSED": frozenset({"REVOKED", "CLOSED"}),
}


def _order_net(order: NetworkOrder) -> int:
    """What the network moved from the customer to the merchant for ``order``, net."""
    if order.state in _ORDER_PAID or order.state == "REVOKED":
        return order.total - order.refunded
    return 0


@dataclass
class _Network:
    """The network's facts indexed by sale and by the network's trade number."""

    facts: NetworkFacts
    legs_by_sale: dict[str, list[HostLeg]] = field(default_factory=lambda: defaultdict(list))
    legs_by_trade: dict[str, list[HostLeg]] = field(default_factory=lambda: defaultdict(list))
    orders: dict[str, list[NetworkOrder]] = field(default_factory=lambda: defaultdict(list))
    paid_lines: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    refund_lines: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, facts: NetworkFacts) -> _Network:
        view = cls(facts)
        for leg in facts.legs:
            view.legs_by_sale[leg.out_trade_no].append(leg)
            view.legs_by_trade[leg.trade_no].append(leg)
        for order in facts.orders:
            view.orders[order.trade_no].append(order)
        for line in facts.statement:
            lines = view.paid_lines if line.kind == "payment" else view.refund_lines
            lines[line.trade_no].append(line.amount)
        return view

    def sale_orders(self, out_trade_no: str) -> list[NetworkOrder]:
        legs = self.legs_by_sale.get(out_trade_no, [])
        return [o for leg in legs for o in self.orders.get(leg.trade_no, [])]

    def stated(self, out_trade_no: str) -> tuple[list[int], int]:
        """The statement's payment lines of the sale, and its net (payments - refunds)."""
        paid: list[int] = []
        back = 0
        for leg in self.legs_by_sale.get(out_trade_no, []):
            paid.extend(self.paid_lines.get(leg.trade_no, []))
            back += sum(self.refund_lines.get(leg.trade_no, []))
        return paid, sum(paid) - back


def _skipped(name: str, description: str) -> InvariantResult:
    return _result(name, description, 0, [])


def network_charged_once(facts: Facts) -> InvariantResult:
    """Every sale paid with a network's code that a terminal shows APPROVED was paid
    exactly once at the network: one leg, one paid order of its amount, the money
    moved once, one payment line on the network's statement."""
    name, text = (
        "network_charged_once",
        "every network sale shown APPROVED is one paid order of its amount at the network",
    )
    if facts.network is None:
        return _skipped(name, text)
    net = _Network.of(facts.network)
    found: list[str] = []
    checked = 0
    for sale in facts.sales:
        if sale.out_trade_no not in net.facts.sales or sale.state not in CAPTURED_STATES:
            continue
        checked += 1
        legs = net.legs_by_sale.get(sale.out_trade_no, [])
        if not legs:
            found.append(f"{_name(sale)}: the host has no network leg for it")
            continue
        orders = net.sale_orders(sale.out_trade_no)
        paid = [o for o in orders if o.state in _ORDER_PAID]
        if len(paid) != 1:
            found.append(f"{_name(sale)}: {len(paid)} paid orders at the network")
        elif paid[0].total != sale.amount:
            found.append(f"{_name(sale)}: paid {paid[0].total} at the network, sold {sale.amount}")
        moved = sum(_order_net(o) for o in orders)
        if moved != _expected_net(sale):
            found.append(
                f"{_name(sale)}: the network moved {moved}, the terminal shows "
                f"{_expected_net(sale)}"
            )
        if not net.facts.statement_problems:
            lines, stated = net.stated(sale.out_trade_no)
            if lines != [sale.amount] or stated != _expected_net(sale):
                found.append(
                    f"{_name(sale)}: the network's statement has payments {lines}, net {stated}"
                )
    return _result(name, text, checked, found)


def network_unpaid_moved_nothing(facts: Facts) -> InvariantResult:
    """Every sale paid with a network's code that a terminal shows DECLINED, CANCELLED or
    REVERSED moved no money at the network once the reverses ran: each of its orders is
    closed, revoked or failed (or there is none), and the statement nets it to zero."""
    name, text = (
        "network_unpaid_moved_nothing",
        "every network sale shown DECLINED, CANCELLED or REVERSED moved no money there",
    )
    if facts.network is None:
        return _skipped(name, text)
    net = _Network.of(facts.network)
    found: list[str] = []
    checked = 0
    for sale in facts.sales:
        if sale.out_trade_no not in net.facts.sales or sale.state not in UNPAID_STATES:
            continue
        checked += 1
        orders = net.sale_orders(sale.out_trade_no)
        for order in orders:
            refunded_all = order.state == "REFUND" and order.refunded == order.total
            if order.state not in _ORDER_UNPAID and not refunded_all:
                found.append(f"{_name(sale)}: order {order.trade_no} {order.state} at the network")
        moved = sum(_order_net(o) for o in orders)
        if moved:
            found.append(f"{_name(sale)}: the network kept {moved}")
        if not net.facts.statement_problems:
            _, stated = net.stated(sale.out_trade_no)
            if stated:
                found.append(f"{_name(sale)}: the network's statement nets {stated}")
    return _result(name, text, checked, found)


def network_nothing_pending(facts: Facts) -> InvariantResult:
    """After recovery every network leg the host journaled is final, no payment routed to
    the network still waits (USER_PAYING), and the network holds no order open."""
    name, text = (
        "network_nothing_pending",
        "every network leg is final, no routed payment or network order left open",
    )
    if facts.network is None:
        return _skipped(name, text)
    found: list[str] = []
    for leg in facts.network.legs:
        if leg.status not in _LEG_FINAL:
            found.append(f"{leg.out_trade_no} ({leg.trade_no}): leg still {leg.status}")
    for p in facts.payments:
        if p.network is not None and p.status == "USER_PAYING":
            found.append(f"{p.terminal_id}/{p.out_trade_no}: routed payment still USER_PAYING")
    for order in facts.network.orders:
        if order.state in _ORDER_PENDING:
            found.append(f"order {order.trade_no}: {order.state} at the network")
    checked = len(facts.network.legs) + len(facts.network.orders)
    return _result(name, text, checked, found)


def network_agrees(facts: Facts) -> InvariantResult:
    """One-to-one: every payment the host routed has one leg; each leg's end, the host's
    payment and the network's order say the same (trade number, amount, state); every
    order at the network and every line of its statement is a leg's; the statement's
    lines are the orders' money; only sales paid with the network's codes reach it."""
    name, text = (
        "network_agrees",
        "host payments and legs, network orders and statement agree one-to-one",
    )
    if facts.network is None:
        return _skipped(name, text)
    net = _Network.of(facts.network)
    found = [f"statement: {problem}" for problem in net.facts.statement_problems]
    payments = {p.out_trade_no: p for p in facts.payments}
    for p in facts.payments:
        if p.network is not None and len(net.legs_by_sale.get(p.out_trade_no, [])) != 1:
            n = len(net.legs_by_sale.get(p.out_trade_no, []))
            found.append(f"{p.terminal_id}/{p.out_trade_no}: routed, with {n} network legs")
    for leg in net.facts.legs:
        where = f"{leg.out_trade_no} ({leg.trade_no})"
        if leg.out_trade_no not in net.facts.sales:
            found.append(f"{where}: reached the network, not paid with the network's code")
        if len(net.legs_by_trade[leg.trade_no]) > 1:
            found.append(f"{where}: the trade number names several legs")
        paying = payments.get(leg.out_trade_no)
        if paying is None or paying.network is None:
            found.append(f"{where}: a leg for a payment the host did not route")
        elif paying.amount != leg.amount:
            found.append(f"{where}: leg amount {leg.amount}, payment {paying.amount}")
        elif leg.status in _LEG_HOST and paying.status not in _LEG_HOST[leg.status]:
            found.append(f"{where}: leg {leg.status}, the host's payment {paying.status}")
        orders = net.orders.get(leg.trade_no, [])
        if len(orders) > 1:
            found.append(f"{where}: {len(orders)} orders at the network")
        order = orders[0] if orders else None
        if order is None:
            if leg.status == "APPROVED":
                found.append(f"{where}: approved, but the network has no order")
        else:
            if order.total != leg.amount:
                found.append(f"{where}: the network's order is for {order.total}")
            if leg.status in _LEG_ORDER and order.state not in _LEG_ORDER[leg.status]:
                found.append(f"{where}: leg {leg.status}, the network's order {order.state}")
        if net.facts.statement_problems:
            continue
        paid = sorted(net.paid_lines.get(leg.trade_no, []))
        back = sum(net.refund_lines.get(leg.trade_no, []))
        ever_paid = order is not None and (order.state in _ORDER_PAID or order.state == "REVOKED")
        want = [order.total] if order is not None and ever_paid else []
        want_back = order.refunded if order is not None and ever_paid else 0
        if paid != want or back != want_back:
            found.append(
                f"{where}: the statement has payments {paid} refunds {back}, the order "
                f"{want} refunded {want_back}"
            )
    for trade_no in sorted(set(net.orders) - set(net.legs_by_trade)):
        found.append(f"order {trade_no}: at the network, the host has no leg for it")
    stated = set(net.paid_lines) | set(net.refund_lines)
    for trade_no in sorted(stated - set(net.orders)):
        found.append(f"statement line for {trade_no}: the network has no such order")
    checked = len(net.facts.legs) + len(net.facts.orders) + len(net.facts.statement)
    return _result(name, text, checked, found)


def network_books_balance(facts: Facts) -> InvariantResult:
    """The network's books balance (its own check), no customer's wallet there is
    negative, and what its customers lost and its merchant received is exactly what the
    terminals show as paid with its codes."""
    name, text = (
        "network_books_balance",
        "the network's books balance; its wallets lost, its merchant got, what was shown",
    )
    if facts.network is None:
        return _skipped(name, text)
    net = facts.network
    found: list[str] = []
    if not net.books_balanced:
        found.append(f"the network's books do not balance: {dict(net.books)}")
    found.extend(
        f"wallet {w} at the network: {b}" for w, b in sorted(net.wallets_now.items()) if b < 0
    )
    shown = sum(_expected_net(s) for s in facts.sales if s.out_trade_no in net.sales)
    lost = net.wallets_opened - sum(net.wallets_now.values())
    if lost != shown:
        found.append(f"the network's customers are out {lost}, terminals show {shown}")
    if net.merchant_received != shown:
        found.append(
            f"the merchant got {net.merchant_received} at the network, terminals show {shown}"
        )
    return _result(name, text, len(net.wallets_now) + 1, found)


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
    network_books_balance,
)


def check_all(facts: Facts) -> list[InvariantResult]:
    """Every invariant, in the order of the report (the network's when it has facts)."""
    checks = _ALL + (_NETWORK if facts.network is not None else ())
    return [check(facts) for check in checks]
