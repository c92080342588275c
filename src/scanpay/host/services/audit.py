"""The audit trail: every decision and state change, append-only and hash-chained.

A service calls :func:`record` inside its write transaction, as it decides or
changes something: who (:class:`Actor`), what (``action``), to which subject,
and the details (rule results, states, amounts). The records are chained when
the transaction commits: a ``before_commit`` hook locks the chain head (one
row, ``audit_head``), numbers the records after it, links each to the hash of
the one before (:mod:`scanpay.host.domain.audit`) and moves the head. So:

- a record exists exactly when its change was committed (same transaction);
- appends take turns in every host process (the head's row lock on
  PostgreSQL, the single writer on SQLite), and the chain has no gaps;
- the head is locked last and held only until commit, so the turn is short; on
  PostgreSQL a transaction's single record is linked by the database itself, in
  the statement that locks the head (the same canonical JSON and SHA-256,
  :func:`scanpay.host.domain.audit.record_template`), so no round trip falls
  inside the turn.

Database triggers refuse UPDATE and DELETE on ``audit_log`` (migration 0002);
:func:`verify` walks the chain and names the first broken record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.orm import Session

from scanpay.host.db.models import AuditHead, AuditLog
from scanpay.host.db.types import UTCDateTime
from scanpay.host.domain.audit import (
    AuditRecord,
    ChainReport,
    link,
    record_template,
    verify_chain,
)
from scanpay.host.services.context import HostContext

__all__ = [
    "HOST",
    "LOCAL",
    "Actor",
    "AuditEntry",
    "history",
    "record",
    "verify",
]

_PENDING = "scanpay_audit_pending"
_HEAD_ID = 1

# Built once: every audited transaction runs them.
_head, _log = AuditHead.__table__, AuditLog.__table__
_LOCK_HEAD = select(_head.c.seq, _head.c.hash).where(_head.c.id == _HEAD_ID).with_for_update()
_APPEND = insert(_log)
_MOVE_HEAD = (
    update(_head)
    .where(_head.c.id == _HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: ``kind`` is terminal, operator, portal, admin, wallet or host."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def terminal(cls, terminal_id: str) -> Actor:
        return cls("terminal", terminal_id)

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls("operator", name or "operator")

    @classmethod
    def wallet(cls, account: str) -> Actor:
        return cls("wallet", account)


#: The host itself: sweeps, automatic refunds, migrations.
HOST = Actor("host", "scanpay")
#: An operator action through the library with no name given (the CLI passes its user).
LOCAL = Actor("operator", "local")


@dataclass(frozen=True, slots=True)
class _Pending:
    at: datetime
    actor: Actor
    action: str
    subject_kind: str
    subject_id: str
    merchant_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    at: datetime,
    actor: Actor,
    action: str,
    subject: tuple[str, str],
    *,
    merchant: str | None = None,
    **data: Any,
) -> None:
    """Add a record to this transaction's audit trail (chained when it commits).

    ``data`` must be JSON (no floats: amounts are minor units). Call it outside
    savepoints that may roll back: a record belongs to the whole transaction.
    """
    kind, ident = subject
    pending: list[_Pending] = session.info.setdefault(_PENDING, [])
    pending.append(_Pending(at.astimezone(UTC), actor, action, kind, ident, merchant, dict(data)))


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[_Pending] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    if len(pending) == 1 and _links_in_database(session):
        _append_in_database(session, pending[0])
        return
    # The head is locked last in the transaction and released at commit.
    seq, prev = session.connection().execute(_LOCK_HEAD).one()
    rows: list[dict[str, Any]] = []
    for item in pending:
        seq += 1
        chained = link(
            prev,
            seq,
            at=item.at.isoformat(),
            actor_kind=item.actor.kind,
            actor_id=item.actor.id,
            action=item.action,
            subject_kind=item.subject_kind,
            subject_id=item.subject_id,
            merchant_id=item.merchant_id,
            data=item.data,
        )
        prev = chained.hash
        rows.append(
            {
                "seq": chained.seq,
                "at": item.at,
                "actor_kind": chained.actor_kind,
                "actor_id": chained.actor_id,
                "action": chained.action,
                "subject_kind": chained.subject_kind,
                "subject_id": chained.subject_id,
                "merchant_id": chained.merchant_id,
                "data": chained.data,
                "prev_hash": chained.prev_hash,
                "hash": chained.hash,
            }
        )
    session.connection().execute(_APPEND, rows)
    session.connection().execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})


# PostgreSQL links a record in the statement that locks the head: the head is then held
# from that statement to the commit, with no round trip (and no wait for this
# process's other threads) in between, so the turn every audited transaction takes is
# as short as it can be. The text hashed is the record's canonical JSON, built here
# (:func:`record_template`) around the previous hash and number the head holds.
_LINK_IN_DATABASE = text(
    """
WITH old AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
new AS (
    SELECT old.seq + 1 AS seq, old.hash AS prev,
           encode(sha256(convert_to(
               CAST(:head AS text) || old.hash || CAST(:middle AS text)
               || CAST(old.seq + 1 AS text) || CAST(:tail AS text), 'UTF8')), 'hex') AS hash
    FROM old
),
moved AS (UPDATE audit_head SET seq = new.seq, hash = new.hash FROM new WHERE audit_head.id = 1)
INSERT INTO audit_log (seq, at, actor_kind, actor_id, action, subject_kind, subject_id,
                       merchant_id, data, prev_hash, hash)
SELECT new.seq, :at, :actor_kind, :actor_id, :action, :subject_kind, :subject_id,
       :merchant_id, :data, new.prev, new.hash
FROM new
"""
).bindparams(bindparam("at", type_=UTCDateTime()))
_IN_DATABASE: dict[tuple[int, str], bool] = {}


def _links_in_database(session: Session) -> bool:
    """Whether this database links records itself: PostgreSQL 11+ (``sha256``) with UTF-8
    text (so that it hashes the same bytes as :func:`record_hash`)."""
    bind = session.get_bind()
    key = (id(bind), bind.dialect.name)
    known = _IN_DATABASE.get(key)
    if known is None:
        known = False
        if bind.dialect.name == "postgresql":
            conn = session.connection()
            version = conn.dialect.server_version_info or (0,)
            encoding = conn.exec_driver_sql("SHOW server_encoding").scalar()
            known = version >= (11,) and str(encoding).upper() in ("UTF8", "UTF-8")
        _IN_DATABASE[key] = known
    return known


def _append_in_database(session: Session, item: _Pending) -> None:
    template = record_template(
        at=item.at.isoformat(),
        actor_kind=item.actor.kind,
        actor_id=item.actor.id,
        action=item.action,
        subject_kind=item.subject_kind,
        subject_id=item.subject_id,
        merchant_id=item.merchant_id,
        data=item.data,
    )
    session.connection().execute(
        _LINK_IN_DATABASE,
        {
            "head": template.head,
            "middle": template.middle,
            "tail": template.tail,
            "at": item.at,
            "actor_kind": item.actor.kind,
            "actor_id": item.actor.id,
            "action": item.action,
            "subject_kind": item.subject_kind,
            "subject_id": item.subject_id,
            "merchant_id": item.merchant_id,
            "data": template.data,
        },
    )


def _stored(row: AuditLog) -> AuditRecord:
    return AuditRecord(
        row.seq,
        row.at.isoformat(),
        row.actor_kind,
        row.actor_id,
        row.action,
        row.subject_kind,
        row.subject_id,
        row.merchant_id,
        row.data,
        row.prev_hash,
        row.hash,
    )


def verify(ctx: HostContext) -> ChainReport:
    """Walk the whole chain (one consistent snapshot) and name the first broken record."""
    with ctx.db.read() as session:
        if ctx.db.dialect == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = session.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == _HEAD_ID)
        ).one_or_none()

        def records() -> Iterator[AuditRecord]:
            rows = session.scalars(
                select(AuditLog).order_by(AuditLog.seq).execution_options(yield_per=2000)
            )
            for row in rows:
                yield _stored(row)

        return verify_chain(records(), (head[0], head[1]) if head is not None else None)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A record as the operator or the portal reads it."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    merchant_id: str | None
    data: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "merchant_id": self.merchant_id,
            "data": dict(self.data),
        }


def history(
    ctx: HostContext,
    *,
    subject: tuple[str, str] | None = None,
    merchant: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest records first, for one subject or one merchant (or all)."""
    query = select(AuditLog).order_by(AuditLog.seq.desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditLog.subject_kind == subject[0], AuditLog.subject_id == subject[1])
    if merchant is not None:
        query = query.where(AuditLog.merchant_id == merchant)
    with ctx.db.read() as session:
        return [
            AuditEntry(
                row.seq,
                row.at,
                f"{row.actor_kind}:{row.actor_id}",
                row.action,
                f"{row.subject_kind}:{row.subject_id}",
                row.merchant_id,
                json.loads(row.data),
            )
            for row in session.scalars(query)
        ]
