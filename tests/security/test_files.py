"""The live SQLite files hold PIN hashes and every transaction: only the host's user reads them.

``host.db`` and its ``-wal`` and ``-shm`` were 0644 in a 0755 data folder: anyone
on the machine could copy them. Now the folder is made 0700 and the database file
0600 before SQLite opens it (SQLite gives the ``-wal`` and ``-shm`` files the main
file's mode, so they are born 0600 too), and a folder or file an older version left
open to others is tightened when the host starts, with a log line that says so. The
real host, served on a loopback port, under the common umask 022. (PostgreSQL keeps
its data in its own server: only SQLite has such files.)
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from host.kit import postgres_available, postgres_database, serve_in_thread
from scanpay.cli import app
from scanpay.host import HostSettings, ManualClock
from support import require

LIVE = ("host.db", "host.db-wal", "host.db-shm")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The umask most systems start with (files 0644, folders 0755 unless told otherwise)."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _serve(folder: Path) -> Iterator[None]:
    settings = HostSettings(
        database_url=f"sqlite:///{folder / 'host.db'}",
        min_terminal_version="1.0.0",
        data_dir=str(folder),
    )
    with serve_in_thread(settings, ManualClock(datetime.now(UTC)), "sqlite") as running:
        # The host is up, migrated, and its connections are open: -wal and -shm exist.
        assert httpx.get(running.url + "/healthz", timeout=30).status_code == 200
        yield


def test_a_new_data_folder_and_its_database_files_are_private(
    tmp_path: Path, umask_022: None
) -> None:
    folder = tmp_path / "fresh" / "data"
    with _serve(folder):
        assert _mode(folder) == 0o700, oct(_mode(folder))
        for name in (*LIVE, "master.key"):
            assert (folder / name).exists(), name
            assert _mode(folder / name) == 0o600, (name, oct(_mode(folder / name)))
        others = [p.name for p in folder.iterdir() if _mode(p) & 0o077]
        assert others == [], others


def test_files_an_older_version_left_open_are_tightened_on_start(
    tmp_path: Path, umask_022: None, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    # What an older host left: a WAL database SQLite made 0644, with its -wal and -shm
    # (a connection still holds them open, as a host that is stopping would).
    old = sqlite3.connect(folder / "host.db")
    try:
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE left_behind (x INTEGER)")
        old.execute("INSERT INTO left_behind VALUES (1)")
        old.commit()
        for name in LIVE:
            assert _mode(folder / name) == 0o644, name
        assert _mode(folder) == 0o755
        with caplog.at_level(logging.INFO, logger="scanpay.host"), _serve(folder):
            assert _mode(folder) == 0o700, oct(_mode(folder))
            for name in LIVE:
                assert _mode(folder / name) == 0o600, (name, oct(_mode(folder / name)))
    finally:
        old.close()
    said = [r.getMessage() for r in caplog.records if "tightened" in r.getMessage()]
    for name in (folder.name, *LIVE):
        assert any(name in line for line in said), (name, said)
    assert any("0755" in line and "0700" in line for line in said), said


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: ``host init`` with a new data folder makes a new master key
    and seals any plain secret it finds with it, which must not happen to the session's
    shared database (its host could no longer open them)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432")
    with postgres_database() as url:
        yield url


def test_the_host_commands_tighten_an_older_data_folder(
    own_database: str, tmp_path: Path, umask_022: None
) -> None:
    """On either database the data folder holds the master key, backups and settlement
    files: ``scanpay host ...`` tightens one an older version made 0755."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    env = {"SCANPAY_DATABASE_URL": own_database, "SCANPAY_DATA_DIR": str(folder)}
    done = CliRunner().invoke(app, ["host", "init"], env=env)
    assert done.exit_code == 0, done.output
    assert _mode(folder) == 0o700, oct(_mode(folder))
