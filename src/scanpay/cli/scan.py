"""``scanpay scan``: read codes from image files, a camera, a video or a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from scanpay.errors import ScanpayError
from scanpay.i18n import Text
from scanpay.vision import (
    ContinuousScanner,
    Detection,
    FrameQuality,
    Guidance,
    GuidanceChange,
    Scanner,
    ScanResult,
    assess,
    grade,
    join_structured_append,
    load_image,
    open_source,
)
from scanpay.vision.symbols import Symbol

__all__ = ["app"]

# A group (so `scanpay scan` can grow sub-commands) whose callback does the
# work; interspersed options let `scanpay scan a.png --json b.png` parse.
app = typer.Typer(
    help="Read payment codes from images, a camera, a video file or a folder.",
    context_settings={"allow_interspersed_args": True},
)

EXIT_UNREAD = 1
EXIT_BAD_INPUT = 2

#: An image in which no code was located, not even one that would not read.
NO_CODE_FOUND = Text("图片中没有找到码", "No code found in the image")
#: ... where a patch might be a code too worn to recognise: the advice, as a maybe.
NO_CODE_MAYBE = Text(
    "图片中没有找到码。如果图中有码：{advice}",
    "No code found in the image. If it has one: {advice}",
)

#: How :func:`scanpay.vision.assess` located a code: these mean a code is there
#: (read, seen by a decoder, or its QR finder patterns). ``texture`` is only a
#: patch of dense edges, which a glared or smudged code has but text or a photo
#: has too, and ``none`` is nothing at all.
LOCATED = frozenset({"decoded", "decoder", "finders"})


@app.callback(invoke_without_command=True)
def scan_command(
    files: list[Path] = typer.Argument(None, help="Image files to scan."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input (or event)."),
    with_grade: bool = typer.Option(False, "--grade", help="Grade each QR code's print quality."),
    camera: int | None = typer.Option(None, "--camera", help="Watch camera device N."),
    video: Path | None = typer.Option(None, "--video", help="Watch a video file."),
    folder: Path | None = typer.Option(None, "--folder", help="Watch a folder of frames."),
    max_frames: int | None = typer.Option(
        None, "--max-frames", help="Stop after this many frames."
    ),
    once: bool = typer.Option(False, "--once", help="Stop at the first detected code."),
    models: Path | None = typer.Option(
        None, "--models", help="Folder with OpenCV's WeChat models (detect.onnx, sr.onnx)."
    ),
    reveal: bool = typer.Option(
        False, "--reveal", help="Show one-time payment codes in full (masked by default)."
    ),
    lang: str = typer.Option("en", "--lang", help="Message language: en or zh-CN."),
) -> None:
    """Scan image files, or watch a camera, video or folder until codes show up.

    Files: exit 0 when every file gave at least one code, 1 when some did not,
    2 when a file is not a readable image. Streams: exit 0 when a code was
    detected.
    """
    streams = [x is not None for x in (camera, video, folder)]
    if sum(streams) > 1 or (any(streams) and files):
        raise typer.BadParameter("give files, or one of --camera, --video, --folder")
    scanner = Scanner(models=models, structured_append=True)
    if any(streams):
        detected = _watch(scanner, camera, video, folder, max_frames, once, as_json, reveal, lang)
        raise typer.Exit(0 if detected else EXIT_UNREAD)
    if not files:
        raise typer.BadParameter("nothing to scan: give image files or a stream option")
    raise typer.Exit(_scan_files(scanner, files, as_json, with_grade, reveal, lang))


def _scan_files(
    scanner: Scanner, files: list[Path], as_json: bool, with_grade: bool, reveal: bool, lang: str
) -> int:
    console = Console()
    errors = Console(stderr=True)
    status = 0
    every_symbol: list[Symbol] = []
    table = Table(title="scanpay scan")
    table.add_column("file", overflow="fold")
    table.add_column("format")
    table.add_column("text", overflow="ellipsis", max_width=48)
    for column in ("payment", "strategy", "ms"):
        table.add_column(column)
    if with_grade:
        table.add_column("grade")
    for path in files:
        try:
            image = load_image(path)
        except ScanpayError as error:
            status = EXIT_BAD_INPUT
            if as_json:
                typer.echo(
                    json.dumps({"file": str(path), "error": error.to_dict()}, ensure_ascii=False)
                )
            else:
                errors.print(f"[red]{path}[/]: {error.message(lang)}")
            continue
        result = scanner.scan(image)
        quality = assess(image, result)
        every_symbol.extend(result.symbols)
        if not result.symbols and status == 0:
            status = EXIT_UNREAD
        grades = [_grade(image, s) for s in result.symbols] if with_grade else []
        if as_json:
            record: dict[str, Any] = {
                "file": str(path),
                "symbols": [s.to_dict(reveal=reveal) for s in result.symbols],
                "quality": quality.to_dict(),
                "ms": round(result.ms, 3),
            }
            if with_grade:
                record["grades"] = grades
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        if not result.symbols:
            advice = _unread_advice(result, quality, lang)
            table.add_row(
                str(path),
                "-",
                # Folded, not cut: a sentence in Chinese has no spaces to wrap at.
                RichText(advice, style="yellow", overflow="fold"),
                "",
                "",
                f"{result.ms:.1f}",
                *([""] if with_grade else []),
            )
        for symbol, report in zip(
            result.symbols, grades or [None] * len(result.symbols), strict=True
        ):
            text = symbol.text if reveal else symbol.display_text()
            payment = symbol.payment_kind or (
                f"({symbol.payment_problem})" if symbol.payment_problem else ""
            )
            part = (
                f" [{symbol.sequence.index + 1}/{symbol.sequence.total}]" if symbol.sequence else ""
            )
            row = [
                str(path),
                symbol.format + part,
                _short(text, 48),
                payment,
                symbol.strategy,
                f"{result.ms:.1f}",
            ]
            if with_grade:
                row.append(_grade_text(report))
            table.add_row(*row)
    if not as_json and table.row_count:
        # Only files that were images have rows; an error alone is not followed
        # by an empty table.
        console.print(table)
        joined = join_structured_append(every_symbol)
        if joined is not None:
            console.print(f"[bold]structured append, complete message[/]: {_short(joined, 200)}")
    return status


def _unread_advice(result: ScanResult, quality: FrameQuality, lang: str) -> str:
    """Why an image gave no code. The camera advice (glare, tilt, something over the
    code...) is about a code: given as such only when one was located but would not
    read; when nothing may be a code, or only a patch of dense edges, the answer is
    that no code was found (advice about a code that is not there misleads)."""
    advice = "; ".join(
        m
        for g, m in zip(quality.guidance, quality.messages(lang), strict=True)
        if g is not Guidance.NO_CODE
    )
    if quality.located_by in LOCATED or result.rejected:
        return advice or "-"
    if quality.located_by == "texture" and advice:
        return NO_CODE_MAYBE.format(advice=advice).get(lang)
    return NO_CODE_FOUND.get(lang)


def _grade(image: Any, symbol: Symbol) -> dict[str, Any] | None:
    try:
        return grade(image, symbol).to_dict()
    except ValueError:
        return None


def _grade_text(report: dict[str, Any] | None) -> str:
    if report is None:
        return "n/a"
    parts = " ".join(f"{k} {v['grade']}" for k, v in report["parameters"].items())
    return f"[bold]{report['grade']}[/] ({parts})"


def _short(text: str, limit: int = 80) -> str:
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _watch(
    scanner: Scanner,
    camera: int | None,
    video: Path | None,
    folder: Path | None,
    max_frames: int | None,
    once: bool,
    as_json: bool,
    reveal: bool,
    lang: str,
) -> bool:
    console = Console()
    try:
        source = open_source(camera=camera, video=video, folder=folder, max_frames=max_frames)
    except (OSError, ValueError) as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    watcher = ContinuousScanner(scanner)
    detected = False
    try:
        for event in watcher.run(source):
            if isinstance(event, Detection):
                detected = True
                symbol = event.symbol
                if as_json:
                    typer.echo(
                        json.dumps(
                            {
                                "event": "detected",
                                "frame": event.frame,
                                "t": round(event.timestamp, 3),
                                "confirmed_by": event.confirmed_by,
                                "symbol": symbol.to_dict(reveal=reveal),
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    text = symbol.text if reveal else symbol.display_text()
                    console.print(
                        f"[green]frame {event.frame} ({event.timestamp:.2f}s)[/] "
                        f"{symbol.format} {symbol.payment_kind or ''}: {_short(text)} "
                        f"[dim]({event.confirmed_by})[/]"
                    )
                if once:
                    break
            elif isinstance(event, GuidanceChange):
                if as_json:
                    typer.echo(
                        json.dumps(
                            {
                                "event": "guidance",
                                "frame": event.frame,
                                "t": round(event.timestamp, 3),
                                "guidance": [g.value for g in event.guidance],
                                "messages": event.quality.messages(lang),
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    advice = "; ".join(event.quality.messages(lang)) or "ok"
                    console.print(
                        f"[yellow]frame {event.frame} ({event.timestamp:.2f}s)[/] {advice}"
                    )
    except KeyboardInterrupt:
        pass
    finally:
        source.close()
    return detected
