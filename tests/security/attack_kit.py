"""Helpers of the security suite: what an attack must not change, raw HTTP that no client
library tidies up, and the host's routes as the app declares them.

An attack here "fails" twice: the answer refuses it, and :func:`snapshot` of the
database is the same afterwards (money, records, keys, limits, audit trail), with
the ledger still balancing.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from host.kit import RunningHost
from scanpay.host.db.models import Base
from scanpay.host.services import audit, ledger, operations
from support import ROOT

__all__ = [
    "ROOT",
    "RawAnswer",
    "app_routes",
    "assert_unchanged",
    "raw_request",
    "snapshot",
]

#: Tables that record attempts by design (seen nonces, failed codes and logins, sessions,
#: self-test reports): a refused attack may add to them, so they are not "state".
ATTEMPT_TABLES = frozenset(
    {
        "nonces",
        "code_failures",
        "portal_login_attempts",
        "wallet_login_throttles",
        "portal_sessions",
        "terminal_selftests",
        "alembic_version",
    }
)
#: Columns every authenticated request touches (the terminal was seen).
TOUCHED_COLUMNS = frozenset({("terminals", "last_seen_at"), ("terminals", "software_version")})


def snapshot(host: RunningHost) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every stateful table, sorted: money, records, keys, limits, audit.

    Due expiries are swept first so the background sweeper cannot change the
    state between two snapshots of one test.
    """
    operations.sweep(host.ctx)
    state: dict[str, list[tuple[Any, ...]]] = {}
    with host.ctx.db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in ATTEMPT_TABLES:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in TOUCHED_COLUMNS]
            rows = session.execute(select(*columns)).all()
            state[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return state


def assert_unchanged(host: RunningHost, before: dict[str, list[tuple[Any, ...]]]) -> None:
    """The database is as it was, the ledger balances and the audit chain verifies."""
    after = snapshot(host)
    changed = {
        name: (len(before.get(name, [])), len(rows))
        for name, rows in after.items()
        if rows != before.get(name)
    }
    assert not changed, f"an attack changed tables (rows before, after): {changed}"
    report = ledger.check(host.ctx)
    assert report.ok, report.to_dict()
    chain = audit.verify(host.ctx)
    assert chain.ok, chain.to_dict()


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def raw_request(
    base_url: str,
    target: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    extra_header_lines: list[str] | None = None,
    content_length: bool = True,
    timeout: float = 30,
) -> RawAnswer:
    """One HTTP/1.1 request with ``target`` sent byte for byte (httpx would resolve
    ``..`` and re-encode; an attacker's client does not), answer read to the end.
    ``content_length=False`` leaves the length out (a chunked body brings its own)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines.extend(extra_header_lines or [])
    if content_length and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        # The server may answer and close before it has read all of an oversized request.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return _parse(b"".join(chunks))


def _parse(raw: bytes) -> RawAnswer:
    if not raw:
        return RawAnswer(0, {}, b"")  # the server closed the connection without an answer
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return RawAnswer(int(status_line.split()[1]), headers, body)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


def app_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route of an app, included routers' routes too."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in contexts() if callable(contexts) else [route]:
            for method in getattr(item, "methods", None) or ():
                if method != "HEAD":
                    yield method, getattr(item, "path", "")
