"""Backups and restores, secrets sealed at rest, HTTPS, and the operator's new commands."""

from __future__ import annotations

import json
import sqlite3
import ssl
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from host.kit import LICENCE, RunningHost, World, cli_env
from host.served import served
from scanpay.cli import app
from scanpay.host import HostContext, HostSettings
from scanpay.host.db.engine import Database
from scanpay.host.domain.sealing import SealError
from scanpay.host.services import audit, operations, secrets

runner = CliRunner()


def _cli(url: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["host", *args], env=cli_env(url))
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def test_an_online_backup_of_the_running_host(world: World, tmp_path: Path) -> None:
    host = world.host
    world.pay("BK-1", 100)  # something to copy
    url = host.ctx.settings.database_url
    target = tmp_path / "copy.db"
    if host.backend == "postgresql":
        shown = _cli(url, "backup", str(target), "--dry-run", "--json")
        assert shown["backend"] == "postgresql" and shown["size"] is None
        command = shown["command"]
        assert command.startswith("pg_dump --format=custom") and str(target) in command
        assert "postgresql://postgres@127.0.0.1:5432/" in command and "+psycopg" not in command
        assert not target.exists()
        made = _cli(url, "backup", str(target), "--json")  # pg_dump, run by the command
        assert made["path"] == str(target) and made["size"] == target.stat().st_size > 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert _cli(url, "backup", str(target), "--json", code=1)["error"]["field"] == "file"
        # The session host is connected: the restore refuses, the database stays as it is.
        refused = _cli(url, "restore", str(target), "--yes", "--json", code=1)
        assert (refused["error"]["code"], refused["error"]["field"]) == ("57", "database")
        return
    made = _cli(url, "backup", str(target), "--json")
    assert (made["backend"], made["path"]) == ("sqlite", str(target)) and made["size"] > 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0
    ctx = HostContext(
        HostSettings(database_url=f"sqlite:///{target}"), Database(f"sqlite:///{target}")
    )
    try:
        assert audit.verify(ctx).ok
    finally:
        ctx.close()
    assert _cli(url, "backup", str(target), "--json", code=1)["error"]["field"] == "file"


def test_restore_puts_the_backup_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    _cli(url, "init")
    add = ["merchant", "add", "--city", "Fuzhou", "--mcc", "5814", "--license", LICENCE]
    first = _cli(url, *add, "--name", "Kept", "--json")["merchant_id"]
    _cli(url, "wallet", "open", "--name", "Ann", "--balance", "10.00", "--pin", "123456")
    backup = tmp_path / "saved.db"
    _cli(url, "backup", str(backup))
    _cli(url, *add, "--name", "Lost")
    assert len(_cli(url, "merchant", "list", "--json")) == 2
    assert "--yes" in _cli(url, "restore", str(backup), code=2)
    done = _cli(url, "restore", str(backup), "--yes", "--json")
    assert (done["ledger_ok"], done["audit_ok"], done["audit"]["checked"]) == (True, True, 2)
    assert [m["merchant_id"] for m in _cli(url, "merchant", "list", "--json")] == [first]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    refused = _cli(url, "restore", str(junk), "--yes", "--json", code=1)
    assert refused["error"]["field"] == "file"
    assert "restored" in _cli(url, "restore", str(backup), "--yes")


def test_keys_and_secrets_are_sealed_at_rest(world: World) -> None:
    terminal_pk = int(world.terminal.terminal_id[1:])
    with world.ctx.db.read() as session:
        key_hex, sealed = session.execute(
            text("SELECT key_hex, key_sealed FROM terminal_keys WHERE terminal_id = :t"),
            {"t": terminal_pk},
        ).one()
        secret_hex, secret_sealed = session.execute(
            text("SELECT secret_hex, secret_sealed FROM wallet_accounts WHERE number = :n"),
            {"n": world.wallet.account},
        ).one()
    assert key_hex == "" and sealed.startswith("enc2:") and world.terminal.key not in sealed
    assert secret_hex == "" and secret_sealed.startswith("enc2:")
    assert secrets.terminal_key(world.ctx, sealed, "") == world.terminal.key
    other = HostContext(
        HostSettings(database_url=world.ctx.settings.database_url, master_key="11" * 32),
        world.ctx.db,
    )
    with pytest.raises(SealError):
        secrets.terminal_key(other, sealed, "")
    path = secrets.key_file_path(world.ctx.settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_legacy_plain_keys_keep_working_and_get_sealed(world: World) -> None:
    terminal_pk = int(world.terminal.terminal_id[1:])
    with world.ctx.db.write() as session:  # as a row written before sealing existed
        session.execute(
            text("UPDATE terminal_keys SET key_hex = :k, key_sealed = NULL WHERE terminal_id = :t"),
            {"k": world.terminal.key, "t": terminal_pk},
        )
    assert world.terminal.request("GET", "/v1/terminals/self").status_code == 200
    assert secrets.seal_legacy(world.ctx) >= 1
    assert secrets.seal_legacy(world.ctx) == 0
    with world.ctx.db.read() as session:
        key_hex = session.execute(
            text("SELECT key_hex FROM terminal_keys WHERE terminal_id = :t"), {"t": terminal_pk}
        ).scalar_one()
    assert key_hex == ""
    assert world.pay("SK-1", 100)["code"] == "00"


def test_the_operator_sets_limits_and_fees_and_sweeps(host: RunningHost) -> None:
    url = host.ctx.settings.database_url
    listed = _cli(url, "limits", "list", "--json")
    shown = {(r["rule"], r["scope"], r["key"], r["currency"]): r for r in listed}
    assert shown[("failed_codes", "default", "", "")]["value"] == 5
    assert shown[("txn_amount", "mcc_class", "high_risk", "CNY")]["value"] == 500_000
    merchant = _cli(url, "merchant", "add", "--name", "Cafe", "--city", "Xiamen", "--mcc",
                    "5812", "--license", LICENCE, "--json")["merchant_id"]  # fmt: skip
    made = _cli(url, "--operator", "bob", "limits", "set", "txn_amount", "123.45", "--scope",
                "merchant", "--key", merchant, "--json")  # fmt: skip
    assert (made["value"], made["currency"], made["action"], made["updated_by"]) == (
        12_345,
        "CNY",  # the merchant's own currency
        "decline",
        "operator:bob",
    )
    review = _cli(url, "limits", "set", "velocity", "7", "--scope", "terminal", "--key",
                  "T999999", "--window", "30", "--action", "review", "--json")  # fmt: skip
    assert (review["value"], review["window_seconds"], review["action"]) == (7, 30, "review")
    bad = _cli(
        url,
        "limits",
        "set",
        "velocity",
        "7",
        "--scope",
        "terminal",
        "--key",
        "T1",
        "--json",
        code=1,
    )  # fmt: skip  (a velocity limit needs a window)
    assert bad["error"]["code"] == "30"
    assert _cli(url, "limits", "set", "nonsense", "1", "--json", code=1)["error"]["code"] == "30"
    _cli(url, "limits", "unset", "velocity", "--scope", "terminal", "--key", "T999999")
    assert _cli(url, "limits", "unset", "velocity", "--scope", "terminal", "--key", "T999999",
                "--json", code=1)["error"]["code"] == "25"  # fmt: skip
    fee = _cli(url, "merchant", "fee", merchant, "0.006", "--json")
    assert fee["fee_rate"] == "0.006"
    assert _cli(url, "merchant", "fee", merchant, "0.5", "--json", code=1)["error"]["field"] == (
        "fee_rate"
    )
    assert "txn_amount" in _cli(url, "limits", "list")
    swept = _cli(url, "sweep", "--json")
    assert set(swept) == {"orders", "payments"}
    assert isinstance(_cli(url, "review", "list", "--json"), list)
    history = _cli(url, "audit", "show", "--merchant", merchant, "--json")
    assert {r["action"] for r in history} >= {"merchant.add", "limit.set", "merchant.fee_rate"}
    assert "audit chain OK" in _cli(url, "audit", "verify")
    assert operations.readiness(host.ctx).ok


def test_serve_over_https_with_a_self_signed_pair(tmp_path: Path) -> None:
    made = _cli(f"sqlite:///{tmp_path / 'host.db'}", "certs", "--out", str(tmp_path / "tls"),
                "--json")  # fmt: skip
    cert, key = Path(made["certfile"]), Path(made["keyfile"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    tls = ("--certfile", str(cert), "--keyfile", str(key))
    url = f"sqlite:///{tmp_path / 'host.db'}"
    with served(url, None, *tls, log_level="info", cafile=cert) as host:  # ready over HTTPS
        context = ssl.create_default_context(cafile=str(cert))
        answer = httpx.get(host.url + "/healthz", verify=context, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
        with pytest.raises(httpx.TransportError):  # plain HTTP is not spoken
            httpx.get(host.url.replace("https://", "http://") + "/healthz", timeout=2)
    lines = [json.loads(line) for line in host.stderr.splitlines() if line.startswith("{")]
    # The readiness probes (/readyz) come first: the access line asked for is /healthz's.
    access = [r for r in lines if r["logger"] == "scanpay.host.access"]
    healthz = [r for r in access if r.get("route") == "/healthz"]
    assert healthz and len(healthz[0]["request_id"]) == 32
