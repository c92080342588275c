"""``scanpay bench``: measurements, printed as tables (rich) or JSON.

A group: ``decode``, ``frames``, ``strategies`` and ``guidance`` measure the
scanner; other parts of scanpay add their own sub-commands.
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

app = typer.Typer(help="Benchmarks: decode rate and speed, live frames, strategies, guidance.")

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
