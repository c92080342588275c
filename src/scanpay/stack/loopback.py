"""Serving on loopback: free ports, ASGI apps in a thread, the host's self-signed pair.

:class:`LoopbackServer` serves an ASGI app with uvicorn on a 127.0.0.1 port, in a
thread, and stops it cleanly; ``scanpay run``, ``scanpay demo`` and the tests use it.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoopbackServer", "StackError", "TlsPair", "check_port", "free_port", "make_tls_pair"]


class StackError(Exception):
    """Something the stack needs is missing or taken (a port, a data directory)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port(port: int) -> None:
    """Raise :class:`StackError` when a server listens on ``port`` of 127.0.0.1."""
    with socket.socket() as s:
        # As uvicorn binds: connections of a previous run lingering in TIME_WAIT
        # do not make the port busy; a listening server does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StackError(f"port {port} on 127.0.0.1 is in use") from None
            raise


@dataclass(frozen=True, slots=True)
class TlsPair:
    """A host certificate and its key (PEM files) and the certificate's SHA-256."""

    certfile: Path
    keyfile: Path
    fingerprint_sha256: str


def make_tls_pair(folder: Path) -> TlsPair:
    """A self-signed pair for 127.0.0.1 and localhost in ``folder``, made as
    ``scanpay host certs`` makes it (with the openssl tool)."""
    import typer

    from scanpay.cli.host.server import make_certs

    try:
        made = make_certs(folder, ["localhost", "127.0.0.1"], 30)
    except typer.Exit:
        raise StackError("the openssl command is needed to make a certificate") from None
    return TlsPair(Path(made["certfile"]), Path(made["keyfile"]), made["fingerprint_sha256"])


class LoopbackServer:
    """An ASGI app served by uvicorn on 127.0.0.1, in a thread.

    ``port`` 0 picks a free port. :meth:`stop` lets uvicorn finish its
    requests and run the app's shutdown (the agent stops its workers there).
    With ``tls`` it speaks HTTPS only.
    """

    def __init__(
        self, app: Any, port: int = 0, *, log_level: str = "error", tls: TlsPair | None = None
    ) -> None:
        import uvicorn

        if port:
            check_port(port)
        self.port = port or free_port()
        self.tls = tls
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level=log_level,
            lifespan="on",
            ssl_certfile=str(tls.certfile) if tls else None,
            ssl_keyfile=str(tls.keyfile) if tls else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"http-{port}")

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LoopbackServer:
        """Serve, and return once the app has started (its startup ran)."""
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                raise StackError(f"the server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout)
