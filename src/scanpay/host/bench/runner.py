"""``scanpay bench host``: approved payments per second of the real host, and latency.

One run:

1. a fresh database (a SQLite file in a scratch directory, or a new
   PostgreSQL database, dropped afterwards) filled by :mod:`.world`;
2. the disk's flush rate in the database's directory (:mod:`.machine`);
3. the real host, ``scanpay host serve --workers W``, as a subprocess;
4. the load (:mod:`.load`) from separate processes, T terminals at once,
   signed payments over loopback, for a warm-up and then the measured window;
5. the host stopped, then the proofs: the ledger balances, the audit chain
   verifies, and the host holds exactly as many approved payments as the
   terminals were told (every request counted, the warm-up's too).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from scanpay import __version__
from scanpay.host.bench.load import LoadResult, LoadSlice, run_load
from scanpay.host.bench.machine import (
    FlushRate,
    MachineInfo,
    cpu_busy_fraction,
    cpu_ticks,
    cpu_used,
    machine_info,
    measure_flush_rate,
    pg_test_fsync,
    process_cpu_seconds,
    process_tree,
)
from scanpay.host.bench.world import DEFAULT_PG_ADMIN, BenchWorld, bench_database, build_world
from scanpay.host.db.models import Payment
from scanpay.host.services import audit, ledger
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings

__all__ = ["HostBenchConfig", "HostBenchReport", "Progress", "run_host_bench"]

#: Called with (phase, done, total, detail) as the run goes.
Progress = Callable[[str, float, float, str], None]

#: The highest rate the automatic wallet count is sized for (payments per second).
_SIZED_FOR_RATE = 2000
_VELOCITY_LIMIT = 1_000_000
_WALLET_BALANCE = 10_000_00  # 10 000.00 CNY each; bench amounts are 0.01-2.00


@dataclass(frozen=True, slots=True)
class HostBenchConfig:
    """What to measure. ``merchants`` and ``wallets`` of ``None`` are chosen from the rest."""

    db: str = "sqlite"
    terminals: int = 32
    seconds: float = 10.0
    workers: int = 1
    warmup: float = 5.0
    load_processes: int = 1
    merchants: int | None = None
    wallets: int | None = None
    pg_admin: str = DEFAULT_PG_ADMIN
    log_level: str = "info"
    fsync_seconds: float = 2.0
    run_pg_test_fsync: bool = True
    keep: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.db not in ("sqlite", "postgresql"):
            raise ValueError("db is sqlite or postgresql")
        if self.terminals < 1 or self.workers < 1 or self.load_processes < 1:
            raise ValueError("terminals, workers and load processes are at least 1")
        if self.seconds <= 0 or self.warmup < 0:
            raise ValueError("seconds > 0 and warmup >= 0")

    @property
    def merchant_count(self) -> int:
        """Four tills per shop by default (a supermarket), at least one shop."""
        return self.merchants or max(1, self.terminals // 4)

    @property
    def wallet_count(self) -> int:
        """Enough wallets for ``_SIZED_FOR_RATE`` payments/s over the run.

        A wallet gives one code per 5-second step (plus the step before, once):
        over D seconds about 2 + D/5 codes.
        """
        if self.wallets:
            return self.wallets
        duration = self.warmup + self.seconds
        needed = _SIZED_FOR_RATE * duration / (2 + duration / 5)
        return int(min(10_000, max(500, math.ceil(needed))))

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "terminals": self.terminals,
            "seconds": self.seconds,
            "workers": self.workers,
            "warmup": self.warmup,
            "load_processes": self.load_processes,
            "merchants": self.merchant_count,
            "wallets": self.wallet_count,
            "log_level": self.log_level,
            "seed": self.seed,
        }


@dataclass
class HostBenchReport:
    """The figures of one run, and the proofs that nothing went wrong."""

    config: HostBenchConfig
    machine: MachineInfo
    flush: FlushRate
    pg_fsync: dict[str, float] | None
    window_seconds: float
    approved: int
    requests: int
    latency_ms: dict[str, float]
    errors: dict[str, int]
    run_errors: dict[str, int]
    code_waits: int
    cpu: dict[str, float | None]
    checks: dict[str, Any]
    load: list[dict[str, Any]] = field(default_factory=list)
    host_log: str | None = None

    @property
    def approved_per_s(self) -> float:
        return self.approved / self.window_seconds if self.window_seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """No error in the whole run, something approved, and every proof holds."""
        return (
            not self.run_errors
            and self.approved > 0
            and all(bool(self.checks.get(k)) for k in ("ledger_ok", "audit_ok", "consistent"))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "config": self.config.to_dict(),
            "approved_per_s": round(self.approved_per_s, 1),
            "approved": self.approved,
            "requests": self.requests,
            "window_seconds": round(self.window_seconds, 3),
            "latency_ms": {k: round(v, 2) for k, v in self.latency_ms.items()},
            "errors": self.errors,
            "run_errors": self.run_errors,
            "code_waits": self.code_waits,
            "fsync": self.flush.to_dict(),
            "pg_test_fsync": self.pg_fsync,
            "cpu": {k: (round(v, 3) if v is not None else None) for k, v in self.cpu.items()},
            "checks": self.checks,
            "machine": self.machine.to_dict(),
            "load_processes": self.load,
            "scanpay": __version__,
            "host_log": self.host_log,
        }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_host(
    url: str, master_key: str, workdir: Path, config: HostBenchConfig, log_path: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {
        **os.environ,
        "SCANPAY_DATABASE_URL": url,
        "SCANPAY_MASTER_KEY": master_key,
        "SCANPAY_DATA_DIR": str(workdir),
    }
    command = [
        sys.executable,
        "-c",
        "from scanpay.cli import main; main()",
        "host",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(config.workers),
        "--log-level",
        config.log_level,
    ]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
    return proc, port


def _wait_ready(
    proc: subprocess.Popen[bytes], port: int, workers: int, log_path: Path, info_logs: bool
) -> None:
    """Until ``/readyz`` answers and (with info logs) every worker said it started, so
    the terminals' connections spread over all the workers."""
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the host exited ({proc.returncode}): {tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the host did not become ready in 300 s")
        time.sleep(0.1)
    while info_logs:
        started = log_path.read_text(errors="replace").count("Application startup complete")
        if started >= workers or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not info_logs:
        time.sleep(1.0 if workers > 1 else 0.0)


def _stop_host(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def _load_main(job: LoadSlice, counters: MutableSequence[int], queue: Any, go: Any) -> None:
    """A load process: say it is ready (imported), wait for the start the parent sets
    once every load process is ready, run the slice, send the result back."""
    counters[0] = -1  # ready: the parent counts these before it starts the clock
    while go.value == 0:
        time.sleep(0.01)
    start = float(go.value)
    shift = start - job.measure_from
    queue.put(
        run_load(
            replace(job, measure_from=start, stop_at=job.stop_at + shift),
            counters,
        )
    )


def _slices(
    world: BenchWorld, config: HostBenchConfig, port: int, prefix: str, start: float
) -> list[LoadSlice]:
    count = min(config.load_processes, len(world.terminals))
    measure_from = start + config.warmup
    stop_at = measure_from + config.seconds
    return [
        LoadSlice(
            index=i,
            host="127.0.0.1",
            port=port,
            terminals=world.terminals[i::count],
            wallets=world.wallets[i::count],
            wallet_prefix=prefix,
            measure_from=measure_from,
            stop_at=stop_at,
            seed=config.seed * 1000 + i,
        )
        for i in range(count)
    ]


def _checks(ctx: HostContext, client_approved: int, run_errors: dict[str, int]) -> dict[str, Any]:
    report = ledger.check(ctx)
    chain = audit.verify(ctx)
    with ctx.db.read() as session:
        stored = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == "SUCCESS")
        )
    # An answer lost to a timeout or a dropped connection may still have been approved.
    lost = sum(v for k, v in run_errors.items() if k == "timeout" or k.startswith("transport_"))
    db_approved = int(stored or 0)
    consistent = db_approved == client_approved if not lost else db_approved >= client_approved
    return {
        "ledger_ok": report.ok,
        "ledger_problems": [p.rule for p in report.problems][:5],
        "audit_ok": chain.ok,
        "audit_records": chain.checked,
        "db_approved": db_approved,
        "client_approved": client_approved,
        "consistent": consistent,
    }


def run_host_bench(
    config: HostBenchConfig, progress: Progress | None = None, workdir: Path | None = None
) -> HostBenchReport:
    """Run one measurement (see the module docstring)."""
    tell: Progress = progress or (lambda _p, _d, _t, _x: None)
    with tempfile.TemporaryDirectory(prefix="scanpay-bench-") as scratch:
        folder = workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        with bench_database(config.db, folder, pg_admin=config.pg_admin, keep=config.keep) as url:
            return _run(config, url, folder, tell)


def _pg_data_directory(ctx: HostContext) -> Path | None:
    from sqlalchemy import text

    with ctx.db.read() as session:
        path = session.execute(text("SHOW data_directory")).scalar()
    folder = Path(str(path)) if path else None
    return folder if folder is not None and os.access(folder, os.W_OK) else None


def _run(config: HostBenchConfig, url: str, folder: Path, tell: Progress) -> HostBenchReport:
    master_key = secrets.token_hex(32)
    settings = HostSettings(database_url=url, master_key=master_key, data_dir=str(folder))
    ctx = HostContext.open(settings)
    try:
        world = build_world(
            ctx,
            merchants_count=config.merchant_count,
            terminals_count=config.terminals,
            wallets_count=config.wallet_count,
            wallet_balance=_WALLET_BALANCE,
            velocity_limit=_VELOCITY_LIMIT,
            progress=lambda what, done, total: tell("setup", done, total, what),
        )
        # The flush rate where the database writes its log.
        flush_dir = folder
        if config.db == "postgresql":
            flush_dir = _pg_data_directory(ctx) or folder
        tell("fsync", 0, 1, str(flush_dir))
        flush = measure_flush_rate(flush_dir, config.fsync_seconds)
        pg_fsync = (
            pg_test_fsync(flush_dir)
            if config.db == "postgresql" and config.run_pg_test_fsync
            else None
        )
        tell("fsync", 1, 1, f"{flush.fsyncs_per_s:.0f}/s")
        machine = machine_info(flush_dir)

        log_path = folder / "host.log"
        tell("host", 0, 1, f"starting {config.workers} worker(s)")
        proc, port = _start_host(url, master_key, folder, config, log_path)
        try:
            _wait_ready(proc, port, config.workers, log_path, config.log_level in ("debug", "info"))
            tell("host", 1, 1, f"ready on port {port}")
            db_ctx = ctx if config.db == "postgresql" else None
            results, cpu = _drive(
                config, world, port, settings.wallet_prefix, db_ctx, proc.pid, tell
            )
        finally:
            exit_code = _stop_host(proc)

        window: Counter[str] = Counter()
        total: Counter[str] = Counter()
        latencies: list[float] = []
        for result in results:
            window.update(result.window_outcomes)
            total.update(result.total_outcomes)
            latencies.extend(result.latencies_ms)
            if result.failure:
                total[f"load_failure: {result.failure}"] += 1
        approved = window.pop("approved", 0)
        client_approved = total.pop("approved", 0)
        tell("checks", 0, 1, "ledger, audit chain, approvals")
        checks = _checks(ctx, client_approved, dict(total))
        checks["host_exit"] = exit_code
        tell("checks", 1, 1, "done")
        host_cpu, db_cpu, load_cpu = cpu["host_cpu_s"], cpu["db_cpu_s"], cpu["load_cpu_s"]

        def per(seconds: float | None) -> float | None:
            return seconds / approved * 1000 if seconds is not None and approved else None

        cpu.update(
            host_ms_per_payment=per(host_cpu),
            db_ms_per_payment=per(db_cpu),
            load_ms_per_payment=per(load_cpu),
        )
        return HostBenchReport(
            config=config,
            machine=machine,
            flush=flush,
            pg_fsync=pg_fsync,
            window_seconds=config.seconds,
            approved=approved,
            requests=len(latencies),
            latency_ms=_percentiles(latencies),
            errors=dict(window),
            run_errors=dict(total),
            code_waits=sum(r.code_waits for r in results),
            cpu=cpu,
            checks=checks,
            load=[r.to_dict() for r in results],
            host_log=str(log_path) if config.keep else None,
        )
    finally:
        ctx.close()


def _db_pids(ctx: HostContext) -> list[int]:
    """PostgreSQL's processes working for the bench: the backends on its database (not
    the server's WAL writer and checkpointer, which work for every database at once)."""
    from sqlalchemy import text

    with ctx.db.read() as session:
        rows = session.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    return [int(pid) for (pid,) in rows]


def _drive(
    config: HostBenchConfig,
    world: BenchWorld,
    port: int,
    prefix: str,
    ctx: HostContext | None,
    host_pid: int,
    tell: Progress,
) -> tuple[list[LoadResult], dict[str, float | None]]:
    """Start the load processes, follow them, collect their results and the CPU used
    (``ctx``: the PostgreSQL database, whose server processes are counted too)."""
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    go = spawn.RawValue("d", 0.0)
    jobs = _slices(world, config, port, prefix, 0.0)
    counters = [spawn.RawArray("q", 2) for _ in jobs]
    procs = [
        spawn.Process(target=_load_main, args=(job, counters[i], queue, go), daemon=True)
        for i, job in enumerate(jobs)
    ]
    spawned = time.time()
    for p in procs:
        p.start()
    # The clock starts once every load process has imported and said so: on a busy
    # machine a spawned interpreter may take seconds to get there, and a fixed grace
    # would measure (or miss) its start-up instead of the host.
    deadline = time.monotonic() + 300
    while not all(c[0] == -1 for c in counters):
        if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
            raise RuntimeError("a load process did not start")
        tell("warmup", time.time() - spawned, time.time() - spawned + 1, "starting load")
        time.sleep(0.05)
    start = time.time() + 0.2
    for c in counters:
        c[0] = 0
    measure_from, stop_at = start + config.warmup, start + config.warmup + config.seconds
    go.value = measure_from
    host_pids: list[int] = []
    db_pids: list[int] = []
    marks: dict[str, Any] = {}
    results: list[LoadResult] = []

    def reading() -> tuple[Any, ...]:
        loaders = [p.pid for p in procs if p.pid is not None]
        return (
            cpu_ticks(),
            process_cpu_seconds(host_pids),
            process_cpu_seconds(db_pids),
            process_cpu_seconds(loaders),
        )

    while len(results) < len(jobs):
        now = time.time()
        if "from" not in marks and now >= measure_from:
            host_pids = process_tree(host_pid)
            db_pids = _db_pids(ctx) if ctx is not None else []
            marks["from"] = reading()
        if "to" not in marks and now >= stop_at and "from" in marks:
            marks["to"] = reading()
        done = sum(c[0] for c in counters)
        approved = sum(c[1] for c in counters)
        if now < measure_from:
            tell("warmup", now - start, measure_from - start, f"{approved} ok")
        else:
            elapsed = min(now, stop_at) - measure_from
            tell("load", elapsed, config.seconds, f"{approved} approved, {done} answers")
        try:
            results.append(queue.get(timeout=0.2))
        except Exception:  # queue.Empty: nothing yet
            if now > stop_at + 120 and not any(p.is_alive() for p in procs):
                raise RuntimeError("a load process died without a result") from None
    if "to" not in marks and "from" in marks:  # the last result came in with the end
        marks["to"] = reading()
    for p in procs:
        p.join(timeout=10)
    cpu: dict[str, float | None] = {
        "machine_busy": None,
        "host_cpu_s": None,
        "db_cpu_s": None,
        "load_cpu_s": None,
        "other_cpu_s": None,
    }
    if "from" in marks and "to" in marks:
        (t0, h0, d0, l0), (t1, h1, d1, l1) = marks["from"], marks["to"]
        cpu["machine_busy"] = cpu_busy_fraction(t0, t1)
        host, db, load = cpu_used(h0, h1), cpu_used(d0, d1), cpu_used(l0, l1)
        cpu["host_cpu_s"] = host
        cpu["db_cpu_s"] = db if db_pids else None
        cpu["load_cpu_s"] = load
        # CPU used by anything else on the machine meanwhile (other jobs skew the figures).
        busy = cpu["machine_busy"]
        if busy is not None:
            cores = len(os.sched_getaffinity(0))
            own = host + db + load
            cpu["other_cpu_s"] = max(0.0, busy * cores * config.seconds - own)
    return sorted(results, key=lambda r: r.index), cpu
