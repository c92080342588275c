"""The networks' fees, taken from their daily statements into the books (issue 17).

Each line of a network's statement says what the network charged for it (WeChat Pay's
``手续费``, Alipay's ``服务费``): the network keeps it out of what it pays the
acquirer. When a day is reconciled, the day's fees (per currency) are booked: the
network clearing account owes that much less, the network fee expense account bears
it (:func:`scanpay.host.domain.ledger.network_fees`). A day reconciled again books only
the difference from what its run booked before (a statement corrected, a line that
arrived late), so the books always hold the last statement's fees once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from scanpay.host.db.models import ReconciliationRun
from scanpay.host.domain import ledger as rules
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.services import ledger
from scanpay.networks.port import StatementLine

__all__ = ["book_fees", "fees_of"]


def fees_of(run: ReconciliationRun) -> dict[str, int]:
    """What ``run`` has booked of its network's fees, per currency."""
    stored: dict[str, int] = json.loads(run.fees or "{}")
    return {str(k): int(v) for k, v in stored.items()}


def book_fees(
    session: Session, run: ReconciliationRun, lines: Iterable[StatementLine], now: datetime
) -> Mapping[str, int]:
    """Book the fees of ``lines`` (the run's statement) less what ``run`` booked before,
    in the caller's transaction; the fees per currency now booked."""
    totals: Counter[str] = Counter()
    for line in lines:
        if line.fee:
            totals[line.currency] += line.fee
    before = fees_of(run)
    for currency in sorted(set(totals) | set(before)):
        change = totals[currency] - before.get(currency, 0)
        if not change:
            continue
        clearing = ledger.network_code(run.network, Book.REAL, currency)
        expense = ledger.network_fee_code(run.network, Book.REAL, currency)
        ledger.ensure_account(
            session, clearing, AccountKind.NETWORK_CLEARING, Book.REAL, currency, now
        )
        ledger.ensure_account(session, expense, AccountKind.NETWORK_FEES, Book.REAL, currency, now)
        entry = rules.network_fees(Book.REAL, currency, clearing, expense, change)
        ledger.post(session, entry, kind="network_fees", now=now)
    booked = {currency: amount for currency, amount in sorted(totals.items()) if amount}
    run.fees = json.dumps(booked, separators=(",", ":")) if booked else None
    return booked
