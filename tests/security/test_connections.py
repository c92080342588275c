"""Connections that never finish a request, and HSTS over TLS: the host as ``serve`` runs it.

uvicorn closes a keep-alive connection that idles after a response, but a
connection that never sends a whole request head (one that sends nothing at all,
or a header a byte at a time: slowloris) was held for ever: 500 idle connections
stayed open, and 300 slow-header ones were held for 20 s and more. The host is
now served (:func:`scanpay.host.serving.host_config`) with a deadline for the
request head and a cap on connections per worker, past which the connection that
has waited longest for its head makes room; ``/healthz`` and ``/readyz`` answer
throughout. Over TLS every answer, the HTTP layer's own included, carries
``Strict-Transport-Security``.

The servers here run in this process on loopback ports with timeouts the tests
set; every wait polls for the state it expects under a generous deadline.
"""

from __future__ import annotations

import resource
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from scanpay.cli import app as cli
from scanpay.host import HostSettings
from scanpay.host.api.app import create_app
from scanpay.host.serving import host_config
from support import free_socket, require

IDLE, SLOW = 300, 300
#: A request head that never ends (the header lines keep coming, a byte at a time).
SLOW_START = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
DEADLINE = 60.0  # seconds: generous for a busy machine; a pass takes a few


@pytest.fixture(scope="module", autouse=True)
def enough_files() -> Iterator[None]:
    """Both ends of 600 connections live in this process: raise the open-file limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    require(wanted >= 2 * (IDLE + SLOW) + 300, f"the open-file limit is {hard}")
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass
class Served:
    url: str
    port: int
    server: uvicorn.Server


@contextmanager
def serve(settings: HostSettings, **options: Any) -> Iterator[Served]:
    """The host app as ``scanpay host serve`` configures it, in a thread."""
    app = create_app(settings, sweep=False)
    config = host_config(app, settings, log_level="warning", lifespan="on", **options)
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the host did not start"
        time.sleep(0.01)
    scheme = "https" if options.get("ssl_certfile") else "http"
    try:
        yield Served(f"{scheme}://127.0.0.1:{port}", port, server)
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE)
        sock.close()


def _settings(database_url: str, data_dir: Path, **limits: Any) -> HostSettings:
    base = HostSettings(
        database_url=database_url, min_terminal_version="1.0.0", data_dir=str(data_dir)
    )
    return replace(base, **limits)


def _connect(port: int, first: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    if first:
        sock.sendall(first)
    sock.setblocking(False)
    return sock


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether the host closed this connection (it never answers these: no bytes come)."""
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True
    assert data == b"", data[:200]  # the host answers nothing to a head it never got
    return True


def _answers(url: str) -> None:
    with httpx.Client(timeout=DEADLINE) as client:
        for path in ("/healthz", "/readyz"):
            answer = client.get(url + path)
            assert answer.status_code == 200, (path, answer.text)


def test_idle_and_slow_header_connections_are_closed_at_the_deadline_and_healthz_answers(
    database_url: str, data_dir: Path
) -> None:
    timeout = 2.0
    settings = _settings(database_url, data_dir, header_timeout=timeout, keep_alive_timeout=1)
    with serve(settings) as host:
        opened = time.monotonic()
        idle = [_connect(host.port) for _ in range(IDLE)]
        slow = [_connect(host.port, SLOW_START) for _ in range(SLOW)]
        _answers(host.url)  # beside them, a new connection is served at once
        closed_at: dict[int, float] = {}
        trickled = 0
        while len(closed_at) < IDLE + SLOW and time.monotonic() < opened + DEADLINE:
            for index, sock in enumerate(slow):  # one more byte of the header on each
                if IDLE + index not in closed_at:
                    try:
                        sock.send(b"a")
                        trickled += 1
                    except OSError:
                        closed_at[IDLE + index] = time.monotonic()
            for index, sock in enumerate(idle + slow):
                if index not in closed_at and _closed_by_peer(sock):
                    closed_at[index] = time.monotonic()
            time.sleep(0.2)
        for sock in idle + slow:
            sock.close()
        open_ones = IDLE + SLOW - len(closed_at)
        assert open_ones == 0, f"{open_ones} connections still open after {DEADLINE} s"
        assert trickled >= SLOW  # the slow ones were sending when the host closed them
        # Never before the deadline: each was opened after `opened`.
        assert min(closed_at.values()) >= opened + timeout - 0.05
        _answers(host.url)
        assert len(host.server.server_state.connections) <= 1


def test_past_the_cap_the_connection_waiting_longest_makes_room(
    database_url: str, data_dir: Path
) -> None:
    cap = 200
    settings = _settings(database_url, data_dir, header_timeout=600.0, max_connections=cap)
    with serve(settings) as host:
        waiting = [_connect(host.port, SLOW_START if i % 2 else b"") for i in range(IDLE + SLOW)]
        _answers(host.url)  # the cap is full of connections that send nothing: served
        deadline = time.monotonic() + DEADLINE
        closed: set[int] = set()
        while len(closed) < IDLE + SLOW - cap and time.monotonic() < deadline:
            closed |= {i for i, s in enumerate(waiting) if i not in closed and _closed_by_peer(s)}
            time.sleep(0.1)
        time.sleep(0.3)  # and no more than that: the newest ones stay
        closed |= {i for i, s in enumerate(waiting) if i not in closed and _closed_by_peer(s)}
        for sock in waiting:
            sock.close()
        assert len(closed) >= IDLE + SLOW - cap, f"only {len(closed)} closed"
        assert len(closed) <= IDLE + SLOW - cap + 3, len(closed)  # + healthz/readyz's turns
        # The oldest went first (accepted in the order they connected).
        assert max(closed) < IDLE + SLOW - cap + 10, sorted(closed)[-5:]
        assert len(host.server.server_state.connections) <= cap + 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 from ``scanpay host certs``."""
    out = tmp_path_factory.mktemp("tls")
    done = CliRunner().invoke(cli, ["host", "certs", "--out", str(out), "--name", "127.0.0.1"])
    require(done.exit_code == 0, f"scanpay host certs: {done.output}")
    return str(out / "host.crt"), str(out / "host.key")


def _raw_tls(port: int, certfile: str, request: bytes) -> bytes:
    context = ssl.create_default_context(cafile=certfile)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_every_answer_over_tls_carries_hsts_and_plain_http_none(
    database_url: str, data_dir: Path, certificate: tuple[str, str]
) -> None:
    certfile, keyfile = certificate
    settings = _settings(database_url, data_dir)
    with serve(settings, ssl_certfile=certfile, ssl_keyfile=keyfile) as host:
        trust = ssl.create_default_context(cafile=certfile)
        with httpx.Client(base_url=host.url, timeout=DEADLINE, verify=trust) as client:
            answers = {
                "healthz": client.get("/healthz"),
                "missing": client.get("/no/such/thing"),
                "unsigned": client.get("/v1/transactions"),
                "portal": client.get("/portal/login"),
                "wallet": client.post("/wallet/v1/preview", content=b"{"),
            }
        assert [a.status_code for a in answers.values()] == [200, 404, 401, 200, 400]
        for name, answer in answers.items():
            hsts = answer.headers.get("strict-transport-security", "")
            assert hsts.startswith("max-age=") and int(hsts[8:].split(";")[0]) >= 31_536_000, (
                name,
                hsts,
            )
        # The HTTP layer's own refusal of a request it cannot parse, before any app code.
        raw = _raw_tls(host.port, certfile, b"NOT HTTP AT ALL\r\n\r\n")
        head = raw.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 400") and b"strict-transport-security: max-age=" in head
    with serve(settings) as plain:
        answer = httpx.get(plain.url + "/healthz", timeout=DEADLINE)
        assert answer.status_code == 200
        assert "strict-transport-security" not in answer.headers
