"""Shared test helpers: where the shared data lives, and skip-or-fail rules.

A test that needs something outside the repository (``../shared`` data, the
PostgreSQL server, Chromium) skips with a clear reason on a developer's
machine that lacks it, but fails in CI (``CI=true``), where it must run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT.parent / "shared").resolve()
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(ok: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) unless ``ok``."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)  # outside CI only: in CI it failed above


def shared_path(*parts: str) -> Path:
    """A path under ``../shared``; skips (or fails in CI) when it is missing."""
    path = SHARED.joinpath(*parts)
    require(path.exists(), f"needs ../shared/{'/'.join(parts)} (absent in a fresh clone)")
    return path


def free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port, for a server a test starts.

    IPPROTO_TCP spelled out, so asyncio sets TCP_NODELAY on the accepted connections
    (a reply written in two parts would otherwise wait ~40 ms for a delayed ACK).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - not the main thread
        pass


@contextmanager
def app_in_thread(
    app: Any, what: str = "the app", lifespan: str = "on", sock: socket.socket | None = None
) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a free loopback port (``sock``: this one, for
    an app that must know its own URL before it starts); yields its base URL once it
    serves, and stops it at the end (so a test can move the app's clock)."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    server = _ThreadServer(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    try:
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()
