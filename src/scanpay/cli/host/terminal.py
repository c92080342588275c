"""``scanpay host terminal``: add terminals and rotate their keys."""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import JsonOption, actor, each, emit, local_time, run
from scanpay.host.services import terminals

__all__ = ["app"]

app = typer.Typer(help="Add terminals and rotate their keys.")


@app.command("add")
def terminal_add(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    as_json: bool = JsonOption,
) -> None:
    """Add a terminal; prints its id and one-time activation code."""
    issued = run(as_json, lambda ctx: terminals.add_terminal(ctx, merchant, actor=actor()))
    emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  activation code {issued.activation_code}"
            f"  (one use, expires {local_time(issued.expires_at, '%Y-%m-%d %H:%M')})"
        ),
    )


@app.command("rotate-key")
def terminal_rotate(
    terminal_id: str,
    grace: int | None = typer.Option(
        None, "--grace", help="Seconds the old key keeps working (default SCANPAY_KEY_GRACE)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Rotate a terminal's key: a one-time code the terminal activates with again."""
    issued = run(as_json, lambda ctx: terminals.rotate_key(ctx, terminal_id, grace, actor=actor()))
    emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  rotation code {issued.activation_code}"
            f"  (activate with it to get the new key)"
        ),
    )


@app.command("list")
def terminal_list(
    merchant: str | None = typer.Option(None, "--merchant"), as_json: bool = JsonOption
) -> None:
    """Terminals, with their status, software version and usable keys."""
    items = run(as_json, lambda ctx: terminals.list_terminals(ctx, merchant))
    emit(
        as_json,
        [t.to_dict() for t in items],
        lambda: each(
            items,
            lambda t: typer.echo(
                f"{t.terminal_id}  {t.merchant_id}  {t.status:<8}  "
                f"version {t.software_version or '-'}  keys {t.keys}"
            ),
        ),
    )
