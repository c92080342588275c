"""A private, throw-away PostgreSQL cluster that the chaos run may restart at will.

The machine's shared server (127.0.0.1:5432) serves other test suites at the
same time; restarting it would break them. So a chaos run on PostgreSQL makes
its own cluster: ``initdb`` into a temporary directory with the Debian server
binaries (``/usr/lib/postgresql/<version>/bin``), a free loopback port, trust
authentication on loopback only, and restarts *that* (``pg_ctl restart -m
immediate``: the server dies as in a crash and replays its WAL on the way up).

``initdb`` refuses to run as root: as root the cluster runs as the ``postgres``
OS user (``runuser -u postgres --``) in a directory it owns; as anyone else it
runs as that user. When neither works, :class:`PostgresUnavailable` says why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresUnavailable", "PrivatePostgres", "find_binaries", "unavailable_because"]

_DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    """A private PostgreSQL cluster cannot be made on this machine (and why)."""


def find_binaries() -> Path | None:
    """The newest Debian PostgreSQL server binaries, or ``pg_ctl``'s folder on the PATH."""

    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    found = [p for p in glob.glob(_DEBIAN_BINARIES) if (Path(p) / "initdb").is_file()]
    if found:
        return Path(max(found, key=version))
    on_path = shutil.which("pg_ctl")
    if on_path and (Path(on_path).parent / "initdb").is_file():
        return Path(on_path).parent
    return None


def unavailable_because() -> str | None:
    """Why a private cluster cannot be made here, or None when it can (a cheap check:
    binaries present, and a non-root user or a ``postgres`` user with ``runuser``)."""
    if find_binaries() is None:
        return "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin or PATH)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to own a cluster"
        if shutil.which("runuser") is None:
            return "running as root without runuser(1)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` on a temporary directory; :meth:`url` names its database.

    Use as a context manager: the cluster is stopped and its directory removed on exit.
    """

    def __init__(self, *, database: str = "scanpay", keep: bool = False) -> None:
        self.database = database
        self.keep = keep
        self.port = 0
        self.root: Path | None = None
        self._prefix: list[str] = []
        self._bin = find_binaries()
        self.restarts = 0

    # -- paths ------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the run's database (the ``postgres`` role, trusted on loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> PrivatePostgres:
        """Create the cluster, start it on a free loopback port, create the database."""
        problem = unavailable_because()
        if problem is not None:
            raise PostgresUnavailable(problem)
        self.root = Path(tempfile.mkdtemp(prefix="scanpay-chaos-pg-"))
        if os.geteuid() == 0:
            # initdb refuses root: the cluster belongs to the postgres OS user.
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
        )
        self.port = _free_port()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c fsync=on"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self._create_database()
        return self

    def restart(self) -> float:
        """Crash the server (immediate shutdown: no checkpoint) and start it again;
        returns the seconds it was away."""
        began = time.monotonic()
        # -l again: the new server must not inherit (and hold open) our output pipes.
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "immediate", "-w", "restart"
        )
        self.restarts += 1
        return time.monotonic() - began

    def ensure_running(self) -> None:
        """Start the server again if it is not running (after a failed restart)."""
        status = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
        if status.returncode != 0:
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        """Stop the server and remove the cluster (unless ``keep``)."""
        if self.root is None:
            return
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers ----------------------------------------------------------------------

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self._bin is not None
        command = [*self._prefix, str(self._bin / tool), *args]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            # The postgres user cannot read root's working directory.
            cwd=str(self.root) if self.root is not None else None,
        )
        if check and done.returncode != 0:
            raise PostgresUnavailable(
                f"{tool} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}"
            )
        return done

    def _create_database(self) -> None:
        import psycopg
        from psycopg import sql

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=5"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
