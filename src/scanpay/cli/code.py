"""``scanpay code``: read and write payment codes from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import segno
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scanpay.cli.language import choose_language, cli_language
from scanpay.codes import (
    AccountTemplate,
    ApplicationSpec,
    CodeError,
    MerchantLanguage,
    PaymentCode,
    build_cpm,
    build_mpm,
    parse_payment_code,
)
from scanpay.i18n import Text
from scanpay.money import MoneyError, read_amount

__all__ = ["app"]

app = typer.Typer(help="Read and write payment codes (EMV MPM, EMV CPM, wallet digits).")
make_app = typer.Typer(help="Write a payment code (and optionally its QR image).")
app.add_typer(make_app, name="make")

EXIT_REJECTED = 2
# Rich markup: the word in bold red, then the message with its stable code and field.
ERROR = Text(
    "[bold red]错误[/]：{message} ({code}, {field})",
    "[bold red]error[/]: {message} ({code}, {field})",
)


@app.command("parse")
def parse_command(
    text: str = typer.Argument(..., help="The scanned text, or - to read it from stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print the parsed code as JSON."),
    lang: str | None = typer.Option(
        None, "--lang", help="Message language: en or zh-CN (default: the locale's)."
    ),
) -> None:
    """Tell what a scanned text is, check it, and show what it says.

    Exit 0 when the code is readable (with or without warnings), 2 when it is rejected.
    """
    language = choose_language(lang)
    if text == "-":
        # Scanners and pipes add a line ending; anything else is part of the payload.
        text = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    try:
        code = parse_payment_code(text)
    except CodeError as exc:
        if as_json:
            problems = [p.to_dict() for p in exc.problems]
            typer.echo(
                json.dumps({"error": exc.to_dict(), "problems": problems}, ensure_ascii=False)
            )
        else:
            console = Console(stderr=True)
            console.print(f"[bold red]rejected[/]: {exc.message(language)} ({exc.code})")
            for p in exc.problems:
                where = f" field {p.field}" if p.field else ""
                at = f" at {p.offset}" if p.offset is not None else ""
                console.print(f"  {p.severity} {p.code}{where}{at}: {p.text.get(language)}")
        raise typer.Exit(EXIT_REJECTED) from None
    data = code.to_dict()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    _print_table(code, data, language)


def _print_table(code: PaymentCode, data: dict[str, Any], lang: str) -> None:
    table = Table(title=f"{data['kind']} · {data.get('scheme') or '?'}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        if key in ("kind", "warnings") or value in (None, [], {}):
            continue
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(key, str(value))
    console = Console()
    console.print(table)
    for warning in code.warnings:
        console.print(
            f"[yellow]warning[/] {warning.code} ({warning.field}): {warning.text.get(lang)}"
        )


def _emit(payload: str, png: Path | None, svg: Path | None, terminal: bool) -> None:
    typer.echo(payload)
    if png or svg or terminal:
        # Byte mode with UTF-8 (ECI) as EMVCo MPM 4.12 asks; error correction M.
        qr = segno.make_qr(payload, error="m", encoding="utf-8", boost_error=False)
        if png:
            qr.save(str(png), scale=8, border=4)
        if svg:
            qr.save(str(svg), scale=8, border=4)
        if terminal:
            qr.terminal(compact=True)


def _fail(exc: CodeError | MoneyError) -> None:
    """Print a refused input in the locale's language (its stable code and field kept) and exit."""
    language = cli_language()
    # escape: the message quotes what was typed, which may hold [brackets] Rich would eat;
    # soft_wrap: one line however narrow the terminal, so a pipe or a log keeps it whole.
    line = ERROR.format(message=escape(exc.message(language)), code=exc.code, field=exc.field)
    Console(stderr=True).print(line.get(language), soft_wrap=True)
    raise typer.Exit(EXIT_REJECTED)


@make_app.command("mpm")
def make_mpm(
    name: str = typer.Option(..., "--name", help="Merchant name (59), at most 25 characters."),
    city: str = typer.Option(..., "--city", help="Merchant city (60), at most 15 characters."),
    mcc: str = typer.Option(..., "--mcc", help="Merchant category code (52), 4 digits."),
    currency: str = typer.Option("CNY", "--currency", help="ISO 4217 code, e.g. CNY or 156."),
    country: str = typer.Option("CN", "--country", help="ISO 3166 alpha-2 country (58)."),
    amount: str | None = typer.Option(None, "--amount", help="Amount as decimal text: 12.34."),
    gui: str = typer.Option("org.scanpay", "--gui", help="Merchant account template GUI."),
    payee: str = typer.Option("M000000001", "--payee", help="Payee account (sub-ID 01)."),
    template_id: str = typer.Option("26", "--template-id", help="Template ID, 26-51."),
    reference: str | None = typer.Option(None, "--reference", help="Reference label (62/05)."),
    bill: str | None = typer.Option(None, "--bill", help="Bill number (62/01)."),
    terminal_label: str | None = typer.Option(None, "--terminal-label", help="62/07."),
    alt_language: str | None = typer.Option(None, "--alt-language", help="64/00, e.g. ZH."),
    alt_name: str | None = typer.Option(None, "--alt-name", help="64/01 merchant name."),
    alt_city: str | None = typer.Option(None, "--alt-city", help="64/02 merchant city."),
    static: bool = typer.Option(False, "--static", help="Point of initiation 11 even with amount."),
    png: Path | None = typer.Option(None, "--png", help="Also write the QR as PNG."),
    svg: Path | None = typer.Option(None, "--svg", help="Also write the QR as SVG."),
    terminal: bool = typer.Option(False, "--terminal", help="Also draw the QR in the terminal."),
) -> None:
    """Write a merchant-presented code (static, or dynamic with an amount)."""
    try:
        minor = read_amount(amount, currency) if amount is not None else None
        extra = {
            "bill_number": bill,
            "reference_label": reference,
            "terminal_label": terminal_label,
        }
        language = (
            MerchantLanguage(alt_language, alt_name, alt_city)
            if alt_language and alt_name
            else None
        )
        payload = build_mpm(
            merchant_accounts=[AccountTemplate(template_id, gui, {"01": payee})],
            merchant_name=name,
            merchant_city=city,
            mcc=mcc,
            currency=currency,
            country=country,
            amount=minor,
            dynamic=False if static else None,
            additional_data={k: v for k, v in extra.items() if v is not None} or None,
            language=language,
        )
    except (CodeError, MoneyError) as exc:
        _fail(exc)
        return
    _emit(payload, png, svg, terminal)


@make_app.command("cpm")
def make_cpm(
    aid: str = typer.Option("A000000333010102", "--aid", help="Application identifier (hex)."),
    pan: str = typer.Option(..., "--pan", help="PAN or payment token (digits)."),
    expiry: str = typer.Option("3012", "--expiry", help="Expiry YYMM for track 2."),
    label: str | None = typer.Option(None, "--label", help="Application label (50)."),
    cryptogram: str | None = typer.Option(None, "--cryptogram", help="9F26, 16 hex digits."),
    atc: int | None = typer.Option(None, "--atc", help="Application transaction counter 9F36."),
    png: Path | None = typer.Option(None, "--png", help="Also write the QR as PNG."),
    svg: Path | None = typer.Option(None, "--svg", help="Also write the QR as SVG."),
    terminal: bool = typer.Option(False, "--terminal", help="Also draw the QR in the terminal."),
) -> None:
    """Write a consumer-presented code (base64 BER-TLV)."""
    transparent: list[tuple[str, bytes]] = []
    try:
        if cryptogram is not None:
            transparent.append(("9F26", bytes.fromhex(cryptogram)))
        if atc is not None:
            transparent.append(("9F36", atc.to_bytes(2, "big")))
        payload = build_cpm(
            [
                ApplicationSpec(
                    aid=aid,
                    label=label,
                    track2=f"{pan}D{expiry}201",
                    transparent=transparent,
                )
            ]
        )
    except (ValueError, OverflowError) as exc:
        Console(stderr=True).print(f"[bold red]error[/]: {exc}")
        raise typer.Exit(EXIT_REJECTED) from None
    except CodeError as exc:
        _fail(exc)
        return
    _emit(payload, png, svg, terminal)
