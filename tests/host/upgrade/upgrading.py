"""Helpers of the upgrade suite: a database of an earlier release, loaded from its fixture.

The fixtures are made by ``build_fixtures.py`` (beside this file), with each release's
own code; this module only loads them into a fresh database and runs today's CLI.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text
from typer.testing import CliRunner

from host.kit import PG_ADMIN, postgres_available
from scanpay.cli import app
from scanpay.host.db.engine import Database
from support import require

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: Every release the fixtures hold, oldest first (see ``build_fixtures.RELEASES``).
RELEASES = ("a5a8886", "bcec4f4", "9ab61d3", "6780eef", "9d004e1")
BACKENDS = ("sqlite", "postgresql")

runner = CliRunner()


@dataclass(frozen=True)
class OldInstallation:
    """A database made by an earlier release, its data folder, and what it was made with."""

    release: str
    backend: str
    url: str
    data_dir: Path
    facts: dict[str, Any]
    master_key: str | None
    #: The schema revision the release left.
    revision: str

    @property
    def env(self) -> dict[str, str]:
        """The environment of ``scanpay host ...`` against it."""
        return {"SCANPAY_DATABASE_URL": self.url, "SCANPAY_DATA_DIR": str(self.data_dir)}

    @contextmanager
    def ctx_read(self) -> Iterator[Any]:
        """``rows(query)``: the rows of a query on the database, as tuples."""
        database = Database(self.url)
        try:
            with database.read() as session:
                yield lambda query: [tuple(r) for r in session.execute(text(query))]
        finally:
            database.dispose()

    def cli(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> Any:
        """Run today's ``scanpay host ARGS`` in-process; the JSON it printed (``--json``)."""
        result = runner.invoke(app, ["host", *args], env=env or self.env)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if "--json" in args else result.output


def _load_postgresql(dump: str) -> Iterator[str]:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"scanpay_upgrade_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True
        ) as conn:
            conn.execute(dump.encode())  # no parameters: one simple query, every statement
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def old_installation(
    release: str, backend: str, folder: Path, *, with_key_file: bool = True
) -> Iterator[OldInstallation]:
    """The fixture of ``release`` loaded into a fresh ``backend`` database, its master key
    in ``folder/master.key`` (mode 0600) as that release kept it (beside the SQLite file,
    or in the data folder)."""
    keys = json.loads((FIXTURES / release / "keys.json").read_text())
    dump = (FIXTURES / release / f"{backend}.sql").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if keys["master_key"] and with_key_file:
        path = folder / "master.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(keys["master_key"] + "\n")
    facts = keys[backend]
    if backend == "sqlite":
        path = folder / "host.db"
        conn = sqlite3.connect(path)
        try:
            conn.executescript(dump)
        finally:
            conn.close()
        yield OldInstallation(
            release,
            backend,
            f"sqlite:///{path}",
            folder,
            facts,
            keys["master_key"],
            keys["revision"],
        )
        return
    with contextmanager(_load_postgresql)(dump) as url:
        yield OldInstallation(
            release, backend, url, folder, facts, keys["master_key"], keys["revision"]
        )
