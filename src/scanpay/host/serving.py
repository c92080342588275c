"""How the host is served (``scanpay host serve``): uvicorn, guarded, on one or more workers.

Several host worker processes on one port, each with a listening socket of its own.

uvicorn's ``--workers N`` shares one listening socket among the workers, and a
worker that wakes up accepts every connection waiting at that moment: terminals
that connect together (a shop opening, a load balancer's pool, a benchmark)
land on one or two workers, and their keep-alive connections stay there while
the other workers idle. Measured with 32 terminals and 4 workers: 16, 14, 1
and 1 connections. Here every worker gets its own socket on the same port with
``SO_REUSEPORT``, and the kernel spreads new connections over the sockets
evenly. The supervision (restart a worker that dies, SIGTERM/SIGINT, SIGHUP to
replace them all) is uvicorn's; only the socket each worker is given differs.

What uvicorn lacks, :class:`GuardedH11Protocol` adds (:func:`host_config` puts it
and the settings' limits in the configuration):

- a deadline for the request head (``header_timeout``): uvicorn's keep-alive
  timeout runs only after an answer, and stops at the first byte that arrives,
  so a connection that sends nothing, or a header a byte at a time (slowloris),
  was held for ever;
- a cap on connections per worker (``max_connections``): past it the connection
  that has waited longest for a request head is closed to make room, so a crowd of
  idle connections cannot lock out the next real request. (uvicorn's own
  ``limit_concurrency`` counts idle connections too and answers 503 to the real
  requests once they fill it: the opposite.)

When the host serves TLS itself, every answer carries ``Strict-Transport-Security``
(:data:`HSTS`), the HTTP layer's own refusals included.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import sys
from typing import Any

import h11
from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol
from uvicorn.server import ServerState
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from scanpay.host.settings import HostSettings

__all__ = [
    "HSTS",
    "GuardedH11Protocol",
    "HostServerConfig",
    "SpreadWorkers",
    "host_config",
    "reuse_port_sockets",
    "serve",
    "supports_reuse_port",
]

log = logging.getLogger("scanpay.host.serving")

#: Sent on every answer when the host serves TLS itself: a browser (portal, wallet page)
#: that once reached it over HTTPS never falls back to plain HTTP for a year. Without
#: ``includeSubDomains``: other services may live under the same domain.
HSTS = ("strict-transport-security", "max-age=31536000")
#: Open files a worker needs beside its connections (database pool, listening socket, files).
_SPARE_FILES = 256


class HostServerConfig(Config):
    """uvicorn's configuration plus the limits uvicorn lacks, read by
    :class:`GuardedH11Protocol` (kept on the configuration, so that worker processes,
    which receive it pickled, get them too)."""

    def __init__(
        self, app: Any, *, timeout_request_head: float, limit_connections: int, **options: Any
    ) -> None:
        super().__init__(app, **options)
        self.timeout_request_head = timeout_request_head
        self.limit_connections = limit_connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and a cap on connections
    (see the module docstring). A connection "waits" while the host owes it no answer:
    from its start, or from the end of its previous answer, until its next request head
    is complete; the deadline is counted from then, whatever bytes trickle in."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.timeout_request_head = float(getattr(config, "timeout_request_head", 10.0))
        self.limit_connections = int(getattr(config, "limit_connections", 1000))
        self._head_deadline: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        # Connections already closing (made room for, or closed by their client) are on
        # their way out: only the others count.
        if len(self.connections) > self.limit_connections and (
            sum(not c.transport.is_closing() for c in self.connections) > self.limit_connections
        ):
            self._make_room()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    @property
    def waiting(self) -> bool:
        """Whether the host owes this connection no answer (its next request head is due)."""
        idle = self.cycle is None or self.cycle.response_complete
        return idle and not self.transport.is_closing()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own, with the server's default headers (HSTS over TLS) it leaves out.
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"connection", b"close"),
        ]
        event = h11.Response(status_code=400, headers=headers, reason=STATUS_PHRASES[400])
        self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.Data(data=msg.encode("ascii"))) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._waiting_since = self.loop.time()
        self._head_deadline = self.loop.call_later(self.timeout_request_head, self._overdue)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _overdue(self) -> None:
        self._head_deadline = None
        if self.waiting:  # else a request is being answered: its end starts a new wait
            log.debug(
                "closed a connection that sent no request head in %.1f s", self.timeout_request_head
            )
            self._close()

    def _close(self) -> None:
        self._cancel_deadline()
        if not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request head (this one when
        every other is being answered): cheap, and the newest connection gets served."""
        waiting = [
            c
            for c in self.connections
            if c is not self and isinstance(c, GuardedH11Protocol) and c.waiting
        ]
        victim = min(waiting, key=lambda c: c._waiting_since) if waiting else self
        victim._close()


def host_config(app: Any, settings: HostSettings, **options: Any) -> HostServerConfig:
    """The uvicorn configuration the host is served with: :class:`GuardedH11Protocol`
    with the settings' head deadline, keep-alive timeout and connection cap, and
    :data:`HSTS` when it serves TLS itself. ``options`` are uvicorn's (``host``, ``port``,
    ``workers``, ``ssl_certfile``...)."""
    headers = list(options.pop("headers", None) or [])
    if options.get("ssl_certfile"):
        headers.append(HSTS)
    return HostServerConfig(
        app,
        http=GuardedH11Protocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_request_head=settings.header_timeout,
        limit_connections=settings.max_connections,
        headers=headers,
        **options,
    )


def serve(config: HostServerConfig) -> None:
    """Serve until stopped, as ``uvicorn.run`` would: in this process, or on
    ``config.workers`` processes (each on a socket of its own where the system balances
    sockets sharing a port: :class:`SpreadWorkers`)."""
    _raise_file_limit(config.limit_connections + _SPARE_FILES)
    try:
        if config.workers > 1:
            if supports_reuse_port():
                sockets = reuse_port_sockets(config.host, config.port, config.workers)
                SpreadWorkers(config, sockets).run()
            else:
                Multiprocess(config, [config.bind_socket()]).run()
            return
        server = Server(config)
        server.run()
    except KeyboardInterrupt:  # pragma: no cover - as uvicorn.run
        return
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _raise_file_limit(wanted: int) -> None:
    """Each connection is an open file: raise the soft limit (often 1024) towards ``wanted``
    as far as the hard limit allows, so the cap, not the kernel, decides."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        log.warning(
            "the open-file limit (%d) is below max_connections + %d: raise it, or lower "
            "SCANPAY_MAX_CONNECTIONS",
            target,
            _SPARE_FILES,
        )


def supports_reuse_port() -> bool:
    """Whether this system balances connections over sockets sharing a port (Linux)."""
    return hasattr(socket, "SO_REUSEPORT")


def reuse_port_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` TCP sockets listening on ``host:port`` together (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say
            # so, and without it a reply written in two parts waits for a delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(2048)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class SpreadWorkers(Multiprocess):
    """uvicorn's worker supervisor, with worker ``i`` always serving ``sockets[i]``."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.own_sockets = list(sockets)
        self.processes_num = len(sockets)

    def _new(self, index: int) -> Process:
        return Process(self.config, [self.own_sockets[index]])

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            process = self._new(index)
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """Replace each worker, its replacement serving before the old one goes."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._new(index)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    log.error("worker %s was not ready in time; restart aborted", new.pid)
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or gone
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving: every restart would fail the same way.
                log.error("worker %s failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("worker %s died; starting another", process.pid)
            replacement = self._new(index)
            replacement.start()
            self.processes[index] = replacement
