"""The exactly-once invariants on a payment network's side, as pure checks over facts.

A sale paid with a network's code (WeChat Pay, Alipay) is followed on the host's side by the
invariants of :mod:`scanpay.chaos.invariants` - its capture takes the money from the
network's clearing account instead of a wallet - and here on the network's side,
through :class:`~scanpay.chaos.facts.NetworkFacts`: the host's journaled legs, the
network's own orders and its statement of the day, the customers' wallets and the
merchant's balance there, the network's own books, and the host's own daily
reconciliation of each network day of the run; a refund of it, by the network's refunds
of its trade under the host refund's id. Each network of the run is judged on its own
facts, its violations named by it. The network knows a sale by
the host's trade number for it (the payment's id, one per payment request), not the
terminal's. Each check passes, having checked nothing, when the run had no network;
:func:`~scanpay.chaos.invariants.check_all` runs them only when it had one
(``tests/chaos/test_network_invariants.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from scanpay.chaos.facts import (
    CAPTURED_STATES,
    UNPAID_STATES,
    Facts,
    HostLeg,
    HostRefund,
    InvariantResult,
    NetworkFacts,
    NetworkOrder,
    NetworkRefund,
    expected_net,
    sale_name,
    verdict,
)

__all__ = [
    "network_agrees",
    "network_books_balance",
    "network_charged_once",
    "network_day_reconciles",
    "network_nothing_pending",
    "network_refunds_once",
    "network_unpaid_moved_nothing",
]

# Orders under which the customer's money is with the merchant (less refunds).
_ORDER_PAID = frozenset({"SUCCESS", "REFUND"})
# Orders that end with nothing moved: reversed after payment, closed unpaid, failed.
_ORDER_UNPAID = frozenset({"REVOKED", "CLOSED", "PAYERROR"})
# Orders the network still holds open: waiting for the password, stopped at an error.
_ORDER_PENDING = frozenset({"NOTPAY", "USERPAYING"})
_LEG_FINAL = frozenset({"APPROVED", "DECLINED", "REVERSED"})
# What the host's payment may be, and the network's order, once its leg ended so.
_LEG_HOST = {
    "APPROVED": frozenset({"SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"}),
    # A terminal that never heard the decline reverses the failed payment: REVERSED,
    # nothing moved either way (the leg, already final, ignores the reverse).
    "DECLINED": frozenset({"FAILED", "REVERSED"}),
    "REVERSED": frozenset({"FAILED", "REVERSED"}),
}
_LEG_ORDER = {
    "APPROVED": _ORDER_PAID,
    "DECLINED": frozenset({"PAYERROR", "CLOSED"}),
    # A reverse of an order that had already failed finds nothing to do: WeChat Pay
    # closes it, Alipay keeps it failed (a cancel after the buyer's password failed,
    # sent past the host's deadline when the queries' answers were lost).
    "REVERSED": frozenset({"REVOKED", "CLOSED", "PAYERROR"}),
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


_Check = Callable[[Facts, _Network], tuple[int, list[str]]]


def _judged(name: str, description: str) -> Callable[[_Check], Callable[[Facts], InvariantResult]]:
    """An invariant from ``check(facts, network)`` -> (how many things it checked, the
    violations found), judged for each network of the run in turn (each violation
    named by its network): passed, having checked nothing, when the run had none."""

    def invariant(check: _Check) -> Callable[[Facts], InvariantResult]:
        @wraps(check)
        def judge(facts: Facts) -> InvariantResult:
            checked, found = 0, list[str]()
            for network in facts.networks:
                n, more = check(facts, _Network.of(network))
                checked += n
                found.extend(f"{network.network}: {v}" for v in more)
            return verdict(name, description, checked, found)

        return judge

    return invariant


@_judged(
    "network_charged_once",
    "every network sale shown APPROVED is one paid order of its amount at the network",
)
def network_charged_once(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """Every sale paid with a network's code that a terminal shows APPROVED was paid
    exactly once at the network: one leg, one paid order of its amount, the money
    moved once, one payment line on the network's statement."""
    found: list[str] = []
    checked = 0
    for sale in facts.sales:
        if sale.out_trade_no not in net.facts.sales or sale.state not in CAPTURED_STATES:
            continue
        checked += 1
        legs = net.legs_by_sale.get(sale.out_trade_no, [])
        if not legs:
            found.append(f"{sale_name(sale)}: the host has no network leg for it")
            continue
        orders = net.sale_orders(sale.out_trade_no)
        paid = [o for o in orders if o.state in _ORDER_PAID]
        if len(paid) != 1:
            found.append(f"{sale_name(sale)}: {len(paid)} paid orders at the network")
        elif paid[0].total != sale.amount:
            found.append(
                f"{sale_name(sale)}: paid {paid[0].total} at the network, sold {sale.amount}"
            )
        moved = sum(_order_net(o) for o in orders)
        if moved != expected_net(sale):
            found.append(
                f"{sale_name(sale)}: the network moved {moved}, the terminal shows "
                f"{expected_net(sale)}"
            )
        if not net.facts.statement_problems:
            lines, stated = net.stated(sale.out_trade_no)
            if lines != [sale.amount] or stated != expected_net(sale):
                found.append(
                    f"{sale_name(sale)}: the network's statement has payments {lines}, net {stated}"
                )
    return checked, found


@_judged(
    "network_unpaid_moved_nothing",
    "every network sale shown DECLINED, CANCELLED or REVERSED moved no money there",
)
def network_unpaid_moved_nothing(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """Every sale paid with a network's code that a terminal shows DECLINED, CANCELLED or
    REVERSED moved no money at the network once the reverses ran: each of its orders is
    closed, revoked or failed (or there is none), and the statement nets it to zero."""
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
                found.append(
                    f"{sale_name(sale)}: order {order.trade_no} {order.state} at the network"
                )
        moved = sum(_order_net(o) for o in orders)
        if moved:
            found.append(f"{sale_name(sale)}: the network kept {moved}")
        if not net.facts.statement_problems:
            _, stated = net.stated(sale.out_trade_no)
            if stated:
                found.append(f"{sale_name(sale)}: the network's statement nets {stated}")
    return checked, found


@_judged(
    "network_nothing_pending",
    "every network leg is final, no routed payment or network order left open",
)
def network_nothing_pending(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """After recovery every network leg the host journaled is final, no payment routed to
    the network still waits (USER_PAYING), and the network holds no order open."""
    found: list[str] = []
    for leg in net.facts.legs:
        if leg.status not in _LEG_FINAL:
            found.append(f"{leg.out_trade_no} ({leg.trade_no}): leg still {leg.status}")
    for p in facts.payments:
        if p.network == net.facts.network and p.status == "USER_PAYING":
            found.append(f"{p.terminal_id}/{p.out_trade_no}: routed payment still USER_PAYING")
    for order in net.facts.orders:
        if order.state in _ORDER_PENDING:
            found.append(f"order {order.trade_no}: {order.state} at the network")
    checked = len(net.facts.legs) + len(net.facts.orders)
    return checked, found


@_judged(
    "network_agrees",
    "host payments and legs, network orders and statement agree one-to-one",
)
def network_agrees(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """One-to-one: every payment the host routed has one leg; each leg's end, the host's
    payment and the network's order say the same (trade number, amount, state); every
    order at the network and every line of its statement is a leg's; the statement's
    lines are the orders' money; only sales paid with the network's codes reach it."""
    found = [f"statement: {problem}" for problem in net.facts.statement_problems]
    payments = {p.out_trade_no: p for p in facts.payments}
    for p in facts.payments:
        if p.network == net.facts.network and len(net.legs_by_sale.get(p.out_trade_no, [])) != 1:
            n = len(net.legs_by_sale.get(p.out_trade_no, []))
            found.append(f"{p.terminal_id}/{p.out_trade_no}: routed, with {n} network legs")
    for leg in net.facts.legs:
        where = f"{leg.out_trade_no} ({leg.trade_no})"
        if leg.out_trade_no not in net.facts.sales:
            found.append(f"{where}: reached the network, not paid with the network's code")
        if len(net.legs_by_trade[leg.trade_no]) > 1:
            found.append(f"{where}: the trade number names several legs")
        paying = payments.get(leg.out_trade_no)
        if paying is None or paying.network != net.facts.network:
            found.append(f"{where}: a leg for a payment the host did not route here")
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
    return checked, found


@_judged(
    "network_refunds_once",
    "every refund the host paid of a network payment was taken there once; no other",
)
def network_refunds_once(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """Every refund of a payment routed to the network that the host holds SUCCESS was
    taken exactly once at the network, under its number (the host refund's id), of its
    trade, for its amount, and is SUCCESS there; none the host holds FAILED is at the
    network; none is still PROCESSING at the host once the sweepers drained; and the
    network took no refund of the run's merchant the host does not hold. A reverse's own
    refund at the network is the reverse's (:func:`network_agrees`), not a refund's."""
    taken: dict[str, list[NetworkRefund]] = defaultdict(list)
    for made in net.facts.refunds:
        if not made.reverse:
            taken[made.refund_no].append(made)
    mine = [r for r in facts.host_refunds if r.network == net.facts.network]
    found: list[str] = []
    for refund in mine:
        found.extend(_refund_taken(refund, taken.get(refund.refund_id, [])))
    held = {r.refund_id for r in mine}
    for refund_no, unheld in sorted(taken.items()):
        if refund_no not in held:
            money = sum(m.amount for m in unheld)
            found.append(
                f"refund {refund_no} of {unheld[0].trade_no}: {money} taken at the network, "
                "the host has no such refund"
            )
    return len(mine) + sum(len(m) for m in taken.values()), found


def _refund_taken(refund: HostRefund, taken: list[NetworkRefund]) -> list[str]:
    """What is wrong with the network's refunds under ``refund``'s number, given the
    host's word on it."""
    where = f"refund {refund.refund_id} ({refund.out_trade_no}/{refund.out_refund_no})"
    if refund.status == "FAILED":
        if taken:
            money = sum(m.amount for m in taken)
            return [f"{where}: FAILED at the host, {money} taken at the network"]
        return []
    if refund.status != "SUCCESS":
        return [f"{where}: still {refund.status} at the host after the sweepers drained"]
    if len(taken) != 1:
        return [f"{where}: SUCCESS at the host, taken {len(taken)} times at the network"]
    made = taken[0]
    if made.amount != refund.amount:
        return [f"{where}: {refund.amount} at the host, {made.amount} at the network"]
    if made.trade_no != refund.trade_no:
        return [f"{where}: of {refund.trade_no} at the host, of {made.trade_no} at the network"]
    if made.status != "SUCCESS":
        return [f"{where}: SUCCESS at the host, {made.status} at the network"]
    return []


@_judged(
    "network_books_balance",
    "the network's books balance; its wallets lost, its merchant got, what was shown",
)
def network_books_balance(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """The network's books balance (its own check), no customer's wallet there is
    negative, and what its customers lost and its merchant received is exactly what the
    terminals show as paid with its codes."""
    network = net.facts
    found: list[str] = []
    if not network.books_balanced:
        found.append(f"the network's books do not balance: {dict(network.books)}")
    found.extend(
        f"wallet {w} at the network: {b}" for w, b in sorted(network.wallets_now.items()) if b < 0
    )
    shown = sum(expected_net(s) for s in facts.sales if s.out_trade_no in network.sales)
    lost = network.wallets_opened - sum(network.wallets_now.values())
    if lost != shown:
        found.append(f"the network's customers are out {lost}, terminals show {shown}")
    if network.merchant_received != shown:
        found.append(
            f"the merchant got {network.merchant_received} at the network, terminals show {shown}"
        )
    return len(network.wallets_now) + 1, found


@_judged(
    "network_day_reconciles",
    "the host's reconciliation of each network day of the run is done, zero breaks",
)
def network_day_reconciles(facts: Facts, net: _Network) -> tuple[int, list[str]]:
    """The host's own daily reconciliation of every network day of the run, once it
    recovered, found the network's statement (each run ``done``) and no break: every
    line of the statement matched the host's trades and every trade the host captured
    is on it. A statement not ready is a failure, with its reason."""
    runs = net.facts.reconciled
    found: list[str] = []
    if net.facts.sales and not runs:
        found.append("the run's network days were not reconciled")
    for run in runs:
        where = f"{run.day} {run.channel}"
        if run.status != "done":
            reason = run.network_code or "no reason given"
            found.append(f"{where}: {run.status} ({reason})")
        found.extend(
            f"{where}: {b.kind} break on {b.trade_no}" + (f": {b.detail}" if b.detail else "")
            for b in run.breaks
        )
    checked = len(runs) + sum(run.lines for run in runs)
    return checked, found
