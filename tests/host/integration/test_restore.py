"""Restores that are checked (issue 15 item 4), on SQLite and on PostgreSQL.

A real ``scanpay host serve`` process takes a payment after the backup; a restore
while it serves is refused and changes nothing; once it is stopped the restore
puts the backup back, migrates it and prints the ledger and audit checks. On
PostgreSQL the restore also works after ``dropdb`` (it creates the database).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text
from typer.testing import CliRunner

from host.kit import (
    PG_ADMIN,
    SignedClient,
    activate,
    make_merchant,
    postgres_available,
    postgres_database,
    remember,
)
from host.served import free_port, host_env, serve_command, served
from scanpay.cli import app
from scanpay.host import HostContext, HostSettings
from scanpay.host.clock import SystemClock
from scanpay.host.services import operations, terminals, wallets
from support import require

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (PostgreSQL: created, then dropped)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'host.db'}"
        return
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)")
    with postgres_database() as url:
        yield url


def _cli(url: str, data: Path, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["host", *args], env=host_env(url, data))
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def _trade_numbers(url: str, data: Path) -> list[str]:
    ctx = HostContext.open(HostSettings(database_url=url, data_dir=str(data)))
    try:
        with ctx.db.read() as session:
            rows = session.execute(text("SELECT out_trade_no FROM payments ORDER BY id"))
            return [r[0] for r in rows]
    finally:
        ctx.close()


def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_restore_refuses_a_serving_host_then_restores_and_checks(
    database: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    _cli(database, data, "init")
    settings = HostSettings(database_url=database, data_dir=str(data))
    ctx = HostContext.open(settings)
    try:
        merchant = make_merchant(ctx)
        issued = terminals.add_terminal(ctx, merchant)
        # Two wallets: each payment's code is its own account's, whatever the time step.
        payers = [
            wallets.open_account(ctx, name=n, currency="CNY", balance=10_000, pin="123456")
            for n in ("Ann", "Bo")
        ]
        for payer in payers:
            remember(payer.secret_hex)
    finally:
        ctx.close()  # no connection of the test's own is taken for a serving host
    backup = tmp_path / "saved.backup"

    def pay(client: SignedClient, number: str, account: str) -> None:
        ctx = HostContext.open(settings)
        try:
            code = remember(wallets.issue_code(ctx, account).digits)
        finally:
            ctx.close()
        body = {"out_trade_no": number, "amount": 150, "currency": "CNY", "auth_code": code}
        answer = client.request("POST", "/v1/payments", body)
        assert answer.json()["status"] == "SUCCESS", answer.text

    with served(database, data) as host:
        key = activate(host.url, remember(issued.activation_code)).json()
        client = SignedClient(host.url, key["terminal_id"], remember(key["key"]), SystemClock())
        pay(client, "RS-1", payers[0].info.account)
        made = _cli(database, data, "backup", str(backup), "--json")
        assert made["path"] == str(backup) and made["size"] > 0
        assert (backup.stat().st_mode & 0o777) == 0o600
        pay(client, "RS-2", payers[1].info.account)  # approved after the backup
        refused = runner.invoke(
            app, ["host", "restore", str(backup), "--yes"], env=host_env(database, data)
        )
        assert refused.exit_code == 1, refused.output
        assert "serving" in refused.output and "stop it" in refused.output
        # Nothing changed: the payment made after the backup is still there.
        assert client.request("GET", "/v1/payments/RS-2").json()["status"] == "SUCCESS"
    assert _trade_numbers(database, data) == ["RS-1", "RS-2"]
    if database.startswith("postgresql"):
        _drop(database)  # the worst case: the restore must create the database
    shown = _cli(database, data, "restore", str(backup), "--yes")
    assert "ledger OK" in shown and "audit chain OK" in shown, shown
    assert ("(created)" in shown) == database.startswith("postgresql")
    assert _trade_numbers(database, data) == ["RS-1"]
    again = _cli(database, data, "restore", str(backup), "--yes", "--json")
    assert (again["ok"], again["ledger_ok"], again["audit_ok"]) == (True, True, True)
    assert again["audit"]["checked"] > 0 and not again["created"]
    with served(database, data) as host:  # the restored host serves again
        client = SignedClient(host.url, key["terminal_id"], key["key"], SystemClock())
        assert client.request("GET", "/v1/payments/RS-1").json()["status"] == "SUCCESS"
        assert client.request("GET", "/v1/payments/RS-2").status_code == 404


def test_a_host_does_not_start_while_a_restore_runs(database: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _cli(database, data, "init")
    settings = HostSettings(database_url=database, data_dir=str(data))
    # What a restore (or a key rotation) holds while it runs: the serving lock, exclusively.
    ctx = HostContext.open(settings)
    with operations.unserved(ctx, "restore"):
        done = subprocess.run(
            serve_command(free_port()),
            env={**os.environ, **host_env(database, data)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    ctx.close()
    assert done.returncode == 1, done.stderr
    assert "a restore or a master key rotation of this database is running" in done.stderr
