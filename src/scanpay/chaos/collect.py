"""Reading what every party says, after the run, into :class:`~scanpay.chaos.facts.Facts`.

Runs once every host process and terminal agent has stopped, so nothing can
change under the reads:

- each terminal's journal (its own SQLite file), through the terminal's
  :class:`~scanpay.terminal.journal.Journal`;
- the host's database, through its models and services: payments, refunds,
  the customers' side of every ledger entry, wallet balances, the ledger
  check and the audit chain;
- the settlement of every business day the run touched (:func:`settle_days`);
- each payment network's own side, when the run paid through them
  (:func:`read_network`): its orders and their refunds, wallets, the merchant's
  balance and its books from its simulator's admin (:mod:`scanpay.chaos.rails`), and
  its statement of each day through the host's own adapter (signed and checked as the
  host reads it).

Settling needs the day to be over: ``settle_day`` refuses a day until five
minutes after its end, so that a transaction still running at midnight cannot
add a movement to a day already paid out. After a run that guarantee holds
already - every writer is stopped - so the harness settles the run's days
with the host's own ``settle_day`` on a :class:`~scanpay.host.clock.ManualClock`
set to the first moment the host itself would allow (the day's end plus the
grace). The same code path, the same figures; only the wait is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from scanpay.chaos.facts import (
    Facts,
    HostLeg,
    HostPayment,
    HostRefund,
    MoveKind,
    Movement,
    NetworkFacts,
    NetworkStatementLine,
    SettledLine,
    TerminalRefund,
    TerminalSale,
)
from scanpay.chaos.rails import Merchant, NetworkSide, Rail
from scanpay.host.clock import ManualClock
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.networks.port import Channel, Network

__all__ = [
    "HostFacts",
    "JournalFacts",
    "SettlementFacts",
    "business_days",
    "flatten",
    "gather_facts",
    "read_host",
    "read_journal",
    "read_network",
    "settle_days",
]

_MOVES = {"capture": MoveKind.CAPTURE, "return": MoveKind.RETURN, "refund": MoveKind.REFUND}


@dataclass
class JournalFacts:
    """One terminal's journal."""

    terminal_id: str
    sales: list[TerminalSale] = field(default_factory=list)
    refunds: list[TerminalRefund] = field(default_factory=list)
    reversals_waiting: list[str] = field(default_factory=list)
    chain_broken_at: int | None = None
    events: int = 0
    result_codes: dict[str, str] = field(default_factory=dict)
    """The host's result code each settled sale ended with (by trade number)."""


def read_journal(directory: Path, terminal_id: str) -> JournalFacts:
    """Everything the terminal's journal in ``directory`` says (the agent must be stopped)."""
    from scanpay.terminal.journal import JOURNAL_FILE, Journal

    journal = Journal(directory / JOURNAL_FILE)
    try:
        facts = JournalFacts(terminal_id)
        for sale in journal.sales():
            facts.sales.append(
                TerminalSale(
                    terminal_id,
                    sale.out_trade_no,
                    sale.state.value,
                    sale.amount,
                    sale.refunded_amount,
                    sale.submitted_at is not None,
                )
            )
            if sale.result is not None:
                facts.result_codes[sale.out_trade_no] = sale.result.code
        facts.refunds = [
            TerminalRefund(terminal_id, r.out_refund_no, r.out_trade_no, r.state.value, r.amount)
            for r in journal.refunds()
        ]
        facts.reversals_waiting = [
            f"{terminal_id}/{r.out_trade_no}" for r in journal.reversals(waiting=True)
        ]
        facts.chain_broken_at = journal.verify_chain()
        facts.events = len(journal.events(limit=10**9))
        return facts
    finally:
        journal.close()


@dataclass
class HostFacts:
    """The host's side, read from its database."""

    payments: list[HostPayment] = field(default_factory=list)
    legs: list[HostLeg] = field(default_factory=list)
    refunds: list[HostRefund] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    wallets: dict[str, int] = field(default_factory=dict)
    ledger_entries: int = 0
    ledger_problems: list[str] = field(default_factory=list)
    audit_records: int = 0
    audit_problem: str | None = None


def read_host(ctx: HostContext, merchant_id: str) -> HostFacts:
    """Payments, refunds, the customers' ledger movements and balances of one merchant,
    then the ledger check and the audit chain (run after settlement, so they cover it)."""
    from scanpay.host.db.models import (
        LedgerAccount,
        LedgerEntry,
        LedgerPosting,
        NetworkLeg,
        Payment,
        Refund,
        parse_public_id,
        terminal_public_id,
    )
    from scanpay.host.domain.ledger import AccountKind, Book
    from scanpay.host.services import audit, ledger

    merchant_pk = parse_public_id(merchant_id, "M")
    out = HostFacts()
    with ctx.db.read() as session:
        for row in session.scalars(select(Payment).where(Payment.merchant_id == merchant_pk)):
            out.payments.append(
                HostPayment(
                    terminal_public_id(row.terminal_id),
                    row.out_trade_no,
                    row.status,
                    row.amount,
                    row.refunded_amount,
                    row.network,
                )
            )
        legs = session.execute(
            select(NetworkLeg, Payment.out_trade_no, Payment.amount)
            .join(Payment, Payment.id == NetworkLeg.payment_id)
            .where(Payment.merchant_id == merchant_pk)
        ).all()
        out.legs = [
            HostLeg(number, leg.trade_no, leg.status, int(amount), leg.network)
            for leg, number, amount in legs
        ]
        refunds = session.execute(
            select(Refund, Payment.out_trade_no, Payment.network, NetworkLeg.trade_no)
            .join(Payment, Payment.id == Refund.payment_id)
            .outerjoin(NetworkLeg, NetworkLeg.payment_id == Payment.id)
            .where(Refund.merchant_id == merchant_pk)
        ).all()
        out.refunds = [
            HostRefund(r.out_refund_no, number, r.status, r.amount, r.public_id, network, trade_no)
            for r, number, network, trade_no in refunds
        ]
        # The customer's side of each entry: what left (capture) or reached (return,
        # refund) the payer's wallet - independent of the merchant's clearing account,
        # which is what settlement reads. A payment routed to a network has the
        # network's clearing account in the wallet's place.
        rows = session.execute(
            select(
                LedgerEntry.kind,
                LedgerPosting.amount,
                Payment.out_trade_no,
                Refund.out_refund_no,
            )
            .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerPosting.account_id)
            .join(Payment, Payment.id == LedgerEntry.payment_id)
            .outerjoin(Refund, Refund.entry_id == LedgerEntry.id)
            .where(
                Payment.merchant_id == merchant_pk,
                LedgerAccount.kind.in_(
                    (AccountKind.WALLET.value, AccountKind.NETWORK_CLEARING.value)
                ),
                LedgerEntry.kind.in_(tuple(_MOVES)),
            )
            .order_by(LedgerEntry.id)
        ).all()
        out.movements = [
            Movement(number, _MOVES[kind], abs(int(amount)), refund_no)
            for kind, amount, number, refund_no in rows
        ]
        wallets = session.execute(
            select(LedgerAccount.code, LedgerAccount.balance).where(
                LedgerAccount.kind == AccountKind.WALLET.value,
                LedgerAccount.book == Book.REAL.value,
            )
        ).all()
        out.wallets = {code.removeprefix("wallet:"): int(balance) for code, balance in wallets}
    report = ledger.check(ctx)
    out.ledger_entries = report.entries
    out.ledger_problems = [f"{p.rule} {p.subject}: {p.detail}" for p in report.problems]
    chain = audit.verify(ctx)
    out.audit_records = chain.checked
    if not chain.ok:
        out.audit_problem = f"audit chain broken at record {chain.broken_seq}: {chain.problem}"
    return out


@dataclass
class SettlementFacts:
    """Every settled day of the run: its lines, and per day its figures."""

    lines: list[SettledLine] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("payment_count", "refund_count", "reversal_count", "gross", "fee", "net")
        return {k: sum(int(d[k]) for d in self.days) for k in keys}


def business_days(start: datetime, end: datetime, settings: HostSettings) -> list[date]:
    """The host's business days from ``start`` to ``end`` (aware datetimes), in order."""
    first, last = start.astimezone(settings.zone).date(), end.astimezone(settings.zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def settle_days(
    settings: HostSettings,
    merchant_id: str,
    days: Sequence[date],
    *,
    out: Path | None = None,
) -> SettlementFacts:
    """Settle ``days`` for the merchant with the host's ``settle_day`` (see the module
    docstring for the clock), writing each day's settlement file into ``out``."""
    from scanpay.host.db.models import parse_public_id
    from scanpay.host.domain.settlement import day_bounds
    from scanpay.host.services import settlement

    clock = ManualClock()
    ctx = HostContext.open(settings, clock)
    facts = SettlementFacts()
    try:
        for day in days:
            _, end = day_bounds(day, settings.zone)
            clock.set(end + settlement.SETTLE_GRACE + timedelta(seconds=1))
            for item in settlement.settle_day(ctx, day, merchant_id):
                body = item.settlement
                facts.lines.extend(
                    SettledLine(line.out_trade_no, line.kind, abs(line.amount), line.out_refund_no)
                    for line in body.lines
                )
                data = body.model_dump(mode="json", exclude={"lines"})
                data["lines"] = len(body.lines)
                facts.days.append(data)
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    merchant_pk = parse_public_id(body.merchant_id, "M")
                    assert merchant_pk is not None
                    path = out / f"{body.merchant_id}-{day.isoformat()}.csv"
                    path.write_text(settlement.settlement_csv(ctx, merchant_pk, day))
    finally:
        ctx.close()
    return facts


def flatten(items: Iterable[list[Any]]) -> list[Any]:
    """``[a, b] + [c] + ...``: the lists of several journals as one."""
    return [x for part in items for x in part]


def gather_facts(
    journals: Sequence[JournalFacts],
    host: HostFacts,
    settled: SettlementFacts,
    wallets_opened: int,
    networks: Sequence[NetworkFacts] = (),
) -> Facts:
    """What was read, as the invariants see it: every terminal's journal, the host's
    side, the settled days, what the customers' wallets were loaded with in all, and
    the network's side when the run paid through one."""
    chain_problems = [
        f"{j.terminal_id}: journal chain broken at event {j.chain_broken_at}"
        for j in journals
        if j.chain_broken_at is not None
    ]
    if host.audit_problem:
        chain_problems.append(host.audit_problem)
    return Facts(
        sales=flatten(j.sales for j in journals),
        refunds=flatten(j.refunds for j in journals),
        reversals_waiting=flatten(j.reversals_waiting for j in journals),
        payments=host.payments,
        host_refunds=host.refunds,
        movements=host.movements,
        settled=settled.lines,
        wallets_opened=wallets_opened,
        wallets_now=host.wallets,
        ledger_entries=host.ledger_entries,
        ledger_problems=host.ledger_problems,
        chains_checked=sum(j.events for j in journals) + host.audit_records,
        chain_problems=chain_problems,
        networks=tuple(networks),
    )


def read_network(
    admin: httpx.Client,
    rail: Rail,
    network: Network,
    channel: Channel,
    merchant: Merchant,
    wallet_ids: Sequence[int],
    days: Sequence[date],
) -> NetworkSide:
    """What a network's simulator says of the run's ``merchant`` and wallets: ``admin``
    is an ``httpx.Client`` on the simulator (its ``/sim/`` admin), read by ``rail``
    (orders, their refunds, balances, books); ``network`` the host's adapter and
    ``channel`` the merchant's channel, through which each of ``days`` (the network's
    days) is read from the network's statement."""
    out = rail.read(admin, merchant, wallet_ids)
    for day in days:
        statement = network.statement(channel, day)
        if not statement.ready:
            out.statement_problems.append(
                f"{day.isoformat()}: no statement ({statement.network_code or 'no answer'})"
            )
            continue
        out.statement.extend(
            NetworkStatementLine(line.trade_no, line.kind.value, line.amount, line.refund_no)
            for line in statement.lines
        )
    return out
