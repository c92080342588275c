"""``scanpay host serve`` as a process of its own, on a database and data folder of the
test's own (the system clock), for tests of what operators do around a running host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from host.kit import free_socket

__all__ = ["host_env", "served"]


def host_env(url: str, data: Path) -> dict[str, str]:
    """The settings of such a host: its database and its data folder (master key)."""
    return {"SCANPAY_DATABASE_URL": url, "SCANPAY_DATA_DIR": str(data)}


@contextmanager
def served(url: str, data: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The host's base URL once ``/readyz`` answers 200; stopped (SIGTERM) at the end."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    command = [sys.executable, "-c", "from scanpay.cli import main; main()", "host", "serve",
               "--port", str(port), "--log-level", "warning", *args]  # fmt: skip
    env = {**os.environ, **host_env(url, data)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                assert proc.stderr is not None
                raise AssertionError(f"the host exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the host did not start"
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=60)
