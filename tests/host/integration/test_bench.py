"""``scanpay bench host`` in short form: it runs end to end on each database, every
answer is an approval, and the ledger, the audit chain and the count of approvals hold.

No speed is asserted (machines are noisy); the figures are in ``docs/performance.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from host.kit import postgres_available
from support import require


def _bench(db: str, workers: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-c",
        "from scanpay.cli import main; main()",
        "bench",
        "host",
        "--db",
        db,
        "--seconds",
        "3",
        "--terminals",
        "4",
        "--warmup",
        "1",
        "--workers",
        str(workers),
        "--no-pg-test-fsync",
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.stdout.strip(), done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == 0, (report, done.stderr[-3000:])
    return report


# PostgreSQL with two workers: each has a listening socket of its own (SO_REUSEPORT).
@pytest.mark.parametrize(("db", "workers"), [("sqlite", 1), ("postgresql", 2)])
def test_bench_host_short_form(db: str, workers: int) -> None:
    if db == "postgresql":
        require(
            postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)"
        )
    report = _bench(db, workers)
    assert report["ok"] is True
    assert report["run_errors"] == {}
    assert report["approved"] > 0
    checks = report["checks"]
    assert checks["ledger_ok"] and checks["ledger_problems"] == []
    assert checks["audit_ok"] and checks["audit_records"] > 0
    assert checks["consistent"] and checks["db_approved"] == checks["client_approved"] > 0
    assert report["fsync"]["fsyncs_per_s"] > 0
    assert report["config"]["db"] == db and report["config"]["workers"] == workers
    assert report["checks"]["host_exit"] in (0, -15)  # stopped by its SIGTERM
