"""Running ``scanpay chaos`` from a test, and what every short round must show."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console
from typer.testing import CliRunner

from scanpay.chaos.config import NETWORKS
from scanpay.chaos.faults import FAULT_KINDS
from scanpay.chaos.network import NETWORK_FAULT_KINDS
from scanpay.cli import app
from scanpay.cli.chaos import render

#: The CI round: 300 sales at 20 % faults from 4 terminals.
SALES = 300
FAULT_RATE = "0.2"
TERMINALS = "4"

#: The CI network round: 48 sales at 20 % faults from 4 terminals, three in four paid
#: through the networks (WeChat Pay and Alipay, each at its simulator, about half each).
#: Its seeds are ones whose WeChat Pay fault draws hold every kind within each host
#: proxy's first 25 requests (the round makes about forty there) and whose host kill
#: aimed at a network call falls early (by sale 8, before the monkey can fall behind),
#: so every kind is injected however threads run.
NETWORK_SALES = 48
NETWORK_SHARE = "0.75"
NETWORK_SEEDS = {"sqlite": 34, "postgresql": 33}


def run_chaos_cli(*args: str) -> tuple[int, dict[str, Any], str]:
    """``scanpay chaos ... --json`` in this process: (exit code, report, stderr)."""
    result = CliRunner().invoke(app, ["chaos", *args, "--json"])
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, report, result.stderr


def text_report(report: dict[str, Any], language: str) -> str:
    """What ``scanpay chaos`` without ``--json`` prints of ``report``, in ``language``."""
    out = StringIO()
    render(report, Console(file=out, width=300, color_system=None), language)
    return out.getvalue()


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


def network_round_args(db: str, directory: Path) -> list[str]:
    return [
        "--sales",
        str(NETWORK_SALES),
        "--fault-rate",
        FAULT_RATE,
        "--db",
        db,
        "--seed",
        str(NETWORK_SEEDS[db]),
        "--terminals",
        TERMINALS,
        "--network-share",
        NETWORK_SHARE,
        "--dir",
        str(directory),
    ]


def check_network_round(code: int, report: dict[str, Any], stderr: str) -> None:
    """Every invariant holds, the networks' among them and each with something to judge;
    every kind of fault between hosts and networks happened, a host died in a network
    call; each network approved some sales, refunded some back through it, and its days
    reconciled; some network refused a sale."""
    assert code == 0, f"exit {code}; {stderr[-2000:]}; {summary(report)}"
    assert report["ok"] is True
    assert report["sales_driven"] == NETWORK_SALES
    names = {i["name"] for i in report["invariants"]}
    assert {
        "network_charged_once",
        "network_unpaid_moved_nothing",
        "network_nothing_pending",
        "network_agrees",
        "network_refunds_once",
        "network_books_balance",
        "network_day_reconciles",
    } <= names
    assert all(i["ok"] and i["checked"] > 0 for i in report["invariants"]), summary(report)
    missing = sorted(k for k in NETWORK_FAULT_KINDS if report["faults"].get(k, 0) <= 0)
    assert not missing, f"network faults never injected: {missing} ({report['faults']})"
    networks = report["networks"]
    assert list(networks) == list(NETWORKS)
    assert 0.5 * NETWORK_SALES < sum(n["sales"] for n in networks.values()) < NETWORK_SALES
    declined = sum(n["outcomes"].get("DECLINED", 0) for n in networks.values())
    assert declined > 0, networks
    refunded = 0
    english, chinese = text_report(report, "en"), text_report(report, "zh-CN")
    for name, network in networks.items():
        assert network["sales"] > 0 and network["requests"] > 0, network
        # A paid order refunded since (part or all) is REFUND at the network.
        paid = network["orders"].get("SUCCESS", 0) + network["orders"].get("REFUND", 0)
        assert network["legs"].get("APPROVED", 0) == paid > 0, network
        assert network["statement_lines"] >= paid
        assert network["merchant_received"] > 0
        # Refunds of the network's sales went back through it, each taken there once.
        refunds = network["refunds"]
        assert refunds["at_network"] == refunds["host"].get("SUCCESS", 0), refunds
        assert "PROCESSING" not in refunds["host"], refunds
        refunded += refunds["at_network"]
        # The host's own reconciliation of the run's days matched the statement, no break.
        reconciled = network["reconciliation"]
        assert reconciled["runs"] == reconciled["done"] >= 1, reconciled
        assert reconciled["matched"] > 0 and reconciled["breaks"] == 0, reconciled
        # The text report has the same line, in the reader's language.
        figures = f"{reconciled['done']}/{reconciled['runs']}"
        assert f"{name}: the host's reconciliation: {figures} day runs done" in english
        assert f"{name}: 本机构对账：{figures} 个对账日已完成" in chinese
    assert refunded > 0, networks
    # The built-in wallet's sales still run beside the networks'.
    built_in = {k: v for k, v in report["by_code"].items() if not k.startswith(("wx_", "ali_"))}
    assert sum(sum(v.values()) for v in built_in.values()) > 0
