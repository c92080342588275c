"""``scanpay host sweep``, ``backup`` and ``restore``: keeping a running host's database.
(:mod:`scanpay.cli.host` registers the commands.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from scanpay.cli.host._shared import EXIT_REFUSED, JsonOption, emit, run, usage
from scanpay.cli.host.reconcile import RUN_LINE, STATUS
from scanpay.cli.language import cli_language
from scanpay.host.services import operations, reconcile_schedule
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconciliation_records import RunInfo
from scanpay.i18n import Text

__all__ = ["backup_command", "restore_command", "sweep_command"]

NONE_DUE = Text("没有到期的对账", "no reconciliation due")
SCHEDULE_OFF = Text(
    "定时对账已关闭（SCANPAY_RECONCILE_AT=off）",
    "scheduled reconciliation is off (SCANPAY_RECONCILE_AT=off)",
)


def sweep_command(
    reconcile: bool = typer.Option(
        False,
        "--reconcile",
        help="Also reconcile each network's days that are due (SCANPAY_RECONCILE_AT).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Expire orders past their time and payments past their PIN deadline now; with
    --reconcile, also reconcile each network's statements that are due.

    serve does this in each process: the expiry every SCANPAY_SWEEP_INTERVAL seconds,
    the due reconciliations about once a minute (one process at a time per network).
    JSON: the counts, and with --reconcile "reconciled": the runs made.
    """

    def chores(ctx: HostContext) -> tuple[dict[str, int], list[RunInfo] | None, bool]:
        done = operations.sweep(ctx)
        if not reconcile:
            return done, None, False
        off = reconcile_schedule.schedule_of(ctx.settings) is None
        return done, reconcile_schedule.reconcile_due(ctx), off

    done, runs, off = run(as_json, chores)
    data: dict[str, Any] = dict(done)
    if runs is not None:
        data["reconciled"] = [r.to_dict() for r in runs]

    def human() -> None:
        typer.echo(f"expired {done['orders']} orders, {done['payments']} payments")
        if runs is not None:
            _show_reconciled(runs, off)

    emit(as_json, data, human)


def _show_reconciled(runs: list[RunInfo], off: bool) -> None:
    language = cli_language()
    if off or not runs:
        typer.echo((SCHEDULE_OFF if off else NONE_DUE).get(language))
    for item in runs:  # without the breaks: `scanpay host reconcile breaks` lists them
        line = RUN_LINE.format(
            day=item.day.isoformat(),
            network=item.network,
            channel=item.channel_key,
            status=STATUS[item.status].get(language),
            matched=item.matched,
            open=item.open_breaks,
            resolved=item.resolved_breaks,
        )
        typer.echo(line.get(language))


def backup_command(
    file: Path,
    force: bool = typer.Option(False, "--force", help="Overwrite FILE."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="PostgreSQL: print the pg_dump command instead of running it."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Back the database up to FILE while the host runs (mode 0600).

    SQLite: its online backup API. PostgreSQL: pg_dump --format=custom (the client
    tools of the server's major version or newer; the password from the URL goes in
    PGPASSWORD, never on a command line). Keep the master key apart from the backups.
    """
    result = run(
        as_json, lambda ctx: operations.backup(ctx, file, overwrite=force, dry_run=dry_run)
    )

    def human() -> None:
        if result.size is None and result.command is None:  # SQLite, --dry-run
            typer.echo(f"would copy the database to {result.path} (SQLite's backup API)")
        elif result.size is None:
            typer.echo(f"run (password from PGPASSWORD or ~/.pgpass):\n  {result.command}")
        else:
            typer.echo(f"backed up to {result.path} ({result.size} bytes)")

    emit(as_json, result.to_dict(), human)


def restore_command(
    file: Path,
    yes: bool = typer.Option(False, "--yes", help="Really replace the current database."),
    as_json: bool = JsonOption,
) -> None:
    """Replace the database with a backup, migrate it, and check the ledger and the audit chain.

    Refused while a host serves the database (stop it first). PostgreSQL: a missing
    database is created, then pg_restore puts the backup in it. Exit 1 when a check fails.
    """
    if not yes:
        usage("这会替换整个数据库：确认请加 --yes", "this replaces the whole database: pass --yes")
    result = run(as_json, lambda ctx: operations.restore(ctx, file), migrated=False)

    def human() -> None:
        ledger_report, chain = result.ledger, result.audit
        typer.echo(
            f"restored {result.path} into {result.database}"
            + (" (created)" if result.created else "")
            + f", migrated to revision {result.revision}"
        )
        typer.echo(
            f"ledger {'OK' if result.ledger_ok else 'BROKEN'}: {ledger_report['accounts']} "
            f"accounts, {ledger_report['entries']} entries"
        )
        for problem in ledger_report["problems"]:
            typer.echo(f"  {problem['rule']} {problem['subject']}: {problem['detail']}")
        typer.echo(
            f"audit chain {'OK' if result.audit_ok else 'BROKEN'}: {chain['checked']} records"
            + (f" (broken at {chain['broken_seq']}: {chain['problem']})" if not chain["ok"] else "")
        )

    emit(as_json, result.to_dict(), human)
    if not result.ok:
        raise typer.Exit(EXIT_REFUSED)
