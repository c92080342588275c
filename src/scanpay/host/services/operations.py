"""Operations: readiness, the expiry sweep, backups and restores.

- :func:`readiness`: the database answers and is at the code's schema revision.
- :func:`sweep`: expire orders past their time and payments past their PIN
  deadline (``serve`` runs it every ``SCANPAY_SWEEP_INTERVAL`` seconds in each
  process; every change is re-checked under a row lock, so several processes
  sweeping at once change each row once). Access does the same lazily.
- :func:`backup` / :func:`restore`: SQLite through its online backup API (a
  consistent copy while the host runs); PostgreSQL through ``pg_dump`` and
  ``pg_restore`` (PostgreSQL's client tools, run here). A restore refuses while a
  host serves the database, creates a PostgreSQL database that is missing, and
  migrates and checks (ledger, audit chain) what it put back.
- :func:`serving`: held by ``scanpay host serve`` for its lifetime, so that a
  restore can tell the database is in use (and a host does not start during one).

How a restore knows a host is serving. SQLite: ``serve`` holds a *shared*
``flock`` on ``<database>-serving`` beside the file (several hosts on one file
share it), a restore takes it *exclusive* without waiting. The kernel drops the
lock when the process ends however it ends (``kill -9`` included), so nothing
goes stale the way a pid file does (a pid file outlives a crash and its pid
is reused); the parent of ``--workers N`` holds it, so one lock covers all
workers. PostgreSQL: the same pair as session advisory locks in the database
(:data:`SERVE_LOCK`), held on a connection ``serve`` keeps open, plus a look at
``pg_stat_activity`` for any session named ``scanpay host...`` (every host
connection is: :data:`~scanpay.host.db.engine.APPLICATION_NAME`), which also
catches a host that lost its lock connection. Neither sees a host on another
machine that reaches a SQLite file over a network share (SQLite does not
support that anyway).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from scanpay.host.db.engine import APPLICATION_NAME, private_folder
from scanpay.host.db.migrate import current_revision, head_revision, upgrade
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, orders, pin_waits
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.i18n import Text

__all__ = [
    "SERVE_LOCK",
    "BackupResult",
    "Readiness",
    "RestoreResult",
    "backup",
    "readiness",
    "restore",
    "serving",
    "sweep",
    "unserved",
]

#: The PostgreSQL advisory lock key of "a host serves this database": ``serve`` holds it
#: shared, a restore exclusive (another key than the migrations' lock).
SERVE_LOCK = 0x5CA9_0002


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
    """Whether this process can serve: database reachable, migrated to the code's head,
    and this process's master key the database's (a key rotated by another process, or
    a wrong key, is not ready: every terminal request would fail)."""
    from scanpay.host.services.secrets import key_problem

    expected = head_revision()
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(ctx.db)
    except Exception as exc:  # any driver error means "not ready", never a crash
        return Readiness(False, False, None, expected, type(exc).__name__)
    if revision != expected:
        return Readiness(False, True, revision, expected, "the schema is not migrated")
    problem = key_problem(ctx)
    if problem is not None:
        return Readiness(False, True, revision, expected, problem)
    return Readiness(True, True, revision, expected)


def sweep(ctx: HostContext) -> dict[str, int]:
    """Expire what is due; returns how many orders and payments changed."""
    return {"orders": orders.expire_due(ctx), "payments": pin_waits.expire_due(ctx)}


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A copy made (``path``, ``size``); for PostgreSQL also the ``pg_dump`` command
    (with ``dry_run`` only the command: nothing was run)."""

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


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """A restore done: what was put back, the revision it was migrated to, and the
    checks run on it (``ok``: the ledger balances and the audit chain verifies)."""

    backend: str
    path: str
    database: str
    created: bool
    revision: str | None
    ledger: dict[str, Any]
    audit: dict[str, Any]
    command: str | None = None

    @property
    def ledger_ok(self) -> bool:
        return bool(self.ledger["ok"])

    @property
    def audit_ok(self) -> bool:
        return bool(self.audit["ok"])

    @property
    def ok(self) -> bool:
        return self.ledger_ok and self.audit_ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "path": self.path,
            "database": self.database,
            "created": self.created,
            "revision": self.revision,
            "ok": self.ok,
            "ledger_ok": self.ledger_ok,
            "audit_ok": self.audit_ok,
            "ledger": self.ledger,
            "audit": self.audit,
            "command": self.command,
        }


def _sqlite_path(settings: HostSettings) -> Path:
    database = make_url(settings.database_url).database
    assert database
    return Path(database)


def _pg_url(url: URL) -> str:
    plain = url.set(drivername="postgresql")
    # The password never goes on a command line: the tools get it in PGPASSWORD.
    return plain.set(password=None).render_as_string(hide_password=False)


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _pg_connect(url: URL, database: str, purpose: str) -> psycopg.Connection[Any]:
    """A libpq connection (autocommit) to ``database`` on the server of ``url``."""
    options: dict[str, Any] = {
        key: value for key, value in url.query.items() if isinstance(value, str)
    }
    options.update(
        host=url.host or None,
        port=url.port or None,
        user=url.username or None,
        password=url.password or None,
        dbname=database,
        application_name=f"{APPLICATION_NAME} {purpose}",
        connect_timeout=10,
    )
    return psycopg.connect(autocommit=True, **{k: v for k, v in options.items() if v is not None})


def _refuse(zh: str, en: str, where: str = "file") -> HostError:
    return HostError("30", Text(zh, en), field=where)


def _in_use(zh: str, en: str) -> HostError:
    return HostError("57", Text(zh, en), field="database")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise _refuse(
            f"找不到 {name}：请安装 PostgreSQL 客户端工具（Debian: postgresql-client）",
            f"{name} is not installed: install PostgreSQL's client tools "
            "(Debian: postgresql-client), of the server's major version or newer",
            "database",
        )
    return found


def _run_tool(command: list[str], url: URL) -> None:
    done = subprocess.run(command, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = done.stderr.strip()[-1500:]
        tool = Path(command[0]).name
        raise _refuse(f"{tool} 失败：{said}", f"{tool} failed: {said}", "database")


def backup(
    ctx: HostContext, target: Path, *, overwrite: bool = False, dry_run: bool = False
) -> BackupResult:
    """Copy the database to ``target``: SQLite with its online backup API, PostgreSQL with
    ``pg_dump --format=custom`` (``dry_run``: only say the command). Both run while the
    host serves and give a consistent snapshot; the file is made mode 0600."""
    if target.exists() and not overwrite and not dry_run:
        raise _refuse("目标文件已存在", f"{target} exists (pass --force to overwrite)")
    if ctx.db.dialect == "postgresql":
        url = make_url(ctx.settings.database_url)
        command = ["pg_dump", "--format=custom", "--no-owner", "--file", str(target),
                   "--dbname", _pg_url(url)]  # fmt: skip
        shown = " ".join(command[:-1]) + f" '{command[-1]}'"
        if dry_run:
            return BackupResult("postgresql", command=shown)
        target.parent.mkdir(parents=True, exist_ok=True)
        command[0] = _tool("pg_dump")
        try:
            _run_tool(command, url)
        except HostError:
            target.unlink(missing_ok=True)  # half a dump is no backup
            raise
        os.chmod(target, 0o600)  # it holds every merchant's data
        return BackupResult("postgresql", str(target), target.stat().st_size, shown)
    if dry_run:
        return BackupResult("sqlite", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_sqlite_path(ctx.settings))
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


# ------------------------------------------------------------------ serving and restoring


def _lock_file(settings: HostSettings) -> int:
    path = Path(str(_sqlite_path(settings)) + "-serving")
    private_folder(path.parent)  # as the engine makes it: this user's only
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


_RESTORING = Text(
    "数据库正在恢复或轮换主密钥，完成后再启动主机",
    "a restore or a master key rotation of this database is running: start the host "
    "when it is done",
)


@contextmanager
def serving(settings: HostSettings) -> Iterator[None]:
    """Mark the settings' database as served for as long as the block runs (see the
    module docstring); refused (57) while a restore of it runs."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        try:
            conn = _pg_connect(url, str(url.database), "serve")
        except psycopg.Error:
            # No database yet, or none reachable: serve's own start says so better.
            yield
            return
        try:
            held = conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (SERVE_LOCK,))
            row = held.fetchone()
            if not (row and row[0]):
                raise HostError("57", _RESTORING, field="database")
            yield
        finally:
            conn.close()
        return
    fd = _lock_file(settings)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HostError("57", _RESTORING, field="database") from None
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


#: What an operator is doing that needs every host stopped, for the refusal's words.
_DOING = {
    "restore": ("恢复", "restoring"),
    "rotate": ("轮换主密钥", "rotating the master key"),
}


def _host_serving(database: str, doing: str) -> HostError:
    zh, en = _DOING[doing]
    return _in_use(
        f"有主机正在使用数据库 {database}：请先停止主机（scanpay host serve）再{zh}",
        f"a host is serving the database {database}: stop it (scanpay host serve) before {en}",
    )


@contextmanager
def _sqlite_exclusive(settings: HostSettings, doing: str) -> Iterator[None]:
    fd = _lock_file(settings)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _host_serving(str(_sqlite_path(settings)), doing) from None
        yield
    finally:
        os.close(fd)


def _other_hosts(conn: psycopg.Connection[Any], doing: str) -> int:
    """Host sessions on the connection's database other than ``doing``'s own.

    A backend lingers in ``pg_stat_activity`` for a moment after its client closed
    it (our own pool, just disposed), so a count that stays above zero for a few
    seconds is a host; a serving host keeps its pool open far longer.
    """
    deadline = time.monotonic() + 3.0
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND application_name LIKE %s "
            "AND application_name <> %s",
            (APPLICATION_NAME + "%", f"{APPLICATION_NAME} {doing}"),
        ).fetchone()
        count = int(row[0]) if row else 0
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


@contextmanager
def _pg_unserved(url: URL, doing: str) -> Iterator[None]:
    name = str(url.database)
    conn = _pg_connect(url, name, doing)
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (SERVE_LOCK,)).fetchone()
        if not (row and row[0]) or _other_hosts(conn, doing):
            raise _host_serving(name, doing)
        yield
    finally:
        conn.close()


@contextmanager
def unserved(ctx: HostContext, doing: str) -> Iterator[None]:
    """Hold the database against hosts while the block runs: refused (57) while one
    serves it, and a host that starts meanwhile is refused (see the module docstring).

    ``doing`` (``"restore"``, ``"rotate"``) names the work in the refusal. The
    context's own pooled connections are closed first: they are no host serving.
    """
    ctx.db.dispose()
    if ctx.db.dialect == "postgresql":
        with _pg_unserved(make_url(ctx.settings.database_url), doing):
            yield
        return
    with _sqlite_exclusive(ctx.settings, doing):
        yield


def _restore_sqlite(ctx: HostContext, source: Path) -> None:
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
        live = sqlite3.connect(_sqlite_path(ctx.settings), timeout=30)
        try:
            backup_db.backup(live)
        finally:
            live.close()
    finally:
        backup_db.close()


def _maintenance(url: URL) -> psycopg.Connection[Any]:
    """A connection to the server's maintenance database (to create the target)."""
    last: psycopg.Error | None = None
    for name in ("postgres", "template1"):
        try:
            return _pg_connect(url, name, "restore")
        except psycopg.Error as exc:
            last = exc
    said = str(last).strip()
    raise _refuse(f"无法连接数据库服务器：{said}", f"cannot reach the server: {said}", "database")


@contextmanager
def _pg_exclusive(url: URL) -> Iterator[bool]:
    """Own the target database for the restore: created when missing (yields whether it
    was), refused while a host is connected to it or holds :data:`SERVE_LOCK`."""
    name = str(url.database)
    created = False
    with _maintenance(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # pg_restore restores *into* a database: after dropdb there is none to go into.
            try:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.Error as exc:
                said, role = str(exc).strip(), url.username or "ROLE"
                raise _refuse(
                    f"无法创建数据库 {name}（{said}）：请以超级用户执行 "
                    f"createdb --owner {role} {name}",
                    f"cannot create the database {name} ({said}): create it as the "
                    f"superuser, createdb --owner {role} {name}",
                    "database",
                ) from None
            created = True
    with _pg_unserved(url, "restore"):
        yield created


def _restore_postgres(url: URL, source: Path) -> str:
    pg_restore = _tool("pg_restore")
    listed = subprocess.run(
        [pg_restore, "--list", str(source)], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0 or "alembic_version" not in listed.stdout:
        said = listed.stderr.strip()[-500:] or "no alembic_version table in it"
        raise _refuse("不是本系统的备份", f"{source} is not a scanpay host backup ({said})")
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
               "--exit-on-error", "--dbname", _pg_url(url), str(source)]  # fmt: skip
    shown = " ".join(command[:-2]) + f" '{command[-2]}' {source}"
    command[0] = pg_restore
    _run_tool(command, url)
    return shown


def restore(ctx: HostContext, source: Path) -> RestoreResult:
    """Replace the database with a backup, then migrate it and check it.

    Refused (57) while a host serves the database; on PostgreSQL a missing database
    is created first. Nothing changes when the file is not a backup of this host. The
    ledger check and the audit verification run on what was put back; their verdicts
    are in the result (the caller exits non-zero when one fails).
    """
    if not source.is_file():
        raise _refuse("找不到备份文件", f"no such backup file: {source}")
    settings = ctx.settings
    url = make_url(settings.database_url)
    ctx.db.dispose()  # our own pooled connections are no host serving
    if ctx.db.dialect == "postgresql":
        with _pg_exclusive(url) as created:
            command = _restore_postgres(url, source)
            revision = upgrade(ctx.db)  # a backup from an older version catches up
            checked = ledger.check(ctx).to_dict(), audit.verify(ctx).to_dict()
            ctx.db.dispose()
        return RestoreResult("postgresql", str(source), str(url.database), created, revision,
                             *checked, command=command)  # fmt: skip
    with _sqlite_exclusive(settings, "restore"):
        _restore_sqlite(ctx, source)
        revision = upgrade(ctx.db)
        checked = ledger.check(ctx).to_dict(), audit.verify(ctx).to_dict()
        ctx.db.dispose()
    return RestoreResult("sqlite", str(source), str(_sqlite_path(settings)), False, revision,
                         *checked)  # fmt: skip
