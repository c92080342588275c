"""The audit trail: what is recorded, that the database refuses to change it, and that
``scanpay host audit verify`` names the record someone changed behind its back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from host.kit import LICENCE, World, cli_env, migrate, postgres_available, postgres_database
from scanpay.cli import app
from scanpay.host import HostContext, HostSettings
from scanpay.host.db.engine import Database
from scanpay.host.services import audit, merchants, terminals, wallets
from support import require

runner = CliRunner()


def test_a_payments_life_is_in_the_trail(world: World) -> None:
    paid = world.pay("AU-1", 2_000)
    world.terminal.refund("AU-1-R1", "AU-1", 500, approved_by="sup")
    world.terminal.reverse("AU-1")  # refused: a refunded payment is not reversed
    world.terminal.reverse("AU-2")  # a reversal before its payment
    records = audit.history(world.ctx, subject=("payment", paid["payment_id"]))
    assert [r.action for r in records] == ["payment.create"]
    created = records[0]
    assert created.actor == f"terminal:{world.terminal.terminal_id}"
    assert (created.data["status"], created.data["code"], created.data["amount"]) == (
        "SUCCESS",
        "00",
        2_000,
    )
    assert created.data["payer"] == paid["payer"]  # masked, as shown
    rules = {r["rule"] for r in created.data["risk"]}
    assert {"txn_amount", "daily_amount", "failed_codes", "velocity"} <= rules
    mine = audit.history(world.ctx, merchant=world.merchant_id, limit=50)
    actions = [r.action for r in reversed(mine)]
    assert actions[:3] == ["merchant.add", "merchant.approve", "terminal.add"]
    assert actions[-3:] == ["payment.create", "refund.create", "payment.reverse_first"]
    seqs = [r.seq for r in mine]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)


def test_the_database_refuses_to_change_the_trail(world: World) -> None:
    world.pay("AU-3", 100)
    db = world.ctx.db
    for statement in (
        "UPDATE audit_log SET data = '{}' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "UPDATE audit_head SET seq = 0 WHERE id = 1",
        "DELETE FROM audit_head",
    ):
        with pytest.raises(DBAPIError) as caught, db.write() as session:
            session.execute(text(statement))
        assert "audit" in str(caught.value)
    assert audit.verify(world.ctx).ok


# ------------------------------------------------------------------ tampering, own databases


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: the tampering must not break the session's chain."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tamper.db'}"
        migrate(url)
        yield url
        return
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_database() as url:
        migrate(url)
        yield url


def _activity(url: str, tmp_path: Path) -> None:
    """Six records: a merchant added and approved, a terminal, two wallets, a suspension."""
    ctx = HostContext.open(HostSettings(database_url=url, data_dir=str(tmp_path)))
    try:
        merchant = merchants.add_merchant(
            ctx, name="Tea House", city="Fuzhou", mcc="5814", license=LICENCE
        ).merchant_id
        merchants.set_status(ctx, merchant, "approve")
        terminals.add_terminal(ctx, merchant)
        for name in ("Ann", "Bo"):
            wallets.open_account(ctx, name=name, currency="CNY", balance=100, pin="123456")
        merchants.set_status(ctx, merchant, "suspend")
    finally:
        ctx.close()


def _verify(url: str, code: int) -> dict[str, Any]:
    result = runner.invoke(app, ["host", "audit", "verify", "--json"], env=cli_env(url))
    assert result.exit_code == code, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _tamper(url: str, statement: str, **params: Any) -> None:
    """Run ``statement`` with the append-only triggers out of the way (as an attacker with
    database access would), then put the protection back."""
    db = Database(url)
    try:
        with db.write() as session:
            if db.dialect == "postgresql":
                # A superuser's session can skip ordinary triggers altogether.
                session.execute(text("SET LOCAL session_replication_role = replica"))
                session.execute(text(statement), params)
            else:
                session.execute(text("DROP TRIGGER audit_log_no_update"))
                session.execute(text("DROP TRIGGER audit_log_no_delete"))
                session.execute(text(statement), params)
                session.execute(
                    text(
                        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                    )
                )
                session.execute(
                    text(
                        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
                    )
                )
    finally:
        db.dispose()


def test_verify_names_the_record_changed_in_the_database(own_database: str, tmp_path: Path) -> None:
    _activity(own_database, tmp_path)
    intact = _verify(own_database, 0)
    assert (intact["ok"], intact["checked"], intact["broken_seq"]) == (True, 6, None)
    _tamper(
        own_database,
        "UPDATE audit_log SET data = REPLACE(data, :old, :new) WHERE seq = 4",
        old='"balance":100',
        new='"balance":900',
    )
    broken = _verify(own_database, 1)
    assert (broken["ok"], broken["broken_seq"], broken["checked"]) == (False, 4, 3)
    assert broken["problem"] == "its contents do not match its hash"
    human = runner.invoke(
        app, ["host", "audit", "verify"], env={"SCANPAY_DATABASE_URL": own_database}
    )
    assert human.exit_code == 1 and "BROKEN at record 4" in human.output


def test_verify_names_a_removed_record(own_database: str, tmp_path: Path) -> None:
    _activity(own_database, tmp_path)
    _tamper(own_database, "DELETE FROM audit_log WHERE seq = 2")
    report = _verify(own_database, 1)
    assert (report["broken_seq"], report["problem"]) == (
        2,
        "record 2 is missing (next stored is 3)",
    )


def test_verify_notices_records_cut_from_the_end(own_database: str, tmp_path: Path) -> None:
    _activity(own_database, tmp_path)
    _tamper(own_database, "DELETE FROM audit_log WHERE seq >= 5")
    report = _verify(own_database, 1)
    assert report["broken_seq"] == 5 and "5..6 are missing" in report["problem"]
