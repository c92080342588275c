"""``scanpay bench``: measurements, printed as tables (rich) or JSON.

A group: ``decode``, ``frames``, ``strategies`` and ``guidance`` measure the
scanner; ``host`` measures the acquiring host's payments; other parts of
scanpay add their own sub-commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["app"]

app = typer.Typer(
    help="Benchmarks: decode rate and speed, live frames, strategies, guidance, host payments."
)

_DATASET_HELP = "A folder with images and a manifest.json (e.g. ../shared/datasets/qr-real)."


def _dataset(path: Path) -> Any:
    from scanpay.vision.bench import load_dataset

    try:
        return load_dataset(path)
    except (OSError, ValueError, KeyError) as error:
        Console(stderr=True).print(f"[red]cannot read dataset {path}[/]: {error}")
        raise typer.Exit(2) from None


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None
    console = Console(stderr=True)

    def show(done: int, total: int) -> None:
        if done == total or done % 20 == 0:
            console.print(f"  {done}/{total}", end="\r")

    return show


@app.command("decode")
def decode_command(
    dataset: Path = typer.Option(..., "--dataset", help=_DATASET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    repeat: int = typer.Option(5, "--repeat", min=1, help="Timed runs per image and decoder."),
    extra: bool = typer.Option(False, "--extra", help="Also time OpenCV's WeChat detector."),
    models: Path | None = typer.Option(
        None, "--models", help="WeChat CNN models folder: scanpay and --extra use them."
    ),
) -> None:
    """Read rate and time per image: scanpay against zxing-cpp, ZBar and OpenCV."""
    from scanpay.vision.bench import run_decode_bench
    from scanpay.vision.scan import Scanner

    data = _dataset(dataset)
    report = run_decode_bench(
        data,
        scanner=Scanner(models=models),
        repeat=repeat,
        extra=extra,
        wechat_models=models,
        progress=_progress(sys.stderr.isatty()),
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    console = Console()
    names = report.decoders
    counts = Table(title=f"Read correctly — {report.dataset}")
    counts.add_column("category")
    counts.add_column("entries", justify="right")
    for name in names:
        counts.add_column(name, justify="right")
    counts.add_column("union zxing+zbar+opencv", justify="right")
    for row in report.rows:
        counts.add_row(
            row.name, str(row.entries), *(str(row.read[n]) for n in names), str(row.read["union"])
        )
    console.print(counts)
    times = Table(title="Milliseconds per image, median / p90 (one core)")
    times.add_column("category")
    for name in names:
        times.add_column(name, justify="right")
    for row in report.rows:
        times.add_row(row.name, *(f"{row.median_ms[n]:.2f} / {row.p90_ms[n]:.2f}" for n in names))
    console.print(times)
    console.print(
        f"On the {report.zxing_read_count} images zxing-cpp reads: scanpay median "
        f"{report.scanpay_median_ms_on_zxing_read:.3f} ms, zxing-cpp "
        f"{report.zxing_median_ms_on_zxing_read:.3f} ms, ratio [bold]{report.time_ratio:.2f}x[/]"
    )
    for check, ok in report.criteria().items():
        console.print(f"  {'[green]met[/]' if ok else '[red]NOT met[/]'}  {check}")
    console.print(f"[dim]{report.versions}; {report.repeat} runs per image[/]")


@app.command("frames")
def frames_command(
    frames: int = typer.Option(600, "--frames", min=1, help="Frames to analyse."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    pin: bool = typer.Option(True, "--pin/--no-pin", help="Pin to one CPU core."),
) -> None:
    """Frames per second of live analysis (decode attempt + guidance) at 640x480."""
    from scanpay.vision.bench import run_frames_bench

    report = run_frames_bench(frames, pin=pin)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    console = Console()
    table = Table(title="Live analysis, 640x480")
    table.add_column("condition")
    table.add_column("median ms", justify="right")
    for label, ms in report.by_condition_ms.items():
        table.add_row(label, f"{ms:.2f}")
    console.print(table)
    console.print(
        f"[bold]{report.fps:.1f} frames/s[/] over {report.frames} frames "
        f"(median {report.median_ms:.2f} ms, p90 {report.p90_ms:.2f} ms, "
        f"max {report.max_ms:.2f} ms); "
        f"{report.pinning}"
    )
    console.print(f"  {'[green]met[/]' if report.fps >= 30 else '[red]NOT met[/]'}  >= 30 frames/s")


@app.command("strategies")
def strategies_command(
    dataset: Path = typer.Option(..., "--dataset", help=_DATASET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    live: bool = typer.Option(False, "--live", help="Measure on 640x480 frames, live costs."),
    max_ms: float | None = typer.Option(
        None, "--max-ms", help="Leave out strategies that cost more on average (live: 6 ms)."
    ),
    models: Path | None = typer.Option(None, "--models", help="Also measure wechat_models."),
) -> None:
    """Measure every fallback strategy and choose the order by gain per millisecond."""
    from scanpay.vision.bench import run_strategy_bench
    from scanpay.vision.scan import Scanner

    data = _dataset(dataset)
    limit = max_ms if max_ms is not None else (6.0 if live else None)
    console = Console(stderr=True)
    report = run_strategy_bench(
        data,
        scanner=Scanner(models=models),
        live=live,
        max_ms=limit,
        progress=(lambda line: console.print(f"  {line}")) if sys.stderr.isatty() else None,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    out = Console()
    table = Table(
        title=f"Fallback strategies on {report.pool} images the fast path misses "
        f"({', '.join(f'{k} {v}' for k, v in sorted(report.sources.items()))})"
    )
    for column in ("rank", "strategy", "reads alone", "mean ms", "new reads", "new reads/ms"):
        table.add_column(column, justify="right" if column != "strategy" else "left")
    for row in report.rows:
        data_row = row.to_dict()
        table.add_row(
            str(row.rank or "-"),
            row.name,
            str(row.reads),
            f"{row.mean_ms:.2f}",
            str(row.gain) if row.rank else "-",
            f"{data_row['gain_per_ms']:.2f}" if data_row["gain_per_ms"] else "-",
        )
    out.print(table)
    out.print(f"order: {', '.join(report.order)}")
    out.print(f"together they read {report.covered} of {report.pool}")


@app.command("guidance")
def guidance_command(
    dataset: Path = typer.Option(..., "--dataset", help=_DATASET_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed for the degradations."),
) -> None:
    """How often the guidance names the right cause, per cause, on frames made from real images."""
    from scanpay.vision.bench import run_guidance_bench
    from scanpay.vision.bench.guidance import codes_from_dataset

    data = _dataset(dataset)
    report = run_guidance_bench(codes_from_dataset(data), seed=seed)
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    table = Table(title=f"Guidance on labelled frames from {report.codes} real codes")
    for column in ("cause", "frames", "right (first)", "named", "accuracy", "most confused with"):
        table.add_column(column)
    for row in [*report.rows, report.total]:
        confused = [f"{k} {v}" for k, v in row.confusion.most_common() if k != row.cause][:2]
        accuracy = f"{row.primary / row.frames:.1%}" if row.frames else "-"
        table.add_row(
            row.cause,
            str(row.frames),
            str(row.primary),
            str(row.named),
            accuracy,
            ", ".join(confused),
        )
    Console().print(table)


@app.command("host")
def host_command(
    db: str = typer.Option("sqlite", "--db", help="sqlite or postgresql."),
    terminals: int = typer.Option(32, "--terminals", min=1, help="Terminals paying at once."),
    seconds: float = typer.Option(10.0, "--seconds", min=0.5, help="The measured window."),
    workers: int = typer.Option(1, "--workers", min=1, help="Host worker processes."),
    warmup: float = typer.Option(5.0, "--warmup", min=0.0, help="Seconds of load not counted."),
    load_processes: int = typer.Option(
        1, "--load-processes", min=1, help="Processes the terminals are spread over."
    ),
    merchants: int | None = typer.Option(
        None, "--merchants", min=1, help="Shops the terminals belong to (default T/4)."
    ),
    wallets: int | None = typer.Option(
        None, "--wallets", min=1, help="Paying wallets (default: enough for 2000/s)."
    ),
    pg_admin: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "--pg-admin",
        help="PostgreSQL server where the bench creates (and drops) its database.",
    ),
    log_level: str = typer.Option("info", "--log-level", help="The host's log level."),
    run_pg_test_fsync: bool = typer.Option(
        True, "--pg-test-fsync/--no-pg-test-fsync", help="Also run pg_test_fsync (PostgreSQL)."
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the PostgreSQL database."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Approved payments per second and latency of the real host over loopback.

    A fresh database, `scanpay host serve --workers W`, T terminals sending signed
    payments with fresh wallet codes from separate processes; then the ledger, the
    audit chain and the count of approvals are checked. Exit 1 on any error.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from scanpay.host.bench import HostBenchConfig, run_host_bench

    try:
        config = HostBenchConfig(
            db=db,
            terminals=terminals,
            seconds=seconds,
            workers=workers,
            warmup=warmup,
            load_processes=load_processes,
            merchants=merchants,
            wallets=wallets,
            pg_admin=pg_admin,
            log_level=log_level,
            run_pg_test_fsync=run_pg_test_fsync,
            keep=keep,
        )
    except ValueError as error:
        Console(stderr=True).print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    columns = (
        TextColumn("{task.description:<7}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("setup", total=1, detail="")

        def show(phase: str, done: float, total: float, detail: str) -> None:
            bar.update(task, description=phase, completed=done, total=total or 1, detail=detail)

        report = run_host_bench(config, show)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _print_host_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_host_report(report: Any) -> None:
    data = report.to_dict()
    cfg, lat, cpu, checks = data["config"], data["latency_ms"], data["cpu"], data["checks"]
    console = Console()
    table = Table(
        title=f"Host payments — {cfg['db']}, {cfg['workers']} worker(s), "
        f"{cfg['terminals']} terminals, {cfg['seconds']:g} s"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("approved payments / s", f"[bold]{data['approved_per_s']:.1f}[/]")
    table.add_row("approved (window)", str(data["approved"]))
    table.add_row(
        "latency p50 / p95 / p99 ms", f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f}"
    )
    table.add_row("latency max ms", f"{lat['max']:.1f}")
    errors = data["run_errors"]
    table.add_row("errors", ", ".join(f"{k} {v}" for k, v in errors.items()) or "0")
    table.add_row("disk fsyncs / s (8 KiB write + fsync)", f"{data['fsync']['fsyncs_per_s']:.0f}")
    if data["pg_test_fsync"]:
        figures = ", ".join(f"{k} {v:.0f}" for k, v in data["pg_test_fsync"].items())
        table.add_row("pg_test_fsync ops/s", figures)
    if cpu["machine_busy"] is not None:
        table.add_row("machine CPU busy", f"{cpu['machine_busy']:.0%}")

    def per(key: str) -> str:
        return f"{cpu[key]:.2f}" if cpu.get(key) is not None else "-"

    table.add_row(
        "CPU ms per payment: host / db / load",
        f"{per('host_ms_per_payment')} / {per('db_ms_per_payment')} / {per('load_ms_per_payment')}",
    )
    table.add_row(
        "checks: ledger / audit / approvals",
        f"{'ok' if checks['ledger_ok'] else 'FAILED'} / "
        f"{'ok' if checks['audit_ok'] else 'FAILED'} ({checks['audit_records']} records) / "
        f"{'ok' if checks['consistent'] else 'FAILED'} "
        f"({checks['db_approved']} stored, {checks['client_approved']} answered)",
    )
    if data["code_waits"]:
        table.add_row("waits for a fresh code (give --wallets)", str(data["code_waits"]))
    console.print(table)
    machine = data["machine"]
    console.print(
        f"[dim]{machine['cpus']} CPUs {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"disk {machine['disk']}; Python {machine['python']}, {machine['system']}[/]"
    )


@app.command("portal")
def portal_command(
    db: str = typer.Option("sqlite", "--db", help="sqlite or postgresql."),
    rows: int = typer.Option(100_000, "--rows", min=100, help="Transactions in the database."),
    rounds: int = typer.Option(5, "--rounds", min=1, help="Measured rounds over every page."),
    pg_admin: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        "--pg-admin",
        help="PostgreSQL server where the bench creates (and drops) its database.",
    ),
    keep: Path | None = typer.Option(
        None, "--keep", help="Keep the data directory (and PostgreSQL database) here."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """The merchant portal's transactions page and CSV/XLSX exports at volume, over HTTP.

    A fresh database filled by `scanpay host fixtures --transactions ROWS`, served
    by `scanpay host serve`, measured through a logged-in session: page latency
    (median/p90/p99 per kind of page), export time to first byte, rows per second
    and the server's peak memory. Target: median under 300 ms.
    """
    from scanpay.host.portal.bench import run_portal_bench

    err = Console(stderr=True)
    report = run_portal_bench(
        db=db,
        rows=rows,
        rounds=rounds,
        pg_admin=pg_admin,
        keep=keep,
        progress=None if as_json else (lambda message: err.print(f"[dim]{message}[/]")),
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    data = report.to_dict()
    table = Table(title=f"Transactions page, {data['rows']:,} rows on {db} ({data['machine']}), ms")
    for column in ("page", "n", "median", "p90", "p99", "max"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for row in [*data["pages"], data["overall"]]:
        table.add_row(
            row["name"],
            str(row["n"]),
            f"{row['median_ms']:.1f}",
            f"{row['p90_ms']:.1f}",
            f"{row['p99_ms']:.1f}",
            f"{row['max_ms']:.1f}",
        )
    out = Console()
    out.print(table)
    exports = Table(title="Exports of every row (streamed)")
    for column in ("file", "rows", "MB", "first byte ms", "total s", "rows/s", "server RSS MB"):
        exports.add_column(column, justify="right")
    for e in data["exports"]:
        exports.add_row(
            e["kind"],
            f"{e['rows']:,}" if e["rows"] else "-",
            f"{e['bytes'] / 1e6:.1f}",
            f"{e['first_byte_ms']:.0f}",
            f"{e['total_s']:.2f}",
            f"{e['rows_per_s']:,}" if e["rows"] else "-",
            f"{e['rss_before_mb']:.0f} -> {e['rss_peak_mb']:.0f}",
        )
    out.print(exports)
    verdict = "[green]met[/]" if report.meets_target else "[red]NOT met[/]"
    out.print(f"target median < 300 ms: {verdict} (fixtures written in {data['fixture_s']:.0f} s)")
