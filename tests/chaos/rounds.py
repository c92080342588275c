"""Running ``scanpay chaos`` from a test, and what every short round must show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from scanpay.chaos.harness import FAULT_KINDS
from scanpay.cli import app

#: The CI round: 300 sales at 20 % faults from 4 terminals.
SALES = 300
FAULT_RATE = "0.2"
TERMINALS = "4"


def run_chaos_cli(*args: str) -> tuple[int, dict[str, Any], str]:
    """``scanpay chaos ... --json`` in this process: (exit code, report, stderr)."""
    result = CliRunner().invoke(app, ["chaos", *args, "--json"])
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, report, result.stderr


def summary(report: dict[str, Any]) -> str:
    """What to print when a round fails: the broken invariants and where the files are."""
    broken = [
        f"{i['name']}: {i['examples'][:5]}" for i in report.get("invariants", []) if not i["ok"]
    ]
    return (
        f"broken: {broken}; notes: {report.get('harness_notes')}; files: {report.get('directory')}"
    )


def check_round(code: int, report: dict[str, Any], stderr: str, *, db: str) -> None:
    """Every invariant holds, every kind of fault really happened, every kind of outcome too."""
    assert code == 0, f"exit {code}; {stderr[-2000:]}; {summary(report)}"
    assert report["ok"] is True
    assert report["sales_driven"] == SALES
    assert sum(report["outcomes"].values()) >= SALES
    names = {i["name"] for i in report["invariants"]}
    assert {"charged_once", "nothing_in_doubt", "settlement_agrees"} <= names
    assert all(i["ok"] and i["checked"] > 0 for i in report["invariants"]), summary(report)
    expected = set(FAULT_KINDS) - ({"postgres_restart"} if db == "sqlite" else set())
    missing = sorted(k for k in expected if report["faults"].get(k, 0) <= 0)
    assert not missing, f"faults never injected: {missing} ({report['faults']})"
    if db == "sqlite":
        assert report["faults"]["postgres_restart"] == 0
    outcomes = report["outcomes"]
    for state in ("APPROVED", "DECLINED", "CANCELLED"):
        assert outcomes.get(state, 0) > 0, f"no {state} sale: {outcomes}"
    assert outcomes.get("PARTIALLY_REFUNDED", 0) + outcomes.get("REFUNDED", 0) > 0
    assert report["refunds"].get("SUCCESS", 0) > 0
    for code_ in ("00", "14", "51", "54"):
        assert report["result_codes"].get(code_, 0) > 0, f"no {code_}: {report['result_codes']}"
    settled = report["settlement"]
    captured = sum(outcomes.get(s, 0) for s in ("APPROVED", "PARTIALLY_REFUNDED", "REFUNDED"))
    assert settled["payment_count"] >= captured > 0
    assert settled["refund_count"] == report["refunds"]["SUCCESS"]


def round_args(db: str, directory: Path, seed: int) -> list[str]:
    return [
        "--sales",
        str(SALES),
        "--fault-rate",
        FAULT_RATE,
        "--db",
        db,
        "--seed",
        str(seed),
        "--terminals",
        TERMINALS,
        "--dir",
        str(directory),
    ]
