"""The ledger service: writes balanced entries and proves the books balance.

This is the API other money flows call (payments now; refunds and settlement
in issue 5): :func:`ensure_account` for the accounts they need, :func:`post`
to move money inside the caller's transaction, :func:`check` for the proof.
Balances are kept in step with postings by conditional updates, so an
account that may not go below zero is protected even when several host
processes post to it at once (the update re-checks the balance under the
row lock PostgreSQL takes; SQLite runs one writer at a time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import LedgerAccount, LedgerEntry, LedgerPosting
from scanpay.host.domain.ledger import (
    AccountKind,
    Book,
    Entry,
    LedgerFacts,
    LedgerProblem,
    check_ledger,
)
from scanpay.host.services.context import HostContext

__all__ = [
    "InsufficientFunds",
    "KnownAccount",
    "LedgerReport",
    "check",
    "clearing_code",
    "ensure_account",
    "funding_code",
    "network_code",
    "network_fee_code",
    "post",
    "wallet_code",
]


class InsufficientFunds(Exception):
    """A posting would take an account that may not go negative below zero."""

    def __init__(self, account: str) -> None:
        super().__init__(f"insufficient funds on {account}")
        self.account = account


def wallet_code(number: str) -> str:
    return f"wallet:{number}"


def clearing_code(merchant_id: str, book: Book) -> str:
    return f"clearing:{merchant_id}:{book}"


def funding_code(book: Book, currency: str) -> str:
    return f"funding:{book}:{currency}"


def network_code(network: str, book: Book, currency: str) -> str:
    """The account of what ``network`` owes the acquirer (``AccountKind.NETWORK_CLEARING``)."""
    return f"network:{network}:{book}:{currency}"


def network_fee_code(network: str, book: Book, currency: str) -> str:
    """The account of what ``network`` charged the acquirer (``AccountKind.NETWORK_FEES``)."""
    return f"network_fees:{network}:{book}:{currency}"


def ensure_account(
    session: Session, code: str, kind: AccountKind, book: Book, currency: str, now: datetime
) -> LedgerAccount:
    """The account named ``code``, created when missing (safe against a concurrent creator)."""
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if found is not None:
        return found
    account = LedgerAccount(
        code=code, kind=kind, book=book, currency=currency, balance=0, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        # Another transaction created it between our read and our insert.
        found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        assert found is not None
        return found
    return account


_accounts = LedgerAccount.__table__
_entries = LedgerEntry.__table__
_postings = LedgerPosting.__table__
# Built once: the hot path runs them for every payment.
_LOOKUP = select(_accounts.c.code, _accounts.c.id, _accounts.c.kind, _accounts.c.currency).where(
    _accounts.c.code.in_(bindparam("codes", expanding=True))
)
_MOVE = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("pk"))
    .values(balance=_accounts.c.balance + bindparam("amount", type_=BigInteger))
)
_GUARDED_MOVE = _MOVE.where(_accounts.c.balance + bindparam("amount", type_=BigInteger) >= 0)
_NEW_ENTRY = insert(_entries).returning(_entries.c.id)
_NEW_POSTINGS = insert(_postings)


#: A ledger account as :func:`post` needs it: id, kind, currency.
KnownAccount = tuple[int, AccountKind, str]


def post(
    session: Session,
    entry: Entry,
    *,
    kind: str,
    now: datetime,
    payment_id: int | None = None,
    known: Mapping[str, KnownAccount] | None = None,
) -> int:
    """Write ``entry`` and move the balances, in the caller's transaction; returns its id.

    Raises :class:`InsufficientFunds` when a guarded account would go below
    zero; nothing of the entry is applied then (the balances already moved are
    moved back in the same transaction), so the caller can record a decline in
    the same transaction. ``known``: accounts the caller has read already, by
    code (the others are looked up).
    """
    session.flush()  # the caller's pending rows (a payment the entry names) go first
    codes = [p.account for p in entry.postings]
    accounts: dict[str, KnownAccount] = {c: known[c] for c in codes if known and c in known}
    if len(accounts) < len(codes):
        wanted = [c for c in codes if c not in accounts]
        rows = session.connection().execute(_LOOKUP, {"codes": wanted}).all()
        accounts.update((code, (pk, AccountKind(kind), cur)) for code, pk, kind, cur in rows)
    missing = set(codes) - accounts.keys()
    if missing:
        raise KeyError(f"no ledger account {sorted(missing)}")
    if any(cur != entry.currency for _, _, cur in accounts.values()):
        raise ValueError("an entry's accounts must all be in its currency")
    # One lock order for every writer (primary key), so two entries never deadlock.
    ordered = sorted(entry.postings, key=lambda p: accounts[p.account][0])
    moved: list[tuple[int, int]] = []
    for posting in ordered:
        pk, kind_, _ = accounts[posting.account]
        guarded = posting.amount < 0 and not kind_.may_go_negative
        params = {"pk": pk, "amount": posting.amount}
        result = session.connection().execute(_GUARDED_MOVE if guarded else _MOVE, params)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            # Undo what this entry already moved: no savepoint round trips on the way
            # that succeeds (the rows stay locked by this transaction either way).
            for undo_pk, amount in reversed(moved):
                session.connection().execute(_MOVE, {"pk": undo_pk, "amount": -amount})
            raise InsufficientFunds(posting.account)
        moved.append((pk, posting.amount))
    entry_id: int = (
        session.connection()
        .execute(
            _NEW_ENTRY,
            {
                "kind": kind,
                "book": str(entry.book),
                "currency": entry.currency,
                "memo": entry.memo[:128],
                "payment_id": payment_id,
                "created_at": now,
            },
        )
        .scalar_one()
    )
    session.connection().execute(
        _NEW_POSTINGS,
        [
            {"entry_id": entry_id, "account_id": accounts[p.account][0], "amount": p.amount}
            for p in entry.postings
        ],
    )
    return entry_id


@dataclass(frozen=True, slots=True)
class LedgerReport:
    """The outcome of :func:`check`: the problems found (none: the books balance) and counts."""

    problems: tuple[LedgerProblem, ...]
    accounts: int
    entries: int
    postings: int
    totals: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "accounts": self.accounts,
            "entries": self.entries,
            "postings": self.postings,
            "totals": self.totals,
            "problems": [
                {"rule": p.rule, "subject": p.subject, "detail": p.detail} for p in self.problems
            ],
        }


def check(ctx: HostContext) -> LedgerReport:
    """Prove the ledger: entries and books sum to zero, balances equal postings, none negative.

    One read transaction, so the figures are a consistent snapshot (on
    PostgreSQL it runs REPEATABLE READ for that; SQLite's read transaction is one).
    """
    with ctx.db.read() as session:
        if ctx.db.dialect == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        posted = dict(
            session.execute(
                select(
                    LedgerPosting.account_id, func.coalesce(func.sum(LedgerPosting.amount), 0)
                ).group_by(LedgerPosting.account_id)
            ).all()
        )
        facts = [
            LedgerFacts(
                account=row.code,
                kind=AccountKind(row.kind),
                book=Book(row.book),
                currency=row.currency,
                balance=int(row.balance),
                posted=int(posted.get(row.id, 0)),
            )
            for row in session.scalars(select(LedgerAccount).order_by(LedgerAccount.id))
        ]
        entry_sums = {
            f"entry {entry_id}": int(total)
            for entry_id, total in session.execute(
                select(LedgerPosting.entry_id, func.sum(LedgerPosting.amount)).group_by(
                    LedgerPosting.entry_id
                )
            ).all()
        }
        entries = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        postings = session.scalar(select(func.count()).select_from(LedgerPosting)) or 0
    totals: dict[str, int] = {}
    for f in facts:
        key = f"{f.book}/{f.currency}/{f.kind}"
        totals[key] = totals.get(key, 0) + f.balance
    problems = check_ledger(facts, entry_sums)
    if len(entry_sums) != entries:
        problems.append(LedgerProblem("entry_unbalanced", "entries", "an entry has no postings"))
    return LedgerReport(tuple(problems), len(facts), entries, postings, totals)
