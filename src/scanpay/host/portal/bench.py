"""``scanpay bench portal``: the transactions page and the CSV export at volume, over HTTP.

A black-box measurement: a fresh database (a SQLite file, or a PostgreSQL
database made for the run and dropped after), the real commands to fill it
(``scanpay host init``, ``scanpay host fixtures --transactions N``, ``scanpay
host user add``), the real server (``scanpay host serve``, one process), and a
logged-in browser-like session over loopback HTTP:

- the transactions page: the first page, 20 pages deep by cursor, the oldest
  end, and the filters a merchant uses (status, terminal, wallet, dates,
  amounts, trade number, sort by amount), several rounds after a warm-up;
  median, p90, p99 and max milliseconds per kind and overall;
- the CSV export of everything: time to the first byte, rows per second, size,
  and the server's resident memory (``VmRSS``, sampled every 10 ms) before and
  at its peak, which shows the export streams rather than building the file;
- the XLSX export the same way.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

__all__ = ["BenchReport", "Timing", "run_portal_bench"]

TARGET_MEDIAN_MS = 300.0
_PASSWORD = "bench-" + "x" * 12
_EMAIL = "bench-owner@example.com"


@dataclass(frozen=True, slots=True)
class Timing:
    """Latencies of one kind of request, in milliseconds."""

    name: str
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def pct(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": len(self.samples),
            "median_ms": round(self.median, 1),
            "p90_ms": round(self.pct(0.9), 1),
            "p99_ms": round(self.pct(0.99), 1),
            "max_ms": round(max(self.samples), 1),
        }


@dataclass
class ExportFigures:
    kind: str
    rows: int
    bytes: int
    first_byte_ms: float
    total_s: float
    rss_before_mb: float
    rss_peak_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.total_s if self.total_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "bytes": self.bytes,
            "first_byte_ms": round(self.first_byte_ms, 1),
            "total_s": round(self.total_s, 2),
            "rows_per_s": round(self.rows_per_s),
            "rss_before_mb": round(self.rss_before_mb, 1),
            "rss_peak_mb": round(self.rss_peak_mb, 1),
            "rss_growth_mb": round(self.rss_peak_mb - self.rss_before_mb, 1),
        }


@dataclass
class BenchReport:
    """Everything one run measured."""

    db: str
    rows: int
    fixture_s: float
    timings: list[Timing] = field(default_factory=list)
    exports: list[ExportFigures] = field(default_factory=list)
    machine: str = ""

    @property
    def overall(self) -> Timing:
        return Timing("all pages", tuple(s for t in self.timings for s in t.samples))

    @property
    def meets_target(self) -> bool:
        return self.overall.median < TARGET_MEDIAN_MS

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "rows": self.rows,
            "fixture_s": round(self.fixture_s, 1),
            "machine": self.machine,
            "target_median_ms": TARGET_MEDIAN_MS,
            "overall": self.overall.to_dict(),
            "meets_target": self.meets_target,
            "pages": [t.to_dict() for t in self.timings],
            "exports": [e.to_dict() for e in self.exports],
        }


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs {cpu}".strip()


def _scanpay(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    command = [sys.executable, "-c", "from scanpay.cli import main; main()", *args]
    done = subprocess.run(
        command, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"scanpay {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _database(db: str, pg_admin: str, keep: Path | None) -> Iterator[tuple[str, Path]]:
    """A fresh database URL and a data directory, removed afterwards (unless ``keep``)."""
    data = keep or Path(tempfile.mkdtemp(prefix="scanpay-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        try:
            yield f"sqlite:///{data / 'host.db'}", data
        finally:
            if keep is None:
                shutil.rmtree(data, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql

    name = f"scanpay_bench_{secrets.token_hex(6)}"
    admin = pg_admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}", data
    finally:
        if keep is None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            shutil.rmtree(data, ignore_errors=True)


@contextmanager
def _server(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = _free_port()
    command = [
        sys.executable, "-c", "from scanpay.cli import main; main()", "host", "serve",
        "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                assert proc.stderr is not None
                raise RuntimeError(f"the host did not start: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the host did not start in 60 s")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _PeakRss:
    """Samples a process's resident memory every 10 ms while in use."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb(self.pid))
            self._stop.wait(0.01)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _login(client: httpx.Client) -> None:
    page = client.get("/portal/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if found is None:
        raise RuntimeError("no login form")
    done = client.post(
        "/portal/login", data={"csrf": found.group(1), "email": _EMAIL, "password": _PASSWORD}
    )
    if done.status_code != 303 or "/portal/today" not in done.headers.get("location", ""):
        raise RuntimeError(f"login failed: {done.status_code}")


_NEXT = re.compile(r'id="next-page" href="([^"]+)"')
_TRADE = re.compile(r'class="trade" href="/portal/transactions/[^"]+">([^<]+)<')


def _get(client: httpx.Client, path: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200 or 'id="transactions"' not in answer.text:
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return elapsed, answer.text


def _page_kinds(client: httpx.Client, today: str, week_ago: str) -> dict[str, list[str]]:
    """The URLs of each kind (the cursor walks are discovered by following the pages)."""
    _, first = _get(client, "/portal/transactions")
    trades = _TRADE.findall(first)
    base = "/portal/transactions?"
    kinds: dict[str, list[str]] = {
        "first page": ["/portal/transactions"],
        "oldest first": [base + urlencode({"sort": "created_at", "dir": "asc"})],
        "status=REFUNDED": [base + urlencode({"status": "REFUNDED"})],
        "terminal": [base + urlencode({"terminal": "T000002"})],
        "wallet=alipay (sparse)": [base + urlencode({"wallet": "alipay"})],
        "last 7 days, 20-100": [
            base
            + urlencode({"from": week_ago, "to": today, "amount_min": "20", "amount_max": "100"})
        ],
        "by amount, largest": [base + urlencode({"sort": "amount", "dir": "desc"})],
        "trade number": [base + urlencode({"trade_no": trades[len(trades) // 2]})],
        "combined filters": [
            base
            + urlencode(
                {
                    "status": "SUCCESS",
                    "terminal": "T000003",
                    "from": week_ago,
                    "to": today,
                    "sort": "amount",
                    "dir": "asc",
                }
            )
        ],
    }
    walk: list[str] = []
    html = first
    for _ in range(20):
        found = _NEXT.search(html)
        if found is None:
            break
        path = found.group(1).replace("&amp;", "&")
        walk.append(path)
        _, html = _get(client, path)
    kinds["next page x20 (cursor)"] = walk
    deep = base + urlencode({"sort": "amount", "dir": "desc"})
    _, html = _get(client, deep)
    amount_walk = []
    for _ in range(10):
        found = _NEXT.search(html)
        if found is None:
            break
        path = found.group(1).replace("&amp;", "&")
        amount_walk.append(path)
        _, html = _get(client, path)
    kinds["by amount, next x10"] = amount_walk
    return kinds


def _export(client: httpx.Client, pid: int, path: str, kind: str) -> ExportFigures:
    before = _rss_mb(pid)
    size = rows = 0
    first = 0.0
    started = time.perf_counter()
    with _PeakRss(pid) as peak, client.stream("GET", path) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"export {path}: {answer.status_code}")
        for chunk in answer.iter_bytes():
            if not first:
                first = (time.perf_counter() - started) * 1000
            size += len(chunk)
            rows += chunk.count(b"\n")
    total = time.perf_counter() - started
    if kind == "csv":
        rows -= 1  # the header
    else:
        rows = 0
    return ExportFigures(kind, rows, size, first, total, before, max(peak.peak, before))


def run_portal_bench(
    *,
    db: str,
    rows: int = 100_000,
    rounds: int = 5,
    pg_admin: str = "postgresql://postgres@127.0.0.1:5432/postgres",
    keep: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Fill a fresh ``db`` with ``rows`` transactions, serve it, and measure (see module)."""
    say = progress or (lambda _message: None)
    if db not in ("sqlite", "postgresql"):
        raise ValueError("db is sqlite or postgresql")
    with _database(db, pg_admin, keep) as (url, data):
        env = {
            **os.environ,
            "SCANPAY_DATABASE_URL": url,
            "SCANPAY_DATA_DIR": str(data),
            "SCANPAY_LOG_LEVEL": "warning",
        }
        env.pop("SCANPAY_MASTER_KEY", None)
        say(f"database {db}: init")
        _scanpay(env, "host", "init")
        say(f"writing {rows} transactions (scanpay host fixtures)")
        started = time.perf_counter()
        made = json.loads(_scanpay(env, "host", "fixtures", "--transactions", str(rows), "--json"))
        fixture_s = time.perf_counter() - started
        merchant = made["merchant_id"]
        _scanpay(
            env, "host", "user", "add", "--merchant", merchant, "--role", "owner",
            "--email", _EMAIL, "--password-stdin", stdin=_PASSWORD + "\n",
        )  # fmt: skip
        report = BenchReport(db, int(made["payments"]), fixture_s, machine=_machine())
        with _server(env) as (base, pid), httpx.Client(base_url=base, timeout=300) as client:
            _login(client)
            now = time.localtime()
            today = time.strftime("%Y-%m-%d", now)
            week_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 6 * 86400))
            say("discovering pages")
            kinds = _page_kinds(client, today, week_ago)
            for paths in kinds.values():  # warm-up: caches, connection pool, templates
                for path in paths[:2]:
                    _get(client, path)
            samples: dict[str, list[float]] = {name: [] for name in kinds}
            for round_ in range(rounds):
                say(f"round {round_ + 1}/{rounds}")
                for name, paths in kinds.items():
                    for path in paths:
                        samples[name].append(_get(client, path)[0])
            report.timings = [Timing(name, tuple(s)) for name, s in samples.items() if s]
            say("CSV export of everything")
            report.exports.append(_export(client, pid, "/portal/transactions/export.csv", "csv"))
            say("XLSX export of everything")
            report.exports.append(_export(client, pid, "/portal/transactions/export.xlsx", "xlsx"))
        return report
