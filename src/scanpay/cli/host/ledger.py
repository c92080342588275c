"""``scanpay host ledger``: prove the double-entry ledger."""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import EXIT_REFUSED, JsonOption, emit, run
from scanpay.host.services import ledger

__all__ = ["app"]

app = typer.Typer(help="The double-entry ledger.")


@app.command("check")
def ledger_check(as_json: bool = JsonOption) -> None:
    """Prove the ledger: postings sum to zero, balances equal postings, none negative.

    Exit 0 when it holds, 1 when it does not (each broken rule is printed).
    """
    report = run(as_json, ledger.check)

    def human() -> None:
        verdict = "OK" if report.ok else "BROKEN"
        typer.echo(
            f"ledger {verdict}: {report.accounts} accounts, {report.entries} entries, "
            f"{report.postings} postings"
        )
        for p in report.problems:
            typer.echo(f"  {p.rule}: {p.subject}: {p.detail}")

    emit(as_json, report.to_dict(), human)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)
