"""Real host and terminal-agent processes that the chaos run starts, SIGKILLs and restarts.

Each :class:`ManagedProcess` is one child process on a fixed loopback port
(a restarted host must come back where the fault proxies point; a restarted
agent where the harness's cashier talks to it), with its output appended to a
log file in the run directory. Only processes started here are ever signalled,
and only by their own pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

__all__ = ["ManagedProcess", "ProcessError", "agent_command", "host_command"]


class ProcessError(RuntimeError):
    """A process did not come up."""


def host_command(port: int) -> list[str]:
    """``scanpay host serve`` - the command an operator runs - on ``port``."""
    return [
        sys.executable,
        "-c",
        "from scanpay.cli import main; main()",
        "host",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def agent_command(port: int, directory: Path) -> list[str]:
    """``python -m scanpay.terminal`` (what ``scanpay terminal serve`` runs) on ``port``."""
    return [
        sys.executable,
        "-m",
        "scanpay.terminal",
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--log-level",
        "warning",
    ]


class ManagedProcess:
    """One child process: start (and wait until it answers), SIGKILL, stop.

    ``up`` is set while the process is believed to serve; callers that need it
    wait on it. ``failpoints`` (agents only) arms ``SCANPAY_TERMINAL_FAILPOINTS``
    for the next start: the agent SIGKILLs itself when it journals that state.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        port: int,
        env: dict[str, str],
        log: Path,
        health_path: str = "/healthz",
    ) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.env = env
        self.log = log
        self.health_path = health_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.up = threading.Event()
        self.armed = ""
        """The failpoint the running process was started with ("" for none)."""
        self.starts = 0
        self.held = False
        """True while someone (the chaos monkey) is killing and restarting it on purpose."""
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, failpoints: str = "", timeout: float = 90.0) -> bool:
        """Start and wait until it answers ``health_path``.

        Returns False when the process died while starting - an armed agent may
        reach its failpoint during recovery, before it ever answers. Raises
        :class:`ProcessError` when it neither answers nor dies in ``timeout``.
        """
        with self._lock:
            env = dict(self.env)
            if failpoints:
                env["SCANPAY_TERMINAL_FAILPOINTS"] = failpoints
            with self.log.open("ab") as out:
                out.write(f"\n=== start #{self.starts + 1} {failpoints}\n".encode())
                out.flush()
                self.proc = subprocess.Popen(
                    self.command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.armed = failpoints
            self.starts += 1
            proc = self.proc
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                return False
            try:
                if httpx.get(self.url + self.health_path, timeout=1.0).status_code == 200:
                    self.up.set()
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise ProcessError(f"{self.name} did not answer in {timeout:.0f} s (log: {self.log})")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush - a power cut as far as it can tell."""
        with self._lock:
            self.up.clear()
            if self.proc is not None and self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (a clean shutdown), SIGKILL if it does not exit in ``timeout``."""
        with self._lock:
            self.up.clear()
            if self.proc is None or self.proc.poll() is not None:
                return
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
