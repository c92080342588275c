"""Settlement: close a merchant's business day and pay the net out of clearing.

For one merchant and one day (host timezone), :func:`settle_day` reads every
movement its clearing account saw that day (captures, refunds, reversals),
works out the lines, fee and net (:mod:`scanpay.host.domain.settlement`),
posts one entry (clearing -> fee income + merchant settlement account) and
stores the settlement with its lines, all in one transaction.

- Idempotent: one settlement per merchant and day (a unique key); a second
  run returns the stored one and moves nothing.
- Safe under concurrency: the clearing account's row is locked first, so two
  runs (in any processes) take turns, and any payment that posted to the
  account before the lock was taken is committed and seen.
- Only a day that is over (plus :data:`SETTLE_GRACE`) can be settled: nothing
  can be added to it afterwards.

The settlement file (CSV, :func:`settlement_csv`) is rendered from the stored
lines, so every host process produces the same file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    Merchant,
    Payment,
    Refund,
    Settlement,
    SettlementLine,
    parse_public_id,
)
from scanpay.host.domain import ledger as rules
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.parties import format_fee_rate
from scanpay.host.domain.settlement import (
    Figures,
    Line,
    Movement,
    MovementKind,
    collect,
    day_bounds,
    render_csv,
    settle,
    settlement_postings,
)
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.protocol.models import Settlement as SettlementBody
from scanpay.protocol.models import SettlementLine as SettlementLineBody

__all__ = [
    "SETTLE_GRACE",
    "Settled",
    "fee_code",
    "get_settlement",
    "settle_day",
    "settlement_code",
    "settlement_csv",
]

log = logging.getLogger("scanpay.host.settlement")

#: How long after the day's end settlement waits, so that no transaction that
#: started before midnight can still be writing a movement of that day.
SETTLE_GRACE = timedelta(minutes=5)

_KINDS = {
    "capture": MovementKind.PAYMENT,
    "return": MovementKind.REVERSAL,
    "refund": MovementKind.REFUND,
}


def settlement_code(merchant_id: str) -> str:
    return f"settlement:{merchant_id}:{Book.REAL}"


def fee_code(currency: str) -> str:
    return f"fees:{Book.REAL}:{currency}"


@dataclass(frozen=True, slots=True)
class Settled:
    """A merchant's settlement, and whether this run made it (False: it existed)."""

    settlement: SettlementBody
    created: bool


def _movements(session: Session, clearing_pk: int, day: date, ctx: HostContext) -> list[Movement]:
    start, end = day_bounds(day, ctx.settings.zone)
    rows = session.execute(
        select(
            LedgerEntry.kind,
            LedgerEntry.created_at,
            LedgerPosting.amount,
            Payment.out_trade_no,
            Refund.out_refund_no,
        )
        .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
        .join(Payment, Payment.id == LedgerEntry.payment_id)
        .outerjoin(Refund, Refund.entry_id == LedgerEntry.id)
        .where(
            LedgerPosting.account_id == clearing_pk,
            LedgerEntry.kind.in_(tuple(_KINDS)),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    ).all()
    return [
        Movement(_KINDS[kind], at, number, abs(int(amount)), refund_no)
        for kind, at, amount, number, refund_no in rows
    ]


def _body(row: Settlement, merchant: Merchant, lines: list[SettlementLine]) -> SettlementBody:
    return SettlementBody(
        merchant_id=merchant.public_id,
        business_date=row.business_date,
        timezone=row.timezone,
        currency=row.currency,
        fee_rate=format_fee_rate(row.fee_rate_ppm),
        payment_count=row.payment_count,
        payment_total=row.payment_total,
        refund_count=row.refund_count,
        refund_total=row.refund_total,
        reversal_count=row.reversal_count,
        reversal_total=row.reversal_total,
        gross=row.gross,
        fee=row.fee,
        net=row.net,
        created_at=row.created_at,
        lines=[
            SettlementLineBody(
                kind=line.kind,  # type: ignore[arg-type]
                at=line.at,
                out_trade_no=line.out_trade_no,
                out_refund_no=line.out_refund_no,
                amount=line.amount,
                fee=line.fee,
            )
            for line in lines
        ],
    )


def _lines(session: Session, settlement_pk: int) -> list[SettlementLine]:
    return list(
        session.scalars(
            select(SettlementLine)
            .where(SettlementLine.settlement_id == settlement_pk)
            .order_by(SettlementLine.id)
        )
    )


class _Taken(Exception):
    pass


def settle_day(
    ctx: HostContext, day: date, merchant_id: str | None = None, *, actor: audit.Actor = audit.LOCAL
) -> list[Settled]:
    """Settle ``day`` for one merchant, or for every merchant (in id order)."""
    _, end = day_bounds(day, ctx.settings.zone)
    if ctx.now() < end + SETTLE_GRACE:
        raise HostError(
            "30",
            Text(
                f"营业日 {day} 尚未结束，不能结算",
                f"the business day {day} is not over yet (settle after {end + SETTLE_GRACE})",
            ),
            field="date",
        )
    with ctx.db.read() as session:
        if merchant_id is not None:
            pk = parse_public_id(merchant_id, "M")
            found = session.get(Merchant, pk) if pk is not None else None
            if found is None:
                raise HostError("25", Text("找不到该商户", "no such merchant"), field="merchant")
            pks = [found.id]
        else:
            pks = list(session.scalars(select(Merchant.id).order_by(Merchant.id)))
    out = []
    for pk in pks:
        for _ in range(3):
            try:
                out.append(_settle_one(ctx, pk, day, actor))
                break
            except _Taken:
                continue
        else:  # pragma: no cover - three lost races in a row
            raise HostError("96")
    return out


def _settle_one(ctx: HostContext, merchant_pk: int, day: date, actor: audit.Actor) -> Settled:
    now = ctx.now()
    with ctx.db.write() as session:
        merchant = session.get(Merchant, merchant_pk)
        assert merchant is not None
        clearing = ledger.clearing_code(merchant.public_id, Book.REAL)
        # The lock first: concurrent runs take turns, in-flight postings land before we read.
        clearing_pk = session.scalar(
            select(LedgerAccount.id).where(LedgerAccount.code == clearing).with_for_update()
        )
        assert clearing_pk is not None
        existing = session.scalar(
            select(Settlement).where(
                Settlement.merchant_id == merchant.id, Settlement.business_date == day
            )
        )
        if existing is not None:
            return Settled(_body(existing, merchant, _lines(session, existing.id)), False)
        figures = settle(_movements(session, clearing_pk, day, ctx), merchant.fee_rate_ppm)
        entry_id = _post(session, merchant, figures, day, now)
        row = Settlement(
            merchant_id=merchant.id,
            business_date=day,
            timezone=ctx.settings.timezone,
            currency=merchant.currency,
            fee_rate_ppm=merchant.fee_rate_ppm,
            payment_count=figures.payments.count,
            payment_total=figures.payments.amount,
            refund_count=figures.refunds.count,
            refund_total=-figures.refunds.amount,
            reversal_count=figures.reversals.count,
            reversal_total=-figures.reversals.amount,
            gross=figures.gross,
            fee=figures.fee,
            net=figures.net,
            entry_id=entry_id,
            created_at=now,
            created_by=str(actor),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise _Taken from None
        lines = [
            SettlementLine(
                settlement_id=row.id,
                kind=line.movement.kind,
                at=line.movement.at,
                out_trade_no=line.movement.out_trade_no,
                out_refund_no=line.movement.out_refund_no,
                amount=line.amount,
                fee=line.fee,
            )
            for line in figures.lines
        ]
        session.add_all(lines)
        session.flush()
        audit.record(
            session,
            now,
            actor,
            "settlement.create",
            ("settlement", f"{merchant.public_id}/{day.isoformat()}"),
            merchant=merchant.public_id,
            business_date=day.isoformat(),
            fee_rate_ppm=merchant.fee_rate_ppm,
            lines=len(lines),
            gross=figures.gross,
            fee=figures.fee,
            net=figures.net,
            entry_id=entry_id,
        )
        log.info(
            "settled %s %s: %d lines, gross %d fee %d net %d",
            merchant.public_id,
            day,
            len(lines),
            figures.gross,
            figures.fee,
            figures.net,
        )
        return Settled(_body(row, merchant, lines), True)


def _post(
    session: Session, merchant: Merchant, figures: Figures, day: date, now: datetime
) -> int | None:
    postings = settlement_postings(
        figures,
        clearing=ledger.clearing_code(merchant.public_id, Book.REAL),
        fee_income=fee_code(merchant.currency),
        settlement=settlement_code(merchant.public_id),
    )
    if not postings:
        return None  # a day without movements moves nothing
    ledger.ensure_account(
        session,
        fee_code(merchant.currency),
        AccountKind.FEE_INCOME,
        Book.REAL,
        merchant.currency,
        now,
    )
    ledger.ensure_account(
        session,
        settlement_code(merchant.public_id),
        AccountKind.MERCHANT_SETTLEMENT,
        Book.REAL,
        merchant.currency,
        now,
    )
    session.flush()
    entry = rules.settlement(
        Book.REAL, merchant.currency, tuple(postings), f"settlement {merchant.public_id} {day}"
    )
    return ledger.post(session, entry, kind="settlement", now=now)


def _stored(
    ctx: HostContext, merchant_pk: int, day: date
) -> tuple[Settlement, Merchant, list[SettlementLine]]:
    with ctx.db.read() as session:
        merchant = session.get(Merchant, merchant_pk)
        row = session.scalar(
            select(Settlement).where(
                Settlement.merchant_id == merchant_pk, Settlement.business_date == day
            )
        )
        if row is None or merchant is None:
            raise HostError(
                "25", Text("该营业日尚未结算", "that business day is not settled"), field="date"
            )
        return row, merchant, _lines(session, row.id)


def get_settlement(ctx: HostContext, merchant_pk: int, day: date) -> SettlementBody:
    """A merchant's settlement of ``day`` (404, code 25, when not settled yet)."""
    row, merchant, lines = _stored(ctx, merchant_pk, day)
    return _body(row, merchant, lines)


def settlement_csv(ctx: HostContext, merchant_pk: int, day: date) -> str:
    """The settlement file of a stored settlement (same bytes from every host process)."""
    row, merchant, lines = _stored(ctx, merchant_pk, day)
    figures = collect(
        Line(
            Movement(
                MovementKind(line.kind),
                line.at,
                line.out_trade_no,
                abs(line.amount),
                line.out_refund_no,
            ),
            line.amount,
            line.fee,
        )
        for line in lines
    )
    return render_csv(
        figures,
        merchant_id=merchant.public_id,
        day=day,
        currency=row.currency,
        zone=ctx.settings.zone,
    )
