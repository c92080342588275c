"""The journal on a real SQLite file: durable pragmas, snapshots, append-only chain, queue."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scanpay.terminal.journal import Journal
from scanpay.terminal.sale import CodeScanned, CodeSummary, Sale, SaleState, advance


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "journal.db")
    yield j
    j.close()


def test_journal_is_wal_with_full_sync(journal: Journal) -> None:
    assert journal.pragma("journal_mode") == "wal"
    assert journal.pragma("synchronous") == 2  # FULL


def test_sale_snapshot_and_event_are_written_together(journal: Journal) -> None:
    sale = Sale.open("T1-1", 100, "CNY", operator_id="c01", now=1.0)
    journal.save_sale(sale, event="opened", at=1.0, operator_id="c01", from_state=None)
    code = CodeSummary("wallet", "scanpay", "scanpay 881234********5678")
    after = advance(sale, CodeScanned(2.0, code)).sale
    journal.save_sale(
        after,
        event="code_scanned",
        at=2.0,
        operator_id="c02",
        from_state="NEW",
        detail=code.to_dict(),
    )
    assert journal.get_sale("T1-1") == after
    rows = journal.events(ref="T1-1")
    assert [(r.event, r.from_state, r.to_state, r.operator_id) for r in rows] == [
        ("opened", None, "NEW", "c01"),
        ("code_scanned", "NEW", "CODE_READ", "c02"),
    ]
    assert rows[1].detail == code.to_dict()
    assert journal.sales(states={SaleState.CODE_READ}) == [after]
    assert journal.count_in_doubt() == 0


def test_a_failed_transaction_leaves_nothing(journal: Journal) -> None:
    sale = Sale.open("T1-2", 100, "CNY", operator_id="c01", now=1.0)
    with pytest.raises(RuntimeError), journal.transaction():
        journal.save_sale(sale, event="opened", at=1.0, operator_id="c01", from_state=None)
        raise RuntimeError("crash between the writes")
    assert journal.get_sale("T1-2") is None and journal.events() == []


def test_events_are_append_only(journal: Journal) -> None:
    journal.append(at=1.0, kind="test", event="x", operator_id="c01")
    db = sqlite3.connect(journal.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE events SET operator_id = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()


def test_hash_chain_names_the_first_tampered_row(journal: Journal) -> None:
    for i in range(5):
        journal.append(at=float(i), kind="test", ref=f"r{i}", event="x", operator_id="c01")
    assert journal.verify_chain() is None
    db = sqlite3.connect(journal.path)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET operator_id = 'mallory' WHERE seq = 3")
    db.commit()
    db.close()
    assert journal.verify_chain() == 3


def test_reversal_queue_is_idempotent_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    j = Journal(path)
    sale = Sale.open("T1-3", 100, "CNY", operator_id="c01", now=1.0)
    j.save_sale(sale, event="opened", at=1.0, operator_id="c01", from_state=None)
    assert j.enqueue_reversal("T1-3", "timeout", 5.0) is True
    assert j.enqueue_reversal("T1-3", "timeout", 6.0) is False
    j.reversal_failed("T1-3", "network: ConnectError", 9.0)
    j.close()
    j = Journal(path)
    (entry,) = j.reversals()
    assert (entry.attempts, entry.next_attempt_at, entry.last_error) == (
        1,
        9.0,
        "network: ConnectError",
    )
    j.reversal_acked("T1-3", "REVERSED", 10.0)
    assert j.reversals() == [] and j.reversal("T1-3").host_status == "REVERSED"  # type: ignore[union-attr]
    j.close()


def test_counters_are_durable(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.db")
    assert [j.next_number("seq") for _ in range(3)] == [1, 2, 3]
    j.close()
    assert Journal(tmp_path / "j.db").next_number("seq") == 4
