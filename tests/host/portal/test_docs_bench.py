"""docs/portal.md names every page, command and screenshot; ``scanpay bench portal`` runs."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from scanpay.cli import app
from support import ROOT

DOC = (ROOT / "docs" / "portal.md").read_text(encoding="utf-8")


def test_the_doc_names_the_pages_commands_and_screenshots() -> None:
    for page in (
        "Today",
        "Transactions",
        "Orders",
        "Refunds",
        "Settlements",
        "Terminals",
        "Applications",
        "Merchants",
        "Limits",
        "Audit trail",
    ):
        assert f"*{page}*" in DOC or f"**{page}**" in DOC, page
    for command in (
        "scanpay host user add",
        "scanpay host user list",
        "scanpay host user disable",
        "scanpay host fixtures",
        "scanpay bench portal",
        "/v1/terminals/self/report",
    ):
        assert command in DOC, command
    shots = re.findall(r"\(screenshots/(portal-[a-z]+-(?:en|zh)\.png)\)", DOC)
    assert len(shots) >= 5
    for name in shots:
        assert (ROOT / "docs" / "screenshots" / name).is_file(), name
    for page in (
        "apply",
        "today",
        "transactions",
        "transaction",
        "settlements",
        "terminals",
        "review",
        "merchants",
    ):
        for lang in ("en", "zh"):
            assert (ROOT / "docs" / "screenshots" / f"portal-{page}-{lang}.png").is_file()


def test_bench_portal_runs_small() -> None:
    result = CliRunner().invoke(
        app, ["bench", "portal", "--db", "sqlite", "--rows", "300", "--rounds", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 300 and report["overall"]["n"] > 10
    assert {p["name"] for p in report["pages"]} >= {"first page", "next page x20 (cursor)"}
    csv_export = next(e for e in report["exports"] if e["kind"] == "csv")
    assert csv_export["rows"] == 300 and csv_export["first_byte_ms"] > 0
