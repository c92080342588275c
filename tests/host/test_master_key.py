"""The master key cannot be mixed up (issue 15, item 3): a fingerprint in the database,
refusals naming both fingerprints, no key made for a database with sealed data,
``/readyz`` 503 for a key that does not open the database, and ``key rotate``."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from host.kit import SignedClient, postgres_available, postgres_database, remember, serve_in_thread
from host.served import host_env, served
from host.upgrade.upgrading import old_installation
from scanpay.cli import app
from scanpay.host import HostSettings, ManualClock
from scanpay.host.domain.sealing import key_fingerprint, short_fingerprint
from scanpay.host.services import wallets
from support import require

runner = CliRunner()
OTHER_KEY = "11" * 32


#: Where a host finds its key: unset unless a test gives them (a session fixture of
#: another suite in the same worker may have set SCANPAY_DATA_DIR for its own host).
_KEY_PLACES: dict[str, str | None] = dict.fromkeys(
    ("SCANPAY_DATA_DIR", "SCANPAY_MASTER_KEY", "SCANPAY_MASTER_KEY_FILE")
)


def _cli(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["host", *args], env={**_KEY_PLACES, **env})
    assert result.exit_code == code, result.output
    return result.output


def _count_wallets(env: dict[str, str]) -> int:
    from sqlalchemy import text

    from scanpay.host.db.engine import Database

    database = Database(env["SCANPAY_DATABASE_URL"])
    try:
        with database.read() as session:
            return int(session.execute(text("SELECT count(*) FROM wallet_accounts")).scalar_one())
    finally:
        database.dispose()


def _fingerprint(folder: Path) -> str:
    return key_fingerprint(bytes.fromhex((folder / "master.key").read_text().strip()))


def test_a_command_from_another_folder_on_postgresql_refuses_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    home = tmp_path / "host"
    with postgres_database() as url:
        env = {"SCANPAY_DATABASE_URL": url, "SCANPAY_DATA_DIR": str(home)}
        _cli(env, "init")
        opened = json.loads(
            _cli(
                env, "wallet", "open", "--name", "A", "--balance", "10", "--pin", "123456", "--json"
            )
        )
        remember(opened.get("secret_hex", ""))
        real = _fingerprint(home)
        # The issue's scenario: the same command, run from another folder (./data is
        # relative), used to make a new key there and seal a new account under it.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        stray = {"SCANPAY_DATABASE_URL": url}
        said = _cli(stray, "wallet", "open", "--name", "B", "--pin", "123456", code=1)
        assert short_fingerprint(real) in said and str(elsewhere / "data" / "master.key") in said
        assert not (elsewhere / "data" / "master.key").exists()
        _cli(stray, "wallet", "code", opened["account"], code=1)
        # Another key given outright: refused, naming both fingerprints and the source.
        wrong = {**stray, "SCANPAY_MASTER_KEY": OTHER_KEY}
        said = _cli(wrong, "wallet", "open", "--name", "C", "--pin", "123456", code=1)
        other = short_fingerprint(key_fingerprint(bytes.fromhex(OTHER_KEY)))
        assert short_fingerprint(real) in said and other in said
        assert "SCANPAY_MASTER_KEY" in said
        _cli(wrong, "init", code=1)
        assert _count_wallets(env) == 1
        # The right key still works.
        _cli(env, "wallet", "code", opened["account"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_a_wrong_key_refuses_to_start(tmp_path: Path) -> None:
    home = tmp_path / "data"
    env = {"SCANPAY_DATA_DIR": str(home)}
    _cli(env, "init")
    real = _fingerprint(home)
    run_env = {**os.environ, **env, "SCANPAY_MASTER_KEY": OTHER_KEY}
    run_env.pop("SCANPAY_DATABASE_URL", None)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "scanpay"),
            "host",
            "serve",
            "--port",
            str(_free_port()),
        ],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert short_fingerprint(real) in done.stderr
    assert short_fingerprint(key_fingerprint(bytes.fromhex(OTHER_KEY))) in done.stderr


def test_readyz_answers_503_when_the_key_does_not_open_the_database(tmp_path: Path) -> None:
    home = tmp_path / "data"
    env = {"SCANPAY_DATA_DIR": str(home)}
    _cli(env, "init")
    settings = HostSettings(database_url=f"sqlite:///{home / 'host.db'}", data_dir=str(home))
    clock = ManualClock(datetime(2026, 6, 2, tzinfo=UTC))
    with serve_in_thread(settings, clock, "sqlite") as host:
        assert httpx.get(host.url + "/readyz").status_code == 200
        _cli(env, "key", "rotate")  # another process: this host still holds the old key
        answer = httpx.get(host.url + "/readyz")
        assert answer.status_code == 503 and "master key" in answer.json()["detail"]
    with serve_in_thread(settings, clock, "sqlite") as host:  # restarted with the new key
        assert httpx.get(host.url + "/readyz").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rotation_keeps_old_terminals_and_wallets_and_refuses_the_old_key(
    backend: str, tmp_path: Path
) -> None:
    with old_installation("bcec4f4", backend, tmp_path / "data") as old:
        facts = old.facts
        remember(facts["terminal_key"], facts["wallet"]["secret_hex"])
        old.cli("init")
        before = _fingerprint(old.data_dir)
        rotated = old.cli("key", "rotate", "--json")
        assert rotated["old_fingerprint"] == before and rotated["resealed"] >= 3
        after = _fingerprint(old.data_dir)
        assert rotated["new_fingerprint"] == after != before
        retired = Path(rotated["old_key"])
        assert retired.read_text().strip() == old.master_key
        for path in (retired, old.data_dir / "master.key"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert not list(old.data_dir.glob("*.new")) and not list(old.data_dir.glob(".*tmp"))
        # The old key is refused everywhere now.
        assert old.master_key is not None
        stale = {**old.env, "SCANPAY_MASTER_KEY": old.master_key}
        said = old.cli("wallet", "code", facts["wallet"]["account"], code=1, env=stale)
        assert short_fingerprint(after) in said and short_fingerprint(before) in said
        old.cli("init", code=1, env=stale)
        # The old terminal and the pre-upgrade wallet pay under the new key.
        clock = ManualClock(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))
        settings = HostSettings(database_url=old.url, data_dir=str(old.data_dir))
        with serve_in_thread(settings, clock, backend) as host:
            terminal = SignedClient(
                host.url, facts["terminal_id"], facts["terminal_key"], clock, signature_version=None
            )
            code = wallets.issue_code(host.ctx, facts["wallet"]["account"]).digits
            paid = terminal.pay("ROT-1", 300, code)
            assert paid.status_code == 200 and paid.json()["code"] == "00", paid.text
        assert old.cli("audit", "verify", "--json")["ok"] is True


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rotation_is_refused_while_a_host_serves_and_changes_nothing(
    backend: str, tmp_path: Path
) -> None:
    # A serving host holds the old key: what it sealed after a rotation would be
    # sealed under a key the database no longer has.
    home = tmp_path / "data"
    with ExitStack() as stack:
        if backend == "postgresql":
            require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{home / 'host.db'}"
        env = host_env(url, home)
        _cli(env, "init")
        before = (home / "master.key").read_text()
        with served(url, home):
            said = _cli(env, "key", "rotate", code=1)
            assert "57" in said and "stop it" in said, said
        assert (home / "master.key").read_text() == before
        assert sorted(p.name for p in home.glob("master.key*")) == ["master.key"]
        # Stopped: the same command rotates.
        rotated = json.loads(_cli(env, "key", "rotate", "--json"))
        old = key_fingerprint(bytes.fromhex(before.strip()))
        assert rotated["new_fingerprint"] == _fingerprint(home) != old
