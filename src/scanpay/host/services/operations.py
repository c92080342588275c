"""Operations: readiness, the expiry sweep, backups and restores.

- :func:`readiness`: the database answers and is at the code's schema revision.
- :func:`sweep`: expire orders past their time and payments past their PIN
  deadline (``serve`` runs it every ``SCANPAY_SWEEP_INTERVAL`` seconds in each
  process; every change is re-checked under a row lock, so several processes
  sweeping at once change each row once). Access does the same lazily.
- :func:`backup` / :func:`restore`: SQLite through its online backup API (a
  consistent copy while the host runs); PostgreSQL through ``pg_dump`` and
  ``pg_restore``, whose command lines are returned for the operator to run.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from scanpay.host.db.migrate import current_revision, head_revision
from scanpay.host.errors import HostError
from scanpay.host.services import orders, payments
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text

__all__ = ["BackupResult", "Readiness", "backup", "readiness", "restore", "sweep"]


@dataclass(frozen=True, slots=True)
class Readiness:
    ok: bool
    database: bool
    revision: str | None
    expected: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "database": self.database,
            "revision": self.revision,
            "expected": self.expected,
            "detail": self.detail,
        }


def readiness(ctx: HostContext) -> Readiness:
    """Whether this process can serve: database reachable and migrated to the code's head."""
    expected = head_revision()
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(ctx.db)
    except Exception as exc:  # any driver error means "not ready", never a crash
        return Readiness(False, False, None, expected, type(exc).__name__)
    if revision != expected:
        return Readiness(False, True, revision, expected, "the schema is not migrated")
    return Readiness(True, True, revision, expected)


def sweep(ctx: HostContext) -> dict[str, int]:
    """Expire what is due; returns how many orders and payments changed."""
    return {"orders": orders.expire_due(ctx), "payments": payments.expire_due(ctx)}


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A SQLite copy made (``path``), or the command to run for PostgreSQL."""

    backend: str
    path: str | None = None
    size: int | None = None
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "path": self.path,
            "size": self.size,
            "command": self.command,
        }


def _sqlite_path(ctx: HostContext) -> Path:
    database = make_url(ctx.settings.database_url).database
    assert database
    return Path(database)


def _pg_url(ctx: HostContext) -> str:
    url = make_url(ctx.settings.database_url).set(drivername="postgresql")
    # The password never goes on a command line: pg_dump reads PGPASSWORD or ~/.pgpass.
    return url.set(password=None).render_as_string(hide_password=False)


def _refuse(zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field="file")


def backup(ctx: HostContext, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the database to ``target`` (SQLite), or say how (PostgreSQL)."""
    if ctx.db.dialect == "postgresql":
        command = f"pg_dump --format=custom --no-owner --file {target} --dbname '{_pg_url(ctx)}'"
        return BackupResult("postgresql", command=command)
    if target.exists() and not overwrite:
        raise _refuse("目标文件已存在", f"{target} exists (pass --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_sqlite_path(ctx))
    try:
        destination = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent snapshot while writers carry on.
            source.backup(destination)
            ok = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            destination.close()
    finally:
        source.close()
    if ok != "ok":  # pragma: no cover - a disk fault while copying
        raise _refuse("备份校验失败", f"the copy failed its integrity check: {ok}")
    os.chmod(target, 0o600)  # it holds every merchant's data
    return BackupResult("sqlite", path=str(target), size=target.stat().st_size)


def restore(ctx: HostContext, source: Path) -> BackupResult:
    """Replace the database with a backup (SQLite; stop the host first), or say how."""
    if ctx.db.dialect == "postgresql":
        command = (
            f"pg_restore --clean --if-exists --no-owner --single-transaction "
            f"--dbname '{_pg_url(ctx)}' {source}"
        )
        return BackupResult("postgresql", command=command)
    if not source.is_file():
        raise _refuse("找不到备份文件", f"no such backup file: {source}")
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            ok = backup_db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in backup_db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            ok, tables = "not a database", set()
        if ok != "ok" or "alembic_version" not in tables:
            raise _refuse("不是本系统的备份", f"{source} is not a scanpay host backup ({ok})")
        ctx.db.dispose()  # no pooled connection of ours keeps the old pages
        live = sqlite3.connect(_sqlite_path(ctx), timeout=30)
        try:
            backup_db.backup(live)
        finally:
            live.close()
    finally:
        backup_db.close()
    path = _sqlite_path(ctx)
    return BackupResult("sqlite", path=str(path), size=path.stat().st_size)
