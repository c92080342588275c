"""The audit trail's hash chain: canonical JSON, record hashes, verification.

Every audit record carries the hash of the record before it. A record's hash
is SHA-256 over the canonical JSON (:func:`canonical_json`: sorted keys, no
blanks, UTF-8, no floats) of all its fields, the previous hash included, so
changing, removing or reordering any record breaks every hash after it, and
:func:`verify_chain` names the first record that no longer fits. The first
record's previous hash is :data:`GENESIS`.

Pure: the service stores and reads the records; this module only computes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "GENESIS",
    "AuditRecord",
    "ChainReport",
    "RecordTemplate",
    "canonical_json",
    "link",
    "record_hash",
    "record_template",
    "verify_chain",
]

#: The "previous hash" of the first record.
GENESIS = "0" * 64


def _check_value(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        # Float text differs between languages and versions: a chain must not depend on it.
        raise TypeError(f"{path}: floats are not allowed in canonical JSON (use minor units)")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings")
            _check_value(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, ``,`` and ``:`` without blanks, non-ASCII as is."""
    _check_value(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record: who did what to which subject, when, with details (canonical JSON text)."""

    seq: int
    at: str  # ISO 8601 UTC
    actor_kind: str
    actor_id: str
    action: str
    subject_kind: str
    subject_id: str
    merchant_id: str | None
    data: str
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        """Everything the hash covers."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": {"kind": self.actor_kind, "id": self.actor_id},
            "action": self.action,
            "subject": {"kind": self.subject_kind, "id": self.subject_id},
            "merchant": self.merchant_id,
            "data": self.data,
            "prev": self.prev_hash,
        }


def record_hash(record: AuditRecord) -> str:
    """The hash a record must carry: SHA-256 hex of the canonical JSON of its fields."""
    return hashlib.sha256(canonical_json(record.fields()).encode()).hexdigest()


def link(
    prev_hash: str,
    seq: int,
    *,
    at: str,
    actor_kind: str,
    actor_id: str,
    action: str,
    subject_kind: str,
    subject_id: str,
    merchant_id: str | None,
    data: Mapping[str, Any],
) -> AuditRecord:
    """The next record of a chain whose last hash is ``prev_hash``."""
    draft = AuditRecord(
        seq,
        at,
        actor_kind,
        actor_id,
        action,
        subject_kind,
        subject_id,
        merchant_id,
        canonical_json(dict(data)),
        prev_hash,
        "",
    )
    return replace(draft, hash=record_hash(draft))


@dataclass(frozen=True, slots=True)
class RecordTemplate:
    """A record's canonical JSON before it is chained, around the two fields the chain
    gives it: ``head + PREV_HASH + middle + SEQ + tail``.

    The keys are sorted and ``prev`` and ``seq`` are neighbours, so the text of a
    record is the same with any previous hash and sequence number in those two
    places (64 hex digits and a decimal integer need no escaping). The link can
    then be made wherever the chain's head is read (by the database, under the
    head's lock): the hash is SHA-256 of :meth:`text`, exactly :func:`record_hash`.
    """

    head: str
    middle: str
    tail: str
    #: The record's ``data`` as canonical JSON text (what the record stores).
    data: str

    def text(self, prev_hash: str, seq: int) -> str:
        """The canonical JSON of the record chained after ``prev_hash`` as number ``seq``."""
        return f"{self.head}{prev_hash}{self.middle}{seq}{self.tail}"


_MARK = '"prev":"","seq":0,"subject":'


def record_template(
    *,
    at: str,
    actor_kind: str,
    actor_id: str,
    action: str,
    subject_kind: str,
    subject_id: str,
    merchant_id: str | None,
    data: Mapping[str, Any],
) -> RecordTemplate:
    """The :class:`RecordTemplate` of a record with these fields."""
    # A record linked after "" as number 0, its hash field then set back to "".
    draft = replace(
        link(
            "",
            0,
            at=at,
            actor_kind=actor_kind,
            actor_id=actor_id,
            action=action,
            subject_kind=subject_kind,
            subject_id=subject_id,
            merchant_id=merchant_id,
            data=data,
        ),
        hash="",
    )
    text = canonical_json(draft.fields())
    # Every other string is escaped inside its JSON string, so the mark occurs once.
    at_mark = text.index(_MARK)
    cut = at_mark + len('"prev":"')
    rest = len('","seq":')
    return RecordTemplate(
        head=text[:cut],
        middle=text[cut : cut + rest],
        tail=text[at_mark + len(_MARK) - len(',"subject":') :],
        data=draft.data,
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of :func:`verify_chain`. ``broken_seq`` names the first bad record."""

    ok: bool
    checked: int
    last_seq: int
    broken_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "last_seq": self.last_seq,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
        }


def verify_chain(
    records: Iterable[AuditRecord], head: tuple[int, str] | None = None
) -> ChainReport:
    """Walk records in ``seq`` order; the first one that breaks the chain is named.

    ``head`` is the chain's stored end (last sequence number and hash): it
    catches records removed from the end, which leave no gap behind them.
    """
    prev, expected, checked = GENESIS, 1, 0
    for record in records:
        if record.seq != expected:
            return ChainReport(
                False,
                checked,
                expected - 1,
                expected,
                f"record {expected} is missing (next stored is {record.seq})",
            )
        if record.prev_hash != prev:
            return ChainReport(
                False,
                checked,
                record.seq - 1,
                record.seq,
                "its previous-hash does not match the record before it",
            )
        if record_hash(record) != record.hash:
            return ChainReport(
                False, checked, record.seq - 1, record.seq, "its contents do not match its hash"
            )
        prev, expected, checked = record.hash, expected + 1, checked + 1
    last = expected - 1
    if head is not None and head != (last, prev):
        head_seq, _ = head
        if head_seq > last:
            return ChainReport(
                False,
                checked,
                last,
                last + 1,
                f"records {last + 1}..{head_seq} are missing from the end",
            )
        return ChainReport(
            False, checked, last, head_seq or None, "the chain head does not match the last record"
        )
    return ChainReport(True, checked, last)
