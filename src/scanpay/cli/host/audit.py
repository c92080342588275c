"""``scanpay host audit``: verify and read the append-only, hash-chained audit trail."""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import EXIT_REFUSED, JsonOption, each, emit, run
from scanpay.host.services import audit

__all__ = ["app"]

app = typer.Typer(help="The append-only, hash-chained audit trail.")


@app.command("verify")
def audit_verify(as_json: bool = JsonOption) -> None:
    """Walk the hash chain; exit 1 and name the first broken record if it does not hold."""
    report = run(as_json, audit.verify)

    def human() -> None:
        if report.ok:
            typer.echo(f"audit chain OK: {report.checked} records")
        else:
            typer.echo(
                f"audit chain BROKEN at record {report.broken_seq}: {report.problem} "
                f"({report.checked} records before it verified)"
            )

    emit(as_json, report.to_dict(), human)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


@app.command("show")
def audit_show(
    subject: str | None = typer.Option(None, "--subject", help="kind:id, e.g. payment:P1A2..."),
    merchant: str | None = typer.Option(None, "--merchant"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """The newest audit records (of one subject or merchant)."""
    where: tuple[str, str] | None = None
    if subject is not None:
        kind, _, ident = subject.partition(":")
        where = (kind, ident)
    items = run(
        as_json, lambda ctx: audit.history(ctx, subject=where, merchant=merchant, limit=limit)
    )
    emit(
        as_json,
        [i.to_dict() for i in items],
        lambda: each(
            items,
            lambda i: typer.echo(
                f"{i.seq:>8} {i.at:%Y-%m-%d %H:%M:%S} {i.actor:<24} {i.action:<22} {i.subject}"
            ),
        ),
    )
