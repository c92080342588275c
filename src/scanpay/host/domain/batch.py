"""Batch reconciliation: a terminal's day-close totals against the host's records.

At day close a terminal sends its totals (payments and refunds, counts and
sums) and optionally one line per transaction. The host builds the same lines
from its own records and compares: *matched* when the four totals agree and
no line differs; otherwise the differences, by trade number (refund lines
carry the ``out_refund_no``). A line differs when one side lacks it, or its
amount or status is not the same. Pure.

A payment line says that money was taken, and how much: a payment refunded in
part or in full since (at the terminal, in the portal, on another day) is the
same payment line as an approved one, since each refund is a line of its own,
counted on the day it was made. Comparing the payment's *current* status would
call every refund made elsewhere, or later, a difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CAPTURED_STATUSES",
    "BatchComparison",
    "BatchDifference",
    "BatchLine",
    "BatchTotals",
    "compare_batch",
]

CAPTURED_STATUSES = frozenset({"SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"})
"""Payment statuses that mean the money was taken (refunds since or not)."""


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One transaction of the day: ``kind`` is ``payment`` or ``refund``."""

    out_trade_no: str
    kind: str
    status: str
    amount: int

    def describe(self) -> str:
        return f"{self.status} {self.amount}"

    def compared(self) -> tuple[int, str]:
        """What must agree on both sides: the amount, and whether the money was taken."""
        if self.kind != "refund" and self.status in CAPTURED_STATUSES:
            return self.amount, "captured"
        return self.amount, self.status


@dataclass(frozen=True, slots=True)
class BatchTotals:
    count: int = 0
    total: int = 0
    refund_count: int = 0
    refund_total: int = 0

    @classmethod
    def from_lines(cls, lines: Iterable[BatchLine]) -> BatchTotals:
        """Totals of ``lines``: payments and refunds counted and summed apart."""
        count = total = refund_count = refund_total = 0
        for line in lines:
            if line.kind == "refund":
                refund_count, refund_total = refund_count + 1, refund_total + line.amount
            else:
                count, total = count + 1, total + line.amount
        return cls(count, total, refund_count, refund_total)


@dataclass(frozen=True, slots=True)
class BatchDifference:
    """A line that is not the same on both sides (``None``: that side does not have it)."""

    out_trade_no: str
    kind: str
    terminal: str | None
    host: str | None
    terminal_line: BatchLine | None = None
    host_line: BatchLine | None = None


@dataclass(frozen=True, slots=True)
class BatchComparison:
    matched: bool
    host: BatchTotals
    differences: tuple[BatchDifference, ...]


def compare_batch(
    terminal: BatchTotals,
    terminal_lines: Iterable[BatchLine] | None,
    host_lines: Iterable[BatchLine],
) -> BatchComparison:
    """Compare a terminal's batch with the host's lines for the same terminal and day.

    Without ``terminal_lines`` only the totals are compared and no differences
    can be named.
    """
    host_list = list(host_lines)
    host_totals = BatchTotals.from_lines(host_list)
    differences: list[BatchDifference] = []
    if terminal_lines is not None:
        theirs = {(line.kind, line.out_trade_no): line for line in terminal_lines}
        ours = {(line.kind, line.out_trade_no): line for line in host_list}
        for key in sorted(theirs.keys() | ours.keys()):
            mine, other = ours.get(key), theirs.get(key)
            if mine is not None and other is not None and mine.compared() == other.compared():
                continue
            kind, number = key
            differences.append(
                BatchDifference(
                    number,
                    kind,
                    other.describe() if other is not None else None,
                    mine.describe() if mine is not None else None,
                    other,
                    mine,
                )
            )
    matched = terminal == host_totals and not differences
    return BatchComparison(matched, host_totals, tuple(differences))
