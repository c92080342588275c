"""Engines and sessions for SQLite (a file, WAL) and PostgreSQL (psycopg 3).

SQLite: the driver's own transaction handling is switched off and the host
emits ``BEGIN`` itself, ``BEGIN IMMEDIATE`` for write transactions, so two
writers never both read and then fight over the write lock (SQLite serialises
writers; IMMEDIATE makes the second one wait at the start, up to the busy
timeout, instead of failing at its first write). Every connection runs in WAL
mode with ``synchronous=FULL``: a commit that returned is on disk. Write
transactions queue before ``BEGIN IMMEDIATE``, on a lock inside the process
and on an ``flock`` of a file beside the database across processes (several
``serve`` workers): SQLite's busy handler waits by sleeping and retrying (1,
2, 5, 10... up to 100 ms), so dozens of writers contending for the write lock
would wait far longer than the writes take, and some for seconds; a queue hands
the lock over as soon as it is free. (A writer that does not queue, such as
another program, still meets the busy handler: the queue only orders ours.)

The SQLite files hold PIN hashes and every transaction, so only the host's
user may read them: the data folder is made 0700, and the database file is
made 0600 before SQLite opens it (SQLite makes its files 0644, and gives the
``-wal``, ``-shm`` and ``-journal`` files the main file's mode, so they are
born 0600 too). A folder or file that an older version left open to others is
tightened when the engine is made, with a log line (:func:`private_folder`).

PostgreSQL: READ COMMITTED; correctness under concurrency comes from unique
constraints, row locks and conditional updates in the services.

:meth:`Database.statements` is for the hot path's statements that each stand
alone (a terminal's identity, a request nonce): on PostgreSQL it runs them in
autocommit mode, one round trip each and no ``BEGIN``/``COMMIT`` around them
(a write is still durably committed before it returns: ``synchronous_commit``
stays on); on SQLite each write gets its own ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Executable, TableClause

__all__ = [
    "APPLICATION_NAME",
    "Database",
    "Statements",
    "insert_if_new",
    "make_engine",
    "private_folder",
]

log = logging.getLogger("scanpay.host.db")

_WRITE = "scanpay_write"
#: What every host connection to PostgreSQL is called (``pg_stat_activity``): a restore
#: refuses while sessions of that name are connected to its database.
APPLICATION_NAME = "scanpay host"
_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory created and their pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError("the host needs a SQLite file (several threads share it)")
        _private_database(Path(database))
        engine = create_engine(
            url,
            connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            # More connections than the server's threads (40): a thread never waits for a
            # connection another thread holds while queued for its write turn.
            pool_size=10,
            max_overflow=40,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Up to 30 connections per process (as before), all kept open once opened: a pool
    # that closes the ones beyond its size when they come back (overflow) opens and
    # closes connections all the time when more requests than that are in flight, and
    # each opening costs PostgreSQL a new backend process (milliseconds of CPU).
    # Requests beyond 30 at once (the thread pool runs 40) wait for a connection.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=30,
        max_overflow=0,
        connect_args={"application_name": APPLICATION_NAME},
    )


def private_folder(path: Path) -> None:
    """Make ``path`` (a data folder) readable by this user only: created 0700 when missing
    (its missing parents get the usual mode), tightened when it is open to others."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path)


def _private_database(path: Path) -> None:
    private_folder(path.parent)
    if not path.exists():
        # Before SQLite makes it 0644: its -wal, -shm and -journal files take this mode.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for name in ("", "-wal", "-shm", "-journal", "-writers"):
        side = path.with_name(path.name + name)
        if side.exists():
            _tighten(side)


def _tighten(path: Path) -> None:
    """Take the group's and others' permissions off ``path`` (an older version's file or
    folder), saying so; one that is not ours, or a shared sticky folder such as /tmp, is
    only reported."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return
    if info.st_uid != os.geteuid() or mode & stat.S_ISVTX:
        log.warning("%s is open to other users (%04o) and not ours to change", path, mode)
        return
    try:
        os.chmod(path, mode & ~0o077)
    except OSError as exc:  # a read-only file system, say: the host can still serve
        log.warning(
            "%s is open to other users (%04o) and could not be changed: %s", path, mode, exc
        )
        return
    log.warning(
        "tightened %s from %04o to %04o: it holds the host's data (PIN hashes, transactions)",
        path,
        mode,
        mode & ~0o077,
    )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (see module docstring).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _WriterQueue:
    """Where the writers of one SQLite file take turns: a lock among this process's
    threads, then an exclusive ``flock`` among processes (see the module docstring)."""

    def __init__(self, database: str) -> None:
        self._lock = threading.Lock()
        self._path = database + "-writers"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for one write transaction. After the busy timeout the thread
        lock is given up on, and SQLite's own busy handling decides."""
        held = self._lock.acquire(timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            fd = self._file()
            # Blocks in the kernel; the holder's transaction is bounded by the busy timeout.
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if held:
                self._lock.release()


_QUEUES: dict[str, _WriterQueue] = {}
_QUEUES_GUARD = threading.Lock()


def _writer_queue(database: str) -> _WriterQueue:
    """This process's queue for one SQLite file (shared by every engine on it)."""
    key = str(Path(database).resolve())
    with _QUEUES_GUARD:
        return _QUEUES.setdefault(key, _WriterQueue(key))


@contextmanager
def _queued(queue: _WriterQueue | None) -> Iterator[None]:
    if queue is None:
        yield
        return
    with queue.turn():
        yield


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def insert_if_new(table: TableClause, key: ColumnElement[Any]) -> dict[str, Executable]:
    """By dialect name: ``INSERT ... ON CONFLICT DO NOTHING RETURNING key`` into ``table``
    (values given at execution). A row comes back only when one was inserted: a unique
    key already taken (by a transaction that committed first) is not an error, so the
    transaction goes on without a savepoint."""
    return {
        "postgresql": postgresql.insert(table).on_conflict_do_nothing().returning(key),
        "sqlite": sqlite.insert(table).on_conflict_do_nothing().returning(key),
    }


class Statements:
    """Statements that each stand alone (see the module docstring).

    :meth:`read` runs a query, :meth:`write` runs one change and commits it before
    returning; a write that raises leaves nothing behind. On PostgreSQL they share
    one autocommit connection; on SQLite each takes a pooled connection of its own,
    a write only once its turn in the writer queue came (a connection held while
    waiting for the turn could be the one the writer ahead needs).
    """

    def __init__(
        self,
        engine: Engine,
        conn: Connection | None,
        writer: _WriterQueue | None,
        write_engine: Engine,
    ) -> None:
        self._engine = engine
        self._conn = conn
        self._writer = writer
        self._write_engine = write_engine

    @staticmethod
    def _count(result: Any) -> int:
        return len(result.all()) if result.returns_rows else int(result.rowcount)

    def read(self, statement: Executable, params: dict[str, Any] | None = None) -> Any:
        """The result of one query (rows already fetched)."""
        if self._conn is not None:
            result = self._conn.execute(statement, params)
            return result.all() if result.returns_rows else []
        with self._engine.connect() as conn:  # its read transaction ends with the block
            result = conn.execute(statement, params)
            return result.all() if result.returns_rows else []

    def write(self, statement: Executable, params: dict[str, Any] | None = None) -> int:
        """Run one change and commit it; the number of rows it changed (for a statement
        with ``RETURNING``, the rows it returned: drivers do not all count upserts)."""
        if self._conn is not None:
            return self._count(self._conn.execute(statement, params))
        with _queued(self._writer), self._write_engine.begin() as conn:
            return self._count(conn.execute(statement, params))


class Database:
    """One database: an engine plus read and write transactions as context managers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        sqlite = self.engine.dialect.name == "sqlite"
        # SQLite's driver has no autocommit mode that leaves our BEGIN handling alone.
        self._autocommit_engine = (
            self.engine if sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        database = self.engine.url.database
        self._writer = _writer_queue(database) if sqlite and database else None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with (
            _queued(self._writer),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction; closing the session ends it (the pool rolls the connection back).

        Rows read stay usable after the block: closing detaches them without expiring them.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def statements(self) -> Iterator[Statements]:
        """A connection for standalone statements (see :class:`Statements`)."""
        if self.dialect == "sqlite":
            yield Statements(self.engine, None, self._writer, self._write_engine)
            return
        with self._autocommit_engine.connect() as conn:
            yield Statements(self.engine, conn, None, self._write_engine)

    def dispose(self) -> None:
        self.engine.dispose()
