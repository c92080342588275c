"""``scanpay host fixtures``: realistic transactions in bulk, for benchmarks and demos.
(:mod:`scanpay.cli.host` registers the command.)"""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import JsonOption, emit, run

__all__ = ["fixtures_command"]


def fixtures_command(
    transactions: int = typer.Option(100_000, "--transactions", min=1, help="Payments to write."),
    merchant: str | None = typer.Option(
        None, "--merchant", help="Write for this merchant (default: a new approved one)."
    ),
    days: int = typer.Option(90, "--days", min=1, max=3650, help="Spread over this many days."),
    terminals_: int = typer.Option(4, "--terminals", min=1, max=50),
    settle_days: int = typer.Option(7, "--settle", min=0, max=365, help="Days to settle."),
    seed: int = typer.Option(8, "--seed"),
    as_json: bool = JsonOption,
) -> None:
    """Write realistic transactions in bulk (ledger and audit chain stay consistent).

    For the merchant portal's benchmark and demos: payments of the last days with
    refunds, declines, reversals and orders, their ledger entries and audit
    records, settled days, day-close batches and a terminal self-test.
    """
    import sys

    from scanpay.host.portal import fixtures

    def show(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            typer.echo(f"  {done}/{total}", err=True)

    report = run(
        as_json,
        lambda ctx: fixtures.generate(
            ctx,
            transactions=transactions,
            merchant_id=merchant,
            days=days,
            terminal_count=terminals_,
            settle_days=settle_days,
            seed=seed,
            progress=show,
        ),
    )
    emit(
        as_json,
        report.to_dict(),
        lambda: typer.echo(
            f"{report.merchant_id}: {report.payments} payments ({report.captured} captured, "
            f"{report.refunds} refunds, {report.orders} orders), terminals "
            f"{' '.join(report.terminals)}, {report.settled_days} days settled, "
            f"{report.seconds:.1f} s"
        ),
    )
