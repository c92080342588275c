"""Day close: the journal's totals, the batch to the host, the differences, the Z-report.

A day is closed by a supervisor. It may not be closed while any of its sales
or refunds is still in doubt (their totals are not known yet). The totals come
from the journal (:mod:`scanpay.terminal.totals`); the batch - totals plus one
line per payment and refund - goes to ``POST /v1/batches/close`` (issue 5),
and the host answers *matched* or the list of differences by trade number.
Every close is journaled with the host's answer and printed as a Z-report. A
day can be closed again (after a difference is cleared up): each close is a
new journal record, the Z-report shows the last.

The day's refunds are counted wherever they were made: before the totals are
counted (for the screen and for the close) the terminal asks the host for the
day's refunds of its payments made elsewhere - the merchant's portal, the
acquirer - and journals them. Each difference the host names comes with a
sentence for people (both languages, amounts formatted), never as the raw line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from scanpay.i18n import Text
from scanpay.protocol.differences import describe_difference
from scanpay.protocol.models import BatchCloseRequest, BatchItem
from scanpay.terminal.client import Answer, Refusal
from scanpay.terminal.engine import Engine
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.order import OrderState
from scanpay.terminal.receipts import (
    ZReport,
    build_zreport,
    render_zreport_escpos,
    render_zreport_html,
)
from scanpay.terminal.refund import RefundState
from scanpay.terminal.sale import IN_DOUBT_STATES, Sale, SaleState
from scanpay.terminal.showpay import order_as_sale
from scanpay.terminal.totals import DayTotals, business_day, day_totals

__all__ = ["DayClose", "DayCloseResult"]


@dataclass(frozen=True, slots=True)
class DayCloseResult:
    close_id: int
    totals: DayTotals
    matched: bool | None
    """The host's verdict; None when the batch could not be delivered."""
    differences: list[dict[str, Any]] = field(default_factory=list)
    host: dict[str, Any] | None = None
    host_error: str | None = None
    zreport: ZReport | None = None
    printed: bool = False
    host_error_text: Text | None = None
    """Why the host did not answer, for people (both languages)."""

    def to_dict(self) -> dict[str, Any]:
        currency = self.totals.currency
        return {
            "close_id": self.close_id,
            "totals": self.totals.to_dict(),
            "matched": self.matched,
            "differences": [
                {**d, "message": describe_difference(d, currency).as_dict()}
                for d in self.differences
            ],
            "host": self.host,
            "host_error": self.host_error,
            "host_error_message": self.host_error_text.as_dict() if self.host_error_text else None,
            "printed": self.printed,
        }


_NO_ANSWER = Text(
    "无法连接收单主机，日结未经主机核对", "The host could not be reached; nothing was compared"
)


class DayClose:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def _config(self) -> Any:
        return self.engine.config

    def today(self) -> date:
        return business_day(self.engine.clock(), self._config.zone)

    def _sales_around(self, day: date) -> list[Sale]:
        zone = self._config.zone
        start = datetime(day.year, day.month, day.day, tzinfo=zone) - timedelta(days=1)
        sales = self.engine.journal.sales(
            since=start.timestamp(), until=(start + timedelta(days=3)).timestamp()
        )
        # A paid show-to-pay order is a payment like any other in the totals, under the
        # wallet that paid it (or marked as show-to-pay when the host did not say).
        sales += [
            order_as_sale(order)
            for order in self.engine.journal.orders(limit=10_000)
            if order.state == OrderState.PAID
        ]
        return sales

    def refresh(self, day: date | None = None, currency: str | None = None) -> bool:
        """Learn the day's refunds made elsewhere (the portal) from the host, so that the
        totals count them; False when the host could not be asked."""
        day = day or self.today()
        return self.engine.refunds.sync_day(day, currency or self._config.currency)

    def totals(self, day: date | None = None, currency: str | None = None) -> DayTotals:
        day = day or self.today()
        refunds = self.engine.journal.refunds()
        return day_totals(
            day,
            currency or self._config.currency,
            self._sales_around(day),
            refunds,
            self._config.zone,
            self.engine.journal.outside_refunds(),
        )

    def _not_ready(self, day: date) -> int:
        zone = self._config.zone
        doubt = sum(
            1
            for s in self._sales_around(day)
            if s.state in IN_DOUBT_STATES | {SaleState.REVERSING}
            and business_day(s.submitted_at or s.created_at, zone) == day
        )
        pending = sum(
            1
            for r in self.engine.journal.refunds(unsettled=True)
            if r.state in (RefundState.PENDING, RefundState.UNKNOWN)
        )
        return doubt + pending

    def close(self, operator_id: str, day: date | None = None) -> DayCloseResult:
        """Close ``day`` (default: today) and print the Z-report."""
        day = day or self.today()
        waiting = self._not_ready(day)
        if waiting:
            raise TerminalError("day_not_ready", count=waiting)
        # Refunds made in the portal count too: learn them first (a host that cannot be
        # asked now will not take the batch either; the close then says so).
        self.refresh(day)
        totals = self.totals(day)
        request = BatchCloseRequest(
            date=day,
            currency=totals.currency,
            count=totals.count,
            total=totals.total,
            refund_count=totals.refund_count,
            refund_total=totals.refund_total,
            items=[
                BatchItem(
                    out_trade_no=line.out_trade_no,
                    kind="refund" if line.kind == "refund" else "payment",
                    status=line.status,
                    amount=line.amount,
                )
                for line in totals.lines
            ],
        )
        reply = self.engine.client.close_batch(request)
        matched: bool | None = None
        differences: list[dict[str, Any]] = []
        host: dict[str, Any] | None = None
        host_error: str | None = None
        host_error_text: Text | None = None
        if isinstance(reply, Answer):
            host = reply.body.model_dump(mode="json")
            matched = reply.body.matched
            differences = [d.model_dump(mode="json") for d in reply.body.differences]
        elif isinstance(reply, Refusal):
            host_error = f"{reply.error.code} {reply.error.message.en}"
            host_error_text = Text(reply.error.message.zh_cn, reply.error.message.en)
        else:
            host_error = reply.reason
            host_error_text = _NO_ANSWER
        now = self.engine.clock()
        close_id = self.engine.journal.save_day_close(
            day=day.isoformat(),
            currency=totals.currency,
            closed_at=now,
            operator_id=operator_id,
            totals=totals.to_dict(),
            host=host if host is not None else ({"error": host_error} if host_error else None),
            matched=matched,
        )
        z = build_zreport(
            self._config,
            totals,
            closed_by=operator_id,
            closed_at=now,
            matched=matched,
            differences=differences,
        )
        printed = self._print(z, day)
        return DayCloseResult(
            close_id, totals, matched, differences, host, host_error, z, printed, host_error_text
        )

    def _print(self, z: ZReport, day: date) -> bool:
        p = self._config.printer
        try:
            self.engine.printer.send(
                render_zreport_escpos(z, width=p.width, encoding=p.encoding, language=p.language)
            )
            self.engine.printer.keep_html(
                f"zreport-{day.isoformat()}-{int(time.time())}", render_zreport_html(z, p.language)
            )
        except TerminalError:
            return False
        return True

    def zreport_html(self, day: date, language: str | None = None) -> str:
        """The Z-report of ``day``'s last close, as printable HTML."""
        closes = self.engine.journal.day_closes(day.isoformat())
        if not closes:
            raise TerminalError("bad_request", field="date", reason=f"{day} has not been closed")
        last = closes[-1]
        totals = self.totals(day, last["currency"])
        host = last["host"] or {}
        z = build_zreport(
            self._config,
            totals,
            closed_by=last["operator_id"],
            closed_at=last["closed_at"],
            matched=last["matched"],
            differences=list(host.get("differences") or []),
        )
        return render_zreport_html(
            z, language or self._config.language or self._config.printer.language
        )
