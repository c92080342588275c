"""Day-close arithmetic from the journal (pure).

The terminal's totals for one business day and one currency:

- payments: every sale that captured money that day (APPROVED, and those
  refunded since: the payment still happened), counted once at its amount;
- refunds: every refund that succeeded that day, at its amount - the
  terminal's own and those made elsewhere (the merchant's portal, the
  acquirer) that the host reported;
- net = payments - refunds.

Payments are grouped by the wallet that paid (a show-to-pay sale whose wallet
the host did not name, as :data:`scanpay.codes.names.SHOW_TO_PAY`);
:func:`scanpay.codes.names.network_name` names each group for people.

Training sales and refunds never enter the totals (they are counted apart, for
the Z-report). Declined, cancelled and reversed sales moved no money and are
listed only as counts. A business day is a calendar day in the terminal's
time zone; a sale belongs to the day it was submitted (created, if it never
was), a refund to the day it succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from scanpay.codes.names import network_name
from scanpay.terminal.refund import OutsideRefund, RefundRecord, RefundState
from scanpay.terminal.sale import Sale, SaleState

__all__ = ["BatchLine", "DayTotals", "WalletTotal", "business_day", "day_totals"]

# The host's payment status for each captured terminal state (what a batch line says).
_HOST_STATUS = {
    SaleState.APPROVED: "SUCCESS",
    SaleState.PARTIALLY_REFUNDED: "PARTIALLY_REFUNDED",
    SaleState.REFUNDED: "REFUNDED",
}


def business_day(timestamp: float, tz: tzinfo) -> date:
    """The calendar day of ``timestamp`` (unix seconds) in ``tz``."""
    return datetime.fromtimestamp(timestamp, tz).date()


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One line of the batch the terminal sends at day close."""

    out_trade_no: str
    kind: str
    status: str
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_trade_no": self.out_trade_no,
            "kind": self.kind,
            "status": self.status,
            "amount": self.amount,
        }


@dataclass(frozen=True, slots=True)
class WalletTotal:
    wallet: str
    count: int
    total: int


@dataclass(frozen=True, slots=True)
class DayTotals:
    """A day's totals for one currency, as the journal sees them."""

    day: date
    currency: str
    count: int
    total: int
    refund_count: int
    refund_total: int
    declined: int = 0
    cancelled: int = 0
    reversed: int = 0
    training_count: int = 0
    training_total: int = 0
    by_wallet: tuple[WalletTotal, ...] = ()
    lines: tuple[BatchLine, ...] = field(default=(), repr=False)

    @property
    def net(self) -> int:
        return self.total - self.refund_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "currency": self.currency,
            "count": self.count,
            "total": self.total,
            "refund_count": self.refund_count,
            "refund_total": self.refund_total,
            "net": self.net,
            "declined": self.declined,
            "cancelled": self.cancelled,
            "reversed": self.reversed,
            "training_count": self.training_count,
            "training_total": self.training_total,
            "by_wallet": [
                {
                    "wallet": w.wallet,
                    "label": network_name(w.wallet).as_dict(),
                    "count": w.count,
                    "total": w.total,
                }
                for w in self.by_wallet
            ],
            "lines": [line.to_dict() for line in self.lines],
        }


def _sale_day(sale: Sale, tz: tzinfo) -> date:
    moment = sale.submitted_at if sale.submitted_at is not None else sale.created_at
    return business_day(moment, tz)


def day_totals(
    day: date,
    currency: str,
    sales: Iterable[Sale],
    refunds: Iterable[RefundRecord],
    tz: tzinfo,
    outside: Iterable[OutsideRefund] = (),
) -> DayTotals:
    """Totals of ``day`` in ``currency`` from the journal's sales and refunds (``outside``:
    the refunds of its sales made elsewhere)."""
    count = total = refund_count = refund_total = 0
    declined = cancelled = reversed_ = training_count = training_total = 0
    wallets: dict[str, list[int]] = {}
    lines: list[BatchLine] = []
    for sale in sales:
        if sale.currency != currency or _sale_day(sale, tz) != day:
            continue
        if sale.training:
            if sale.captured:
                training_count += 1
                training_total += sale.amount
            continue
        if sale.captured:
            count += 1
            total += sale.amount
            bucket = wallets.setdefault(sale.wallet or "?", [0, 0])
            bucket[0] += 1
            bucket[1] += sale.amount
            lines.append(
                BatchLine(sale.out_trade_no, "payment", _HOST_STATUS[sale.state], sale.amount)
            )
        elif sale.state == SaleState.DECLINED:
            declined += 1
        elif sale.state == SaleState.CANCELLED:
            cancelled += 1
        elif sale.state == SaleState.REVERSED:
            reversed_ += 1
    for refund in refunds:
        if refund.currency != currency or refund.state != RefundState.SUCCESS:
            continue
        finished = refund.finished_at if refund.finished_at is not None else refund.created_at
        if business_day(finished, tz) != day or refund.training:
            continue
        refund_count += 1
        refund_total += refund.amount
        lines.append(BatchLine(refund.out_refund_no, "refund", "SUCCESS", refund.amount))
    for made in outside:
        if made.currency != currency or made.training:
            continue
        if business_day(made.refunded_at, tz) != day:
            continue
        refund_count += 1
        refund_total += made.amount
        lines.append(BatchLine(made.out_refund_no, "refund", "SUCCESS", made.amount))
    return DayTotals(
        day=day,
        currency=currency,
        count=count,
        total=total,
        refund_count=refund_count,
        refund_total=refund_total,
        declined=declined,
        cancelled=cancelled,
        reversed=reversed_,
        training_count=training_count,
        training_total=training_total,
        by_wallet=tuple(WalletTotal(name, c, t) for name, (c, t) in sorted(wallets.items())),
        lines=tuple(sorted(lines, key=lambda line: (line.kind, line.out_trade_no))),
    )
