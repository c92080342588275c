"""``scanpay host serve`` as a process of its own (the system clock), for tests of what
operators do around a running host: the one way the suite starts it, waits for it and
stops it."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from host.kit import cli_env
from support import free_socket

__all__ = [
    "READY_SECONDS",
    "Served",
    "free_port",
    "host_env",
    "serve_command",
    "serve_in_processes",
    "served",
]

#: How long a host may take to answer ``/readyz``: the machine is shared and busy, and a
#: host that never gets ready fails the test anyway, so the wait is generous.
READY_SECONDS = 180
#: How long a stopped host may take to end before it is killed.
STOP_SECONDS = 60


def host_env(url: str, data: Path) -> dict[str, str]:
    """The settings of such a host: its database and its data folder (master key)."""
    return {"SCANPAY_DATABASE_URL": url, "SCANPAY_DATA_DIR": str(data)}


def free_port() -> int:
    """A loopback port nobody listens on (the host binds it itself)."""
    sock = free_socket()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def serve_command(port: int, *args: str) -> list[str]:
    """``scanpay host serve`` on ``port``, run by this interpreter (this checkout's code)."""
    return [sys.executable, "-c", "from scanpay.cli import main; main()", "host", "serve",
            "--port", str(port), *args]  # fmt: skip


@dataclass
class Served:
    """A serving host: its base URL and process; what it wrote, once it is stopped."""

    url: str
    proc: subprocess.Popen[bytes]
    stdout: str = ""
    stderr: str = ""


@contextmanager
def served(
    url: str | None,
    data: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    log_level: str = "warning",
    cafile: Path | None = None,
    cwd: Path | None = None,
) -> Iterator[Served]:
    """The host once ``/readyz`` answers 200; stopped (SIGTERM, SIGKILL if it hangs) at the end.

    ``env`` is the environment it starts from (this process's by default); ``url`` and
    ``data``, where given, set its database and data folder on top. ``args`` go to
    ``serve`` as they are. With ``cafile`` it serves HTTPS, trusted with that file.
    Its output goes to files, not pipes (a full pipe nobody reads would stall it), and
    is kept in ``stdout`` and ``stderr`` once it has stopped.
    """
    environment = dict(os.environ if env is None else env)
    if url is not None:
        environment["SCANPAY_DATABASE_URL"] = url
    if data is not None:
        environment["SCANPAY_DATA_DIR"] = str(data)
    port = free_port()
    command = serve_command(port, "--log-level", log_level, *args)
    verify: ssl.SSLContext | bool = True
    if cafile is not None:
        verify = ssl.create_default_context(cafile=str(cafile))
    base = f"{'http' if cafile is None else 'https'}://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # A session of its own: should it hang on stop, its workers are killed with it.
        proc = subprocess.Popen(command, cwd=cwd, env=environment, stdout=out, stderr=err,
                                start_new_session=True)  # fmt: skip
        host = Served(base, proc)
        try:
            _wait_ready(host, verify, err)
            yield host
        finally:
            _stop(proc)
            host.stdout, host.stderr = _text(out), _text(err)


@contextmanager
def serve_in_processes(database_url: str, count: int = 2) -> Iterator[list[str]]:
    """``count`` separate hosts on one database (a session host's: its data folder, its
    master key); their base URLs."""
    env = {**os.environ, **cli_env(database_url)}
    with ExitStack() as stack:
        yield [stack.enter_context(served(None, None, env=env)).url for _ in range(count)]


def _wait_ready(host: Served, verify: ssl.SSLContext | bool, err: IO[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    with httpx.Client(verify=verify, timeout=5) as client:
        while True:
            if host.proc.poll() is not None:
                said = _text(err)[-2000:]
                raise AssertionError(f"the host exited ({host.proc.returncode}): {said}")
            try:
                if client.get(host.url + "/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                said = _text(err)[-2000:]
                raise AssertionError(f"the host was not ready in {READY_SECONDS} s: {said}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an operator stops it (uvicorn's supervisor stops its workers); the
    whole process group is killed if it has not ended in time."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own group (start_new_session)
        proc.wait()


def _text(file: IO[bytes]) -> str:
    # pread: the child writes through the same file offset, which must not move.
    size = os.fstat(file.fileno()).st_size
    return os.pread(file.fileno(), size, 0).decode(errors="replace")
