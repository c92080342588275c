"""Realistic transactions in bulk, for the portal's benchmark, demos and screenshots.

``scanpay host fixtures --transactions 100000`` writes a merchant's history
quickly and keeps every invariant the host checks:

- the merchant (a new one, approved, unless ``--merchant`` names one), its
  terminals (activated through the real service) and its customers' wallets
  (opened through the real service, loaded with what they will spend);
- payments over the last ``days`` days, busier at lunch and dinner, in the
  states a real day has (paid, partly or fully refunded, declined with the
  issuer's reasons, reversed), with masked payers; some came from
  merchant-presented orders;
- for every captured payment and refund the ledger entry and its two
  postings, and the balances moved by the same sums, so ``scanpay host ledger
  check`` still passes; a ``payment.create``/``refund.create`` record per
  movement in the audit chain (chained like any other), so the portal's
  history has something to show and ``audit verify`` still passes;
- the last ``settle_days`` finished days settled by the real settlement
  service, one matched and one mismatched day-close batch, a self-test report.

Rows are inserted in chunks (``insert ... returning`` in batches), one
transaction per chunk, so memory stays bounded and 100,000 transactions take
seconds, not the hours one signed request each would.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from scanpay.codes.mask import mask_text
from scanpay.host.db.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerPosting,
    Merchant,
    Order,
    Payment,
    Refund,
    Terminal,
    WalletAccount,
    parse_public_id,
)
from scanpay.host.domain.ledger import Book
from scanpay.host.domain.orders import order_payload
from scanpay.host.domain.parties import MerchantStatus, TerminalStatus
from scanpay.host.domain.uscc import USCC_ALPHABET, check_character
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, merchants, settlement, terminals, wallets
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.batches import close_batch
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.protocol.models import BatchCloseRequest, BatchItem

__all__ = ["FixtureReport", "generate", "random_licence"]

_CHUNK = 10_000
_ANALYZED = ("payments", "refunds", "orders", "ledger_entries", "ledger_postings", "audit_log")
_ACTOR = audit.Actor("host", "fixtures")
_DESCRIPTIONS = ("", "", "", "2 coffees", "lunch set", "groceries", "noodles", "tea", "fruit")
_DECLINES = (
    ("insufficient_funds", "51", "scanpay"),
    ("code_used", "14", "scanpay"),
    ("expired", "54", "scanpay"),
    ("wallet_not_served", "57", "wechat_pay"),
    ("wallet_not_served", "57", "alipay"),
)


def random_licence(rng: random.Random) -> str:
    """A unified social credit code with a right check character (for a fixture merchant)."""
    region = f"{rng.choice((11, 31, 35, 44, 51))}{rng.randint(0, 9999):04d}"
    body = "91" + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + check_character(body)


@dataclass
class FixtureReport:
    """What :func:`generate` wrote."""

    merchant_id: str
    terminals: list[str]
    payments: int = 0
    captured: int = 0
    refunds: int = 0
    orders: int = 0
    settled_days: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "terminals": self.terminals,
            "payments": self.payments,
            "captured": self.captured,
            "refunds": self.refunds,
            "orders": self.orders,
            "settled_days": self.settled_days,
            "seconds": round(self.seconds, 2),
            "by_status": self.by_status,
        }


@dataclass(frozen=True, slots=True)
class _Plan:
    at: datetime
    terminal: int  # index into the terminals
    status: str
    code: str
    reason: str | None
    wallet: str
    amount: int
    refund: int
    order: bool
    description: str


def _amount(rng: random.Random) -> int:
    value = math.exp(rng.gauss(3.6, 0.9)) * 100  # median about 36.60, a long tail
    cents = int(min(max(value, 100), 300_000))
    return cents - cents % 50 if rng.random() < 0.5 else cents


def _moment(rng: random.Random, day_start: datetime) -> datetime:
    hour = rng.choices(
        (rng.uniform(7, 11), rng.uniform(11, 13.5), rng.uniform(13.5, 17), rng.uniform(17, 20.5),
         rng.uniform(20.5, 23)),
        weights=(2, 4, 2, 4, 1),
    )[0]  # fmt: skip
    return day_start + timedelta(hours=hour)


def _plan(
    rng: random.Random, count: int, days: int, now: datetime, zone: Any, terminals_n: int
) -> list[_Plan]:
    today = now.astimezone(zone).date()
    # Busier weekends and a slow growth over the period, like a shop finding customers.
    weights = []
    for back in range(days):
        day = today - timedelta(days=back)
        weights.append((1.3 if day.weekday() >= 5 else 1.0) * (1.0 - 0.3 * back / max(days, 1)))
    out = []
    for _ in range(count):
        back = rng.choices(range(days), weights=weights)[0]
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        at = _moment(rng, start)
        if at > now:  # later today: it happened at that time yesterday instead
            at -= timedelta(days=1)
        roll = rng.random()
        amount = _amount(rng)
        refund, reason, code, wallet = 0, None, "00", "scanpay"
        if roll < 0.84:
            status = "SUCCESS"
        elif roll < 0.87 and amount >= 200:
            status, refund = "PARTIALLY_REFUNDED", max(100, amount // rng.choice((2, 3, 4)))
        elif roll < 0.89:
            status, refund = "REFUNDED", amount
        elif roll < 0.97:
            reason, code, wallet = rng.choice(_DECLINES)
            status = "FAILED"
        else:
            status, code, reason = "REVERSED", "12", "reversed"
        out.append(
            _Plan(
                at.astimezone(now.tzinfo), rng.randrange(terminals_n), status, code, reason,
                wallet, amount, refund, status == "SUCCESS" and rng.random() < 0.05,
                rng.choice(_DESCRIPTIONS),
            )
        )  # fmt: skip
    out.sort(key=lambda p: p.at)
    return out


def _ensure_merchant(ctx: HostContext, merchant_id: str | None, rng: random.Random) -> str:
    if merchant_id is not None:
        merchants.get_merchant(ctx, merchant_id)  # 404 unless it exists
        return merchant_id
    info = merchants.add_merchant(
        ctx,
        name=f"Fixture Shop {rng.randint(100, 999)}",
        city="Shanghai",
        mcc="5812",
        license=random_licence(rng),
        actor=_ACTOR,
    )
    merchants.set_status(ctx, info.merchant_id, "approve", actor=_ACTOR)
    return info.merchant_id


def _ensure_terminals(ctx: HostContext, merchant_id: str, count: int) -> list[tuple[int, str]]:
    pk = parse_public_id(merchant_id, "M")
    with ctx.db.read() as session:
        status = session.scalar(select(Merchant.status).where(Merchant.id == pk))
        have = session.scalars(
            select(Terminal).where(Terminal.merchant_id == pk).order_by(Terminal.id)
        ).all()
    out = [(t.id, t.public_id) for t in have]
    while len(out) < count:
        issued = terminals.add_terminal(ctx, merchant_id, actor=_ACTOR)
        if status == MerchantStatus.APPROVED:
            terminals.activate(ctx, issued.activation_code, "1.0.0")
        out.append((parse_public_id(issued.terminal_id, "T") or 0, issued.terminal_id))
    return out


def _hex(n: int) -> str:
    return secrets.token_hex(n).upper()


def generate(
    ctx: HostContext,
    *,
    transactions: int,
    merchant_id: str | None = None,
    days: int = 90,
    terminal_count: int = 4,
    wallet_count: int = 8,
    settle_days: int = 7,
    seed: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> FixtureReport:
    """Write ``transactions`` payments (and what goes with them) for a merchant."""
    if transactions < 1 or days < 1 or terminal_count < 1 or wallet_count < 1:
        raise HostError("30", Text("数量须为正数", "counts must be positive"))
    started = time.perf_counter()
    rng = random.Random(seed)
    now = ctx.now()
    zone = ctx.settings.zone
    merchant_id = _ensure_merchant(ctx, merchant_id, rng)
    merchant_pk = parse_public_id(merchant_id, "M") or 0
    tills = _ensure_terminals(ctx, merchant_id, terminal_count)
    plans = _plan(rng, transactions, days, now, zone, len(tills))
    with ctx.db.read() as session:
        merchant = session.get(Merchant, merchant_pk)
        assert merchant is not None
        name, city, mcc, currency = merchant.name, merchant.city, merchant.mcc, merchant.currency
        payee = merchant.payee or merchant.public_id
        # Trade numbers go on from the merchant's last run: a second run for the same
        # merchant and terminals must not make a number the first one made that day.
        already = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.merchant_id == merchant_pk)
        )
        clearing_pk = session.scalar(
            select(LedgerAccount.id).where(
                LedgerAccount.code == ledger.clearing_code(merchant_id, Book.REAL)
            )
        )
    assert clearing_pk is not None
    # Customers: each wallet is loaded with what it will spend (plus a little), so the
    # ledger's rule "no customer balance below zero" holds at every step.
    spend = [0] * wallet_count
    owner = [rng.randrange(wallet_count) for _ in plans]
    for plan, w in zip(plans, owner, strict=True):
        if plan.status in ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"):
            spend[w] += plan.amount
    # Opening hashes each wallet's PIN (argon2, slow on purpose): in threads, which the
    # hash releases the GIL for; the write transactions still take turns.
    pins = [f"{rng.randrange(10**6):06d}" for _ in range(wallet_count)]

    def open_one(i: int) -> str:
        opened = wallets.open_account(
            ctx,
            name=f"Customer {i + 1}",
            currency=currency,
            balance=spend[i] + 100_000,
            pin=pins[i],
            actor=_ACTOR,
        )
        return opened.info.account

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(open_one, range(wallet_count)))
    with ctx.db.read() as session:
        rows = {
            row.number: row
            for row in session.scalars(
                select(WalletAccount).where(WalletAccount.number.in_(numbers))
            )
        }
    accounts = [(rows[n].id, rows[n].ledger_account_id, n) for n in numbers]
    report = FixtureReport(merchant_id, [public for _, public in tills])
    prefix = ctx.settings.wallet_prefix
    for offset in range(0, len(plans), _CHUNK):
        chunk = plans[offset : offset + _CHUNK]
        owners = owner[offset : offset + _CHUNK]
        _write_chunk(
            ctx, chunk, owners, offset, (already or 0) + offset, merchant_pk, merchant_id, tills,
            accounts, clearing_pk, currency, prefix, (payee, name, city, mcc), now, report,
        )  # fmt: skip
        if progress is not None:
            progress(min(offset + _CHUNK, len(plans)), len(plans))
    report.settled_days = _settle(ctx, merchant_id, now, settle_days)
    _batches_and_selftest(ctx, merchant_pk, merchant_id, tills, now, currency)
    # After a bulk load, the planner's statistics, as autovacuum (PostgreSQL) or a periodic
    # ANALYZE (SQLite) keeps them for tables that grow a row at a time; without them a
    # keyset page can be planned as a sort of the whole merchant.
    with ctx.db.write() as session:
        for table in _ANALYZED:
            session.execute(text(f"ANALYZE {table}"))
    report.seconds = time.perf_counter() - started
    return report


def _reserve_ids(session: Session, model: type[Payment] | type[LedgerEntry], n: int) -> list[int]:
    """``n`` primary keys for rows inserted in bulk (plain inserts without RETURNING are
    several times faster). PostgreSQL: drawn from the table's sequence, so concurrent
    inserts never collide; SQLite: after the largest, under the write lock we hold."""
    if n == 0:
        return []
    table = model.__tablename__
    if session.get_bind().dialect.name == "postgresql":
        sequence = f"nextval(pg_get_serial_sequence('{table}', 'id'))"
        query = text(f"SELECT {sequence} FROM generate_series(1, :n)")
        return [int(pk) for pk in session.execute(query, {"n": n}).scalars().all()]
    top = session.scalar(select(func.max(model.id))) or 0
    return list(range(top + 1, top + n + 1))


def _write_chunk(
    ctx: HostContext,
    chunk: list[_Plan],
    owners: list[int],
    offset: int,
    numbered_after: int,
    merchant_pk: int,
    merchant_id: str,
    tills: list[tuple[int, str]],
    accounts: list[tuple[int, int, str]],
    clearing_pk: int,
    currency: str,
    prefix: str,
    shop: tuple[str, str, str, str],
    now: datetime,
    report: FixtureReport,
) -> None:
    payee, name, city, mcc = shop
    rng = random.Random(offset)
    payment_rows = []
    for i, (plan, w) in enumerate(zip(chunk, owners, strict=True)):
        terminal_pk, terminal_id = tills[plan.terminal]
        number = numbered_after + i + 1
        local = plan.at.astimezone(ctx.settings.zone)
        out_trade_no = f"{terminal_id}-{local:%y%m%d}-{number:06d}"
        digits = (prefix if plan.wallet == "scanpay" else "13") + f"{rng.randrange(10**16):016d}"
        captured = plan.status in ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")
        payment_rows.append(
            {
                "public_id": "P" + _hex(12),
                "merchant_id": merchant_pk,
                "terminal_id": terminal_pk,
                "out_trade_no": out_trade_no,
                "request_hash": hashlib.sha256(out_trade_no.encode()).hexdigest(),
                "status": plan.status,
                "code": plan.code,
                "reason": plan.reason,
                "amount": plan.amount,
                "currency": currency,
                "wallet": plan.wallet,
                "payer": mask_text(digits),
                "wallet_account_id": accounts[w][0] if plan.wallet == "scanpay" else None,
                "training": False,
                "tombstone": False,
                "description": plan.description or None,
                "operator_id": f"c0{1 + number % 3}",
                "refunded_amount": plan.refund,
                "created_at": plan.at,
                "updated_at": plan.at,
                "paid_at": plan.at if captured else None,
                "pin_deadline": None,
                "risk_flags": None,
            }
        )
    till_of = dict(tills)
    with ctx.db.write() as session:
        ids = _reserve_ids(session, Payment, len(payment_rows))
        for pk, row in zip(ids, payment_rows, strict=True):
            row["id"] = pk
        session.execute(insert(Payment.__table__), payment_rows)
        entries: list[dict[str, Any]] = []
        postings_plan: list[tuple[int, int, int]] = []  # (wallet ledger pk, amount to clearing)
        refunds_plan: list[tuple[int, dict[str, Any], _Plan, int]] = []
        for pk, row, plan, w in zip(ids, payment_rows, chunk, owners, strict=True):
            if plan.status not in ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED"):
                continue
            entries.append(
                {"kind": "capture", "book": "real", "currency": currency, "memo": "payment",
                 "payment_id": pk, "created_at": plan.at}
            )  # fmt: skip
            postings_plan.append((accounts[w][1], plan.amount, 0))
            if plan.refund:
                when = min(plan.at + timedelta(minutes=rng.uniform(5, 600)), now)
                entries.append(
                    {"kind": "refund", "book": "real", "currency": currency, "memo": "refund",
                     "payment_id": pk, "created_at": when}
                )  # fmt: skip
                postings_plan.append((accounts[w][1], -plan.refund, 1))
                refunds_plan.append((pk, row, plan, len(entries) - 1))
        entry_ids = _reserve_ids(session, LedgerEntry, len(entries))
        for pk, entry in zip(entry_ids, entries, strict=True):
            entry["id"] = pk
        if entries:
            session.execute(insert(LedgerEntry.__table__), entries)
        postings = []
        wallet_delta: dict[int, int] = {}
        clearing_delta = 0
        for entry_id, (wallet_ledger, amount, _) in zip(entry_ids, postings_plan, strict=True):
            postings.append({"entry_id": entry_id, "account_id": wallet_ledger, "amount": -amount})
            postings.append({"entry_id": entry_id, "account_id": clearing_pk, "amount": amount})
            wallet_delta[wallet_ledger] = wallet_delta.get(wallet_ledger, 0) - amount
            clearing_delta += amount
        if postings:
            session.execute(insert(LedgerPosting.__table__), postings)
        for account_pk, delta in wallet_delta.items():
            session.execute(
                update(LedgerAccount)
                .where(LedgerAccount.id == account_pk)
                .values(balance=LedgerAccount.balance + delta)
            )
        session.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == clearing_pk)
            .values(balance=LedgerAccount.balance + clearing_delta)
        )
        refund_rows = []
        for pk, row, plan, entry_index in refunds_plan:
            refund_rows.append(
                {
                    "public_id": "R" + _hex(12),
                    "merchant_id": merchant_pk,
                    "terminal_id": row["terminal_id"],
                    "payment_id": pk,
                    "out_refund_no": f"{row['out_trade_no']}-R1",
                    "request_hash": hashlib.sha256(row["public_id"].encode()).hexdigest(),
                    "status": "SUCCESS",
                    "code": "00",
                    "decline_reason": None,
                    "reason": rng.choice(("damaged", "wrong item", "customer changed mind")),
                    "approved_by": "sup01",
                    "requested_by": f"terminal:{tills[plan.terminal][1]}",
                    "amount": plan.refund,
                    "currency": currency,
                    "training": False,
                    "risk_flags": None,
                    "entry_id": entry_ids[entry_index],
                    "created_at": entries[entry_index]["created_at"],
                }
            )
        if refund_rows:
            session.execute(insert(Refund.__table__), refund_rows)
        order_rows = []
        for pk, row, plan in zip(ids, payment_rows, chunk, strict=True):
            if not plan.order:
                continue
            order_id = "O" + _hex(8)
            order_rows.append(
                {
                    "public_id": order_id,
                    "merchant_id": merchant_pk,
                    "terminal_id": row["terminal_id"],
                    "out_trade_no": row["out_trade_no"],
                    "request_hash": row["request_hash"],
                    "status": "PAID",
                    "amount": plan.amount,
                    "currency": currency,
                    "description": row["description"],
                    "payload": order_payload(
                        payee=payee,
                        reference=order_id,
                        merchant_name=name,
                        merchant_city=city,
                        mcc=mcc,
                        currency=currency,
                        country=ctx.settings.country,
                        amount=plan.amount,
                    ),
                    "payment_id": pk,
                    "payer": row["payer"],
                    "created_at": plan.at - timedelta(seconds=20),
                    "updated_at": plan.at,
                    "expires_at": plan.at + timedelta(seconds=280),
                    "paid_at": plan.at,
                }
            )
        if order_rows:
            session.execute(insert(Order.__table__), order_rows)
        for row in payment_rows:
            audit.record(
                session,
                row["created_at"],
                audit.Actor.terminal(till_of[row["terminal_id"]]),
                "payment.create",
                ("payment", row["public_id"]),
                merchant=merchant_id,
                out_trade_no=row["out_trade_no"],
                amount=row["amount"],
                currency=currency,
                before=None,
                status="SUCCESS" if row["paid_at"] else row["status"],
                code="00" if row["paid_at"] else row["code"],
                reason=row["reason"],
                wallet=row["wallet"],
                payer=row["payer"],
                training=False,
                fixture=True,
            )
        status_of = {pk: row["status"] for pk, row in zip(ids, payment_rows, strict=True)}
        for refund in refund_rows:
            audit.record(
                session,
                refund["created_at"],
                audit.Actor("terminal", refund["requested_by"].split(":")[1]),
                "refund.create",
                ("refund", refund["public_id"]),
                merchant=merchant_id,
                out_refund_no=refund["out_refund_no"],
                amount=refund["amount"],
                currency=currency,
                status="SUCCESS",
                code="00",
                approved_by="sup01",
                payment_before="SUCCESS",
                payment_after=status_of[refund["payment_id"]],
                fixture=True,
            )
    report.payments += len(payment_rows)
    report.captured += len(postings_plan) - len(refund_rows)
    report.refunds += len(refund_rows)
    report.orders += len(order_rows)
    for row in payment_rows:
        report.by_status[row["status"]] = report.by_status.get(row["status"], 0) + 1


def _settle(ctx: HostContext, merchant_id: str, now: datetime, count: int) -> int:
    today = now.astimezone(ctx.settings.zone).date()
    done = 0
    for back in range(count, 0, -1):
        day = today - timedelta(days=back)
        try:
            settlement.settle_day(ctx, day, merchant_id, actor=_ACTOR)
            done += 1
        except HostError:  # the day is not over yet (just after midnight)
            continue
    return done


def _batches_and_selftest(
    ctx: HostContext,
    merchant_pk: int,
    merchant_id: str,
    tills: list[tuple[int, str]],
    now: datetime,
    currency: str,
) -> None:
    """Yesterday's day close from two terminals (one matches, one is a payment short) and
    a self-test report with a reversal still pending."""
    yesterday: date = now.astimezone(ctx.settings.zone).date() - timedelta(days=1)
    from scanpay.host.services.batches import host_lines

    for index, (terminal_pk, terminal_id) in enumerate(tills[:2]):
        lines = host_lines(ctx, terminal_pk, yesterday, currency)
        if index == 1 and lines:
            lines = lines[:-1]  # this terminal's journal lost its last line of the day
        paid = [line for line in lines if line.kind == "payment"]
        refunds = [line for line in lines if line.kind == "refund"]
        count, total = len(paid), sum(line.amount for line in paid)
        identity = TerminalIdentity(
            terminal_pk, terminal_id, merchant_pk, merchant_id, "approved", key_hex=""
        )
        close_batch(
            ctx,
            identity,
            BatchCloseRequest(
                date=yesterday,
                currency=currency,
                count=count,
                total=total,
                refund_count=len(refunds),
                refund_total=sum(line.amount for line in refunds),
                items=[
                    BatchItem(
                        out_trade_no=line.out_trade_no,
                        kind=line.kind,
                        status=line.status,
                        amount=line.amount,
                    )
                    for line in lines
                ],
            ),
        )
    with ctx.db.read() as session:
        active = session.scalar(
            select(Terminal.id).where(
                Terminal.merchant_id == merchant_pk, Terminal.status == TerminalStatus.ACTIVE
            )
        )
    if active is not None:
        terminals.record_self_test(
            ctx,
            active,
            status="warn",
            pending_reversals=1,
            in_doubt=0,
            checks={
                "camera": "ok",
                "host": "ok",
                "clock": "ok",
                "journal": "ok",
                "reversals": "warn",
            },
            pending=[f"{tills[0][1]}-{now.astimezone(ctx.settings.zone):%y%m%d}-R"],
            software_version="1.0.0",
        )
