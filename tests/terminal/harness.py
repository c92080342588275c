"""Test harness: the real host and real terminal agents on loopback ports.

No fakes: the host is ``scanpay.host``'s own app on a temporary SQLite file,
served by uvicorn in a thread; it is set up through its own CLI (``scanpay host
... --json``, run in-process); agents are :class:`scanpay.terminal.agent.Agent`
behind their FastAPI app, in a thread or - for the SIGKILL tests - in a
``scanpay terminal serve`` subprocess. Deadlines are shortened through the
agent's settings, never by sleeping long.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
USCC = "91350100M000100Y43"

FAST: dict[str, Any] = {
    "unknown_deadline": 3.0,
    "customer_deadline": 3.0,
    "poll_interval": 0.2,
    "request_timeout": 1.5,
    "connect_timeout": 0.5,
    "query_backoff_first": 0.2,
    "query_backoff_cap": 0.5,
    "reversal_backoff_cap": 0.5,
    "camera": "none",
    "language": "en",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    """An ASGI app served by uvicorn on a loopback port, in a thread."""

    def __init__(
        self,
        app: Any,
        port: int | None = None,
        *,
        tls: tuple[Path, Path] | None = None,
        bind: str = "127.0.0.1",
    ) -> None:
        self.port = port or free_port()
        self.tls = tls
        self.bind = bind
        config = uvicorn.Config(
            app,
            host=bind,
            port=self.port,
            log_level="warning",
            lifespan="on",
            ssl_certfile=str(tls[0]) if tls else None,
            ssl_keyfile=str(tls[1]) if tls else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """``https://`` with ``tls`` (a certificate and its key), else ``http://``."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> ThreadServer:
        self.thread.start()
        end = time.monotonic() + 120
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class Host:
    """The real acquiring host on a temporary SQLite database."""

    def __init__(
        self,
        folder: Path,
        *,
        tls: tuple[Path, Path] | None = None,
        bind: str = "127.0.0.1",
        **settings: Any,
    ) -> None:
        from scanpay.host.api.app import create_app
        from scanpay.host.settings import HostSettings

        folder.mkdir(parents=True, exist_ok=True)
        self.db_file = folder / "host.db"
        self.url_db = f"sqlite:///{self.db_file}"
        self.settings = HostSettings(database_url=self.url_db, **settings)
        self.server = ThreadServer(create_app(self.settings), tls=tls, bind=bind)
        self.runner = CliRunner()
        self.merchant_id = ""
        self.secrets: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> Host:
        self.server.start()
        merchant = self.cli(
            "merchant",
            "add",
            "--name",
            "Best Shop",
            "--city",
            "Shanghai",
            "--mcc",
            "5411",
            "--license",
            USCC,
        )
        self.merchant_id = merchant["merchant_id"]
        self.cli("merchant", "approve", self.merchant_id)
        return self

    def stop(self) -> None:
        self.server.stop()

    def restart(self, **settings: Any) -> None:
        """Stop and serve again on the same port and database (down in between),
        optionally with changed settings."""
        from dataclasses import replace

        from scanpay.host.api.app import create_app

        self.server.stop()
        if settings:
            self.settings = replace(self.settings, **settings)
        self.server = ThreadServer(
            create_app(self.settings),
            port=self.server.port,
            tls=self.server.tls,
            bind=self.server.bind,
        ).start()

    def cli(self, *args: str, ok: bool = True) -> Any:
        from scanpay.cli import app as cli_app

        result = self.runner.invoke(
            cli_app, ["host", "--database-url", self.url_db, *args, "--json"]
        )
        if ok and result.exit_code != 0:
            raise AssertionError(f"scanpay host {' '.join(args)}: {result.output}")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def new_terminal(self) -> str:
        return str(self.cli("terminal", "add", "--merchant", self.merchant_id)["activation_code"])

    def wallet(
        self,
        balance: str = "500.00",
        *,
        pin_above: str | None = None,
        training: bool = False,
        pin: str = "123456",
    ) -> str:
        args = ["wallet", "open", "--name", "Alice", "--balance", balance, "--pin", pin]
        if pin_above is not None:
            args += ["--pin-above", pin_above]
        if training:
            args.append("--training")
        opened = self.cli(*args)
        self.secrets[opened["account"]] = opened["secret"]
        return str(opened["account"])

    def expired_code(self, account: str, seconds_ago: int = 120) -> str:
        """A code the customer's phone made ``seconds_ago``: the host says 54."""
        from scanpay.host.domain.wallet_codes import make_digits

        fmt = self.settings.code_format
        step = fmt.step(int(time.time()) - seconds_ago)
        return make_digits(fmt, account, bytes.fromhex(self.secrets[account]), step)

    def code(self, account: str, form: str = "digits") -> str:
        return str(self.cli("wallet", "code", account)[form])

    def balance(self, account: str) -> int:
        return int(self.cli("wallet", "balance", account)["balance"])

    def confirm(self, account: str, pin: str = "123456", login_pin: str = "123456") -> Any:
        """The customer's wallet page: logged in with the PIN, then the confirmation."""
        with self.phone(account, login_pin) as confirm:
            return confirm(pin)

    @contextmanager
    def phone(self, account: str, pin: str = "123456") -> Iterator[Callable[[str], Any]]:
        """A wallet page session of ``account``: confirms with the PIN it is given (one
        login for several tries, as a customer's phone does)."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            login = http.post("/wallet/v1/session", json={"account": account, "pin": pin})
            assert login.status_code == 200, login.text
            csrf = {"X-Wallet-CSRF": login.json()["csrf"]}

            def confirm(typed: str) -> Any:
                body = {"account": account, "pin": typed}
                return http.post("/wallet/v1/confirm", json=body, headers=csrf)

            yield confirm

    def ledger_check(self) -> Any:
        from scanpay.cli import app as cli_app

        result = self.runner.invoke(
            cli_app, ["host", "--database-url", self.url_db, "ledger", "check", "--json"]
        )
        assert result.exit_code == 0, f"ledger check failed: {result.output}"
        return json.loads(result.stdout)


@dataclass
class AgentHandle:
    """A terminal agent in this process, its API served on a loopback port."""

    directory: Path
    agent: Any
    server: ThreadServer
    http: httpx.Client
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def login(self, operator_id: str = "c01", pin: str = "1234") -> str:
        r = self.http.post("/api/session", json={"operator_id": operator_id, "pin": pin})
        assert r.status_code == 200, r.text
        token = str(r.json()["token"])
        self.tokens[operator_id] = token
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.http.cookies.clear()
        return token

    def as_(self, operator_id: str) -> None:
        self.http.headers["Authorization"] = f"Bearer {self.tokens[operator_id]}"

    def sale(self, amount: int | None = 1234, **extra: Any) -> dict[str, Any]:
        body = {"amount": amount, **extra} if amount is not None else extra
        r = self.http.post("/api/sales", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def scan(self, no: str, text: str) -> httpx.Response:
        return self.http.post(f"/api/sales/{no}/scan", json={"text": text})

    def confirm(self, no: str, wait: float = 0) -> dict[str, Any]:
        r = self.http.post(f"/api/sales/{no}/confirm", params={"wait": wait})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def get(self, no: str) -> dict[str, Any]:
        r = self.http.get(f"/api/sales/{no}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_state(self, no: str, *states: str, timeout: float = 15.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        view = self.get(no)
        while view["state"] not in states:
            if time.monotonic() > end:
                raise AssertionError(f"{no} stayed {view['state']}, wanted {states}")
            view = dict(
                self.http.get(
                    f"/api/sales/{no}", params={"wait": 1, "version": view["version"]}
                ).json()
            )
        return view

    def stop(self) -> None:
        self.http.close()
        self.server.stop()
        self.agent.close()


def activate(
    host: Host,
    directory: Path,
    *,
    url: str | None = None,
    ca_file: Path | None = None,
    pin_sha256: str | None = None,
    **settings: Any,
) -> None:
    from scanpay.terminal.agent import activate_terminal

    printer = {
        "kind": "file",
        "path": str(directory.parent / f"{directory.name}-printer.bin"),
        "encoding": "gb18030",
        "width": 58,
        "language": "en",
    }
    activate_terminal(
        url or host.url,
        host.new_terminal(),
        directory=directory,
        settings={**FAST, "printer": printer, **settings},
        ca_file=ca_file,
        pin_sha256=pin_sha256,
    )


def add_operators(directory: Path) -> None:
    from scanpay.terminal.journal import JOURNAL_FILE, Journal
    from scanpay.terminal.operators import Operators

    journal = Journal(directory / JOURNAL_FILE)
    ops = Operators(journal)
    ops.add("c01", "Ann", "cashier", "1234")
    ops.add("s01", "Sam", "supervisor", "987654")
    journal.close()


def start_agent(directory: Path) -> AgentHandle:
    from scanpay.terminal.agent import Agent
    from scanpay.terminal.api import create_app

    agent = Agent(directory)
    server = ThreadServer(create_app(agent)).start()
    http = httpx.Client(base_url=server.url, timeout=30, trust_env=False)
    return AgentHandle(directory, agent, server, http)


# --------------------------------------------------------------- subprocess


@dataclass
class AgentProcess:
    """``scanpay terminal serve`` in its own process (so it can be SIGKILLed)."""

    directory: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, failpoints: str = "") -> AgentProcess:
        env = {**self.env, "SCANPAY_TERMINAL_FAILPOINTS": failpoints}
        self.proc = subprocess.Popen(
            # The agent alone (what `scanpay terminal serve` runs), started quickly.
            [
                sys.executable,
                "-m",
                "scanpay.terminal",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"agent exited {self.proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("agent did not come up")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def wait_dead(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers, trust_env=False)


def process_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


@contextmanager
def agent_process(directory: Path) -> Iterator[AgentProcess]:
    proc = AgentProcess(directory, free_port(), process_env())
    try:
        yield proc
    finally:
        proc.kill()
