"""What every simulator's test kit shares: the simulator served on a loopback port with
a clock the test moves, its admin (wallets, codes, balances, books) over HTTP, a
merchant's notification URL recording the forms posted to it (:func:`form_receiver`),
and its ``scanpay sim NETWORK`` command run in a process of its own."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

import httpx

from scanpay.host.clock import ManualClock
from support import ROOT, app_in_thread

__all__ = [
    "FormReceiver",
    "RunningSimBase",
    "admin_status",
    "assert_documented",
    "command_env",
    "form_receiver",
    "path_shape",
    "routes_of",
    "serving",
    "serving_command",
    "sim_command",
]

S = TypeVar("S")


@dataclass
class RunningSimBase(Generic[S]):
    """A served simulator: its URL, clock, state (read directly by tests), folder, and an
    HTTP client for its admin."""

    url: str
    clock: ManualClock
    store: S
    folder: Path
    http: httpx.Client = field(repr=False)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.url + path, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def wallet(self, balance: int, **body: Any) -> dict[str, Any]:
        made: dict[str, Any] = self.admin("POST", "/sim/wallets", json={"balance": balance, **body})
        return made

    def code(
        self,
        wallet_id: int,
        outcome: str | None = None,
        seconds: float | None = None,
        **body: Any,
    ) -> str:
        if outcome:
            body["outcome"] = outcome
        if seconds is not None:
            body["seconds"] = seconds
        return str(self.admin("POST", f"/sim/wallets/{wallet_id}/codes", json=body)["auth_code"])

    def balance(self, wallet_id: int) -> int:
        return int(self.admin("GET", f"/sim/wallets/{wallet_id}")["balance"])

    def books_balance(self) -> None:
        accounts = self.admin("GET", "/sim/accounts")
        assert accounts["balanced"], accounts


@contextmanager
def serving(app: Any, name: str) -> Iterator[tuple[str, httpx.Client]]:
    """``app`` on a free loopback port (``name`` in errors): its URL and an admin client."""
    with app_in_thread(app, name) as url, httpx.Client(timeout=60) as http:
        yield url, http


@dataclass
class FormReceiver:
    """A merchant's notification URL: the forms it received, and the replies (HTTP
    status, body) it answers with in turn (the last repeats)."""

    url: str
    replies: list[tuple[int, str]]
    received: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forms(self) -> list[dict[str, str]]:
        with self.lock:
            return list(self.received)


@contextmanager
def form_receiver(
    replies: list[tuple[int, str]], path: str, content_type: str | None = None
) -> Iterator[FormReceiver]:
    """A loopback HTTP server at ``path`` recording form posts and answering ``replies``
    in turn (with ``content_type`` if given)."""
    state = FormReceiver("", list(replies))
    headers = [(b"content-type", content_type.encode())] if content_type else []

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        with state.lock:
            state.received.append(dict(parse_qsl(body.decode(), keep_blank_values=True)))
            status, text = state.replies.pop(0) if len(state.replies) > 1 else state.replies[0]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})

    with app_in_thread(asgi, "the receiver") as url:
        state.url = url + path
        yield state


_MAIN = "import sys; from scanpay.cli import main; sys.argv[0] = 'scanpay'; main()"


def command_env() -> dict[str, str]:
    """The environment ``scanpay sim ...`` runs in: this checkout, no SCANPAY_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["LANG"] = "C.UTF-8"
    return env


def sim_command(*args: str) -> list[str]:
    """The argv of ``scanpay sim ARGS...`` with this interpreter."""
    return [sys.executable, "-c", _MAIN, "sim", *args]


@contextmanager
def serving_command(network: str, data: Path, lines: int) -> Iterator[tuple[str, str]]:
    """``scanpay sim NETWORK`` in its own process on a free port: its URL and the first
    line and ``lines`` more of what it printed."""
    proc = subprocess.Popen(
        sim_command(network, "--port", "0", "--data", str(data)),
        env=command_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the socket is bound
        assert "listening on http://127.0.0.1:" in first, first + (
            proc.stderr.read() if proc.stderr else ""
        )
        url = first.split(" on ")[1].split(" ")[0]
        printed = first + "".join(proc.stdout.readline() for _ in range(lines))
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/sim/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, (
                    "the simulator did not serve"
                )
                time.sleep(0.05)
        yield url, printed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def routes_of(router: object) -> list[tuple[str, set[str]]]:
    """Every route of ``router`` (included routers followed): its path and methods."""
    found = []
    for route in getattr(router, "routes", []):
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += routes_of(inner)
        elif hasattr(route, "path"):
            found.append((route.path, set(getattr(route, "methods", None) or [])))
    return found


def path_shape(text: str) -> str:
    """``text`` with every ``{name}`` as ``{}``, so a route and its doc line compare."""
    return re.sub(r"\{[^}]*\}", "{}", text)


def assert_documented(
    app: Any,
    section: str,
    outcomes: Iterable[Enum],
    descriptions: Container[Enum],
    network_path: Callable[[str], bool],
) -> None:
    """Every route of the simulator ``app`` is in its docs ``section`` with each method
    (a ``network_path``'s methods are the protocol's, not listed), and every outcome
    in its table with a description; the app's store is closed after."""
    documented = path_shape(section)
    routes = [r for r in routes_of(app.fastapi.router) if r[1]]
    assert len(routes) > 20
    for path, methods in routes:
        shaped = path_shape(path)
        assert shaped in documented, path
        for method in methods - {"HEAD"}:
            assert network_path(path) or f"{method} {shaped}" in documented, (method, path)
    app.state.sim.store.close()
    for outcome in outcomes:
        assert f"| `{outcome.value}` |" in section, outcome
        assert outcome in descriptions


def admin_status(app: Any, client_host: str, path: str) -> int:
    """The status ``GET path`` of the simulator ``app`` answers a client at ``client_host``."""

    async def status() -> int:
        transport = httpx.ASGITransport(app=app, client=(client_host, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            return (await client.get(path)).status_code

    return asyncio.run(status())
