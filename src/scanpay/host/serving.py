"""Several host worker processes on one port, each with a listening socket of its own.

uvicorn's ``--workers N`` shares one listening socket among the workers, and a
worker that wakes up accepts every connection waiting at that moment: terminals
that connect together (a shop opening, a load balancer's pool, a benchmark)
land on one or two workers, and their keep-alive connections stay there while
the other workers idle. Measured with 32 terminals and 4 workers: 16, 14, 1
and 1 connections. Here every worker gets its own socket on the same port with
``SO_REUSEPORT``, and the kernel spreads new connections over the sockets
evenly. The supervision (restart a worker that dies, SIGTERM/SIGINT, SIGHUP to
replace them all) is uvicorn's; only the socket each worker is given differs.
"""

from __future__ import annotations

import logging
import socket

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["SpreadWorkers", "reuse_port_sockets", "supports_reuse_port"]

log = logging.getLogger("scanpay.host.serving")


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
