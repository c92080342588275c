"""The audit chain: canonical JSON, links, and what verification catches."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.audit import (
    GENESIS,
    AuditRecord,
    canonical_json,
    link,
    record_hash,
    verify_chain,
)


def chain(n: int) -> list[AuditRecord]:
    records, prev = [], GENESIS
    for seq in range(1, n + 1):
        record = link(
            prev,
            seq,
            at=f"2026-01-01T00:00:{seq:02d}+00:00",
            actor_kind="terminal",
            actor_id="T000001",
            action="payment.create",
            subject_kind="payment",
            subject_id=f"P{seq}",
            merchant_id="M000001",
            data={"amount": seq * 100, "status": "SUCCESS", "note": "付款"},
        )
        records.append(record)
        prev = record.hash
    return records


def test_canonical_json_is_one_text_per_value() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    with pytest.raises(TypeError, match="floats"):
        canonical_json({"amount": 1.5})
    with pytest.raises(TypeError):
        canonical_json({1: "x"})
    with pytest.raises(TypeError):
        canonical_json({"when": object()})


def test_a_record_hash_is_sha256_of_its_canonical_fields() -> None:
    first = chain(1)[0]
    assert first.prev_hash == GENESIS
    expected = hashlib.sha256(canonical_json(first.fields()).encode()).hexdigest()
    assert first.hash == record_hash(first) == expected
    assert first.data == '{"amount":100,"note":"付款","status":"SUCCESS"}'


def test_an_intact_chain_verifies() -> None:
    records = chain(5)
    report = verify_chain(records, (5, records[-1].hash))
    assert (report.ok, report.checked, report.last_seq, report.broken_seq) == (True, 5, 5, None)
    assert verify_chain([]).ok and verify_chain([], (0, GENESIS)).ok


def test_an_altered_record_is_named() -> None:
    records = chain(5)
    records[2] = replace(records[2], data=records[2].data.replace("300", "301"))
    report = verify_chain(records)
    assert (report.ok, report.broken_seq, report.checked) == (False, 3, 2)
    assert "contents" in (report.problem or "")


def test_a_rehashed_record_breaks_the_next_link() -> None:
    records = chain(5)
    forged = replace(records[1], data='{"amount":1}')
    records[1] = replace(forged, hash=record_hash(forged))
    report = verify_chain(records)
    assert (report.broken_seq, report.problem) == (
        3,
        "its previous-hash does not match the record before it",
    )


def test_removed_records_are_named() -> None:
    records = chain(5)
    gap = verify_chain(records[:2] + records[3:])
    assert (gap.broken_seq, gap.problem) == (3, "record 3 is missing (next stored is 4)")
    tail = verify_chain(records[:3], (5, records[-1].hash))
    assert (tail.ok, tail.broken_seq) == (False, 4)
    assert "4..5 are missing" in (tail.problem or "")
    reordered = verify_chain([records[1], records[0]])
    assert reordered.broken_seq == 1


@given(st.integers(1, 12), st.data())
def test_any_single_change_is_caught(n: int, data: st.DataObject) -> None:
    records = chain(n)
    i = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(["at", "actor_id", "action", "subject_id", "data"]))
    records[i] = replace(records[i], **{field: getattr(records[i], field) + "x"})
    report = verify_chain(records, (n, chain(n)[-1].hash))
    assert not report.ok and report.broken_seq == i + 1
