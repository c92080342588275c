"""The facts the exactly-once invariants judge, and the form of their verdicts.

The chaos harness (:mod:`scanpay.chaos.harness`) gathers what every party says
once the run has settled (:mod:`scanpay.chaos.collect`) into one :class:`Facts`;
:mod:`scanpay.chaos.invariants` and :mod:`scanpay.chaos.network_invariants` judge
it, each rule giving an :class:`InvariantResult`. Plain data: nothing here does I/O.

The money of one sale is followed from three independent places, so that a
bug in one of them cannot hide itself:

- the terminal's journal (:class:`TerminalSale`): what the cashier was shown
  (APPROVED, DECLINED...);
- the ledger, seen from the customer's wallet (:class:`Movement`): what left
  and came back to the customer;
- the settlement (:class:`SettledLine`), computed from the merchant's
  clearing account: what the merchant is paid for.

All facts concern one merchant: a trade number (``out_trade_no``) names one
sale (the host keys payments on merchant and trade number; each terminal's
numbers carry its own id).

A sale paid with a payment network's code (WeChat Pay, Alipay) is also followed on the
network's side, through :class:`NetworkFacts`: the host's journaled legs, the
network's own orders and its statement of the day, the customers' wallets and the
merchant's balance there, the network's own books, and the host's own daily
reconciliation of each network day of the run (:class:`ReconciledRun`). The network
knows a sale by the host's trade number for it (the payment's id, one per payment
request), not the terminal's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    "NetworkRefund",
    "NetworkStatementLine",
    "ReconciledBreak",
    "ReconciledRun",
    "SettledLine",
    "TerminalRefund",
    "TerminalSale",
    "expected_net",
    "sale_name",
    "verdict",
]

CAPTURED_STATES = frozenset({"APPROVED", "PARTIALLY_REFUNDED", "REFUNDED"})
"""Terminal states in which the cashier saw the money taken (refunds may follow)."""
UNPAID_STATES = frozenset({"DECLINED", "CANCELLED", "REVERSED"})
"""Terminal states in which the cashier saw the sale fail: no money may stay moved."""
FINAL_STATES = CAPTURED_STATES | UNPAID_STATES

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
    """A refund row of the host: SUCCESS, a stored refusal (FAILED), or PROCESSING (a
    routed payment's refund its network has not given a final word on yet)."""

    out_refund_no: str
    out_trade_no: str
    status: str
    amount: int
    refund_id: str = ""
    """The host's id for it (``R...``): a network's refund number for it."""
    network: str | None = None
    """The payment network its payment was routed to (None: the built-in wallet)."""
    trade_no: str | None = None
    """The trade number the network knows its payment by (its leg's)."""


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
    network: str = "wechat_pay"


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
class NetworkRefund:
    """A refund in the network's own books (the simulator's refunds of an order)."""

    trade_no: str
    refund_no: str
    """The merchant's refund number at the network (the host refund's id)."""
    amount: int
    status: str
    """SUCCESS, PROCESSING..., as the network holds it."""
    reverse: bool = False
    """The refund a reverse (cancel) of a paid trade made itself: no host refund's."""


@dataclass(frozen=True, slots=True)
class NetworkStatementLine:
    """A line of the network's statement (bill) of a day: ``payment`` or ``refund``."""

    trade_no: str
    kind: str
    amount: int
    refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class ReconciledBreak:
    """A break the host's reconciliation found (open, as the run left it)."""

    kind: str
    """``network_only``, ``host_only``, ``amount_mismatch``... (the host's ``BreakKind``)."""
    trade_no: str
    """The trade number the network knows the trade by."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReconciledRun:
    """One run of the host's own daily reconciliation of a network day of the run."""

    day: str
    """The network's day (ISO date; WeChat Pay's are Beijing days)."""
    channel: str
    """The run's channel key at the host (the merchant's id for a direct channel)."""
    status: str
    """``done``, or ``statement_not_ready`` (then ``network_code`` says why)."""
    network_code: str | None = None
    matched: int = 0
    lines: int = 0
    """The statement's lines."""
    breaks: Sequence[ReconciledBreak] = ()


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """What the payment network says, and what of the host and the run concerns it."""

    network: str
    sales: frozenset[str] = frozenset()
    """The sales (terminal trade numbers) the customers paid with this network's codes."""
    legs: Sequence[HostLeg] = ()
    orders: Sequence[NetworkOrder] = ()
    refunds: Sequence[NetworkRefund] = ()
    """Every refund the network holds of the run's merchant's orders (reverses' own too)."""
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
    reconciled: Sequence[ReconciledRun] = ()
    """The host's reconciliation of each network day of the run (none without sales)."""


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
    networks: Sequence[NetworkFacts] = ()
    """Each payment network's side, when the run paid some sales through them."""

    @property
    def network_sales(self) -> frozenset[str]:
        """The sales paid with any network's codes."""
        return frozenset(sale for network in self.networks for sale in network.sales)


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


def verdict(name: str, description: str, checked: int, found: list[str]) -> InvariantResult:
    """An invariant's result: ``found`` counted in full, its first :data:`MAX_SHOWN` kept."""
    return InvariantResult(name, description, checked, tuple(found[:MAX_SHOWN]), len(found))


def expected_net(sale: TerminalSale) -> int:
    """What the terminal says the customer paid in the end."""
    return sale.amount - sale.refunded_amount if sale.state in CAPTURED_STATES else 0


def sale_name(sale: TerminalSale) -> str:
    """How a violation names a sale: terminal, trade number, the state it shows."""
    return f"{sale.terminal_id}/{sale.out_trade_no} {sale.state}"
