"""Settlement arithmetic: a merchant's business day, its fee and its net payout.

A business day is a calendar day in the host's timezone. Its movements are
what the merchant's clearing account saw that day (real money only):

- payment: a capture (+amount);
- refund: a refund of a payment, of any day (-amount);
- reversal: a captured payment returned by a reversal (-amount).

Fee: each line pays ``amount x rate``, **rounded half up to whole minor units
per line** (0.5 fen and above rounds up, below it down):
``fee = (amount * rate_ppm + 500_000) // 1_000_000``. Payments pay their fee;
refunds and reversals give back the fee on what they return, so a line's fee
has the sign of its amount. ``gross`` = sum of amounts, ``fee`` = sum of fees,
``net = gross - fee``.

The settlement entry moves ``gross`` out of the clearing account: ``fee`` to
the acquirer's fee income and ``net`` to the merchant's settlement account.
On a day whose refunds exceed its sales these are negative: the merchant owes
the acquirer, and its settlement account goes below zero until later payouts
cover it. Pure: the service reads the movements and writes the entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from scanpay.money import format_amount

__all__ = [
    "CSV_COLUMNS",
    "Figures",
    "Line",
    "Movement",
    "MovementKind",
    "Totals",
    "collect",
    "day_bounds",
    "line_fee",
    "render_csv",
    "settle",
    "settlement_postings",
]


class MovementKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    REVERSAL = "reversal"


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement on the clearing account; ``amount`` is positive, the kind gives its sign."""

    kind: MovementKind
    at: datetime
    out_trade_no: str
    amount: int
    out_refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """A settlement line: the movement with its signed amount and signed fee."""

    movement: Movement
    amount: int
    fee: int

    @property
    def net(self) -> int:
        return self.amount - self.fee


@dataclass(frozen=True, slots=True)
class Totals:
    count: int = 0
    amount: int = 0
    fee: int = 0

    def add(self, line: Line) -> Totals:
        return Totals(self.count + 1, self.amount + line.amount, self.fee + line.fee)

    @property
    def net(self) -> int:
        return self.amount - self.fee


@dataclass(frozen=True, slots=True)
class Figures:
    """A day's settlement: lines, totals per kind (signed), gross, fee and net."""

    lines: tuple[Line, ...]
    payments: Totals
    refunds: Totals
    reversals: Totals

    @property
    def gross(self) -> int:
        return self.payments.amount + self.refunds.amount + self.reversals.amount

    @property
    def fee(self) -> int:
        return self.payments.fee + self.refunds.fee + self.reversals.fee

    @property
    def net(self) -> int:
        return self.gross - self.fee


def line_fee(amount: int, rate_ppm: int) -> int:
    """The fee on ``amount`` (positive minor units) at ``rate_ppm``, rounded half up."""
    if amount < 0 or rate_ppm < 0:
        raise ValueError("amount and rate are not negative")
    return (amount * rate_ppm + 500_000) // 1_000_000


def settle(movements: Iterable[Movement], rate_ppm: int) -> Figures:
    """The lines and totals of a day's movements at ``rate_ppm`` (0.38 % = 3800)."""
    lines: list[Line] = []
    for movement in sorted(movements, key=lambda m: (m.at, m.kind, m.out_trade_no)):
        sign = 1 if movement.kind is MovementKind.PAYMENT else -1
        lines.append(
            Line(movement, sign * movement.amount, sign * line_fee(movement.amount, rate_ppm))
        )
    return collect(lines)


def collect(lines: Iterable[Line]) -> Figures:
    """Figures from lines already computed (e.g. a stored settlement's)."""
    kept = tuple(lines)
    totals = {kind: Totals() for kind in MovementKind}
    for line in kept:
        totals[line.movement.kind] = totals[line.movement.kind].add(line)
    return Figures(
        kept,
        totals[MovementKind.PAYMENT],
        totals[MovementKind.REFUND],
        totals[MovementKind.REVERSAL],
    )


def settlement_postings(
    figures: Figures, *, clearing: str, fee_income: str, settlement: str
) -> list[tuple[str, int]]:
    """The settlement entry's postings (account, amount), zero ones left out; they sum to 0."""
    postings = [(clearing, -figures.gross), (fee_income, figures.fee), (settlement, figures.net)]
    return [(account, amount) for account, amount in postings if amount != 0]


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The business day as a half-open interval of aware datetimes (local midnights;
    a day with a daylight-saving change is 23 or 25 hours long)."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start, end


CSV_COLUMNS = (
    "record",
    "merchant_id",
    "business_date",
    "currency",
    "kind",
    "time",
    "out_trade_no",
    "out_refund_no",
    "count",
    "amount",
    "fee",
    "net",
)


def render_csv(
    figures: Figures,
    *,
    merchant_id: str,
    day: date,
    currency: str,
    zone: tzinfo,
) -> str:
    """The settlement file: a header, one ``D`` line per movement, ``T`` totals per kind
    and a ``T`` line ``all``. Amounts in major units (``12.34``), signed; times local."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    common = [merchant_id, day.isoformat(), currency]

    def money(value: int) -> str:
        return format_amount(value, currency)

    for line in figures.lines:
        m = line.movement
        writer.writerow(
            [
                "D",
                *common,
                m.kind,
                m.at.astimezone(zone).isoformat(timespec="seconds"),
                m.out_trade_no,
                m.out_refund_no or "",
                1,
                money(line.amount),
                money(line.fee),
                money(line.net),
            ]
        )
    kinds = (
        ("payment", figures.payments),
        ("refund", figures.refunds),
        ("reversal", figures.reversals),
    )
    for kind, totals in kinds:
        writer.writerow(
            [
                "T",
                *common,
                kind,
                "",
                "",
                "",
                totals.count,
                money(totals.amount),
                money(totals.fee),
                money(totals.net),
            ]
        )
    writer.writerow(
        [
            "T",
            *common,
            "all",
            "",
            "",
            "",
            len(figures.lines),
            money(figures.gross),
            money(figures.fee),
            money(figures.net),
        ]
    )
    return out.getvalue()
