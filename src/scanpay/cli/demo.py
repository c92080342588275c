"""``scanpay demo``: a complete scripted sale through the real parts.

``scanpay demo --headless`` runs it and exits (0 when every step worked);
without ``--headless`` the host and the agent stay up afterwards, with their
URLs printed, until Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path

import typer

from scanpay.cli.language import choose_language
from scanpay.i18n import Text

__all__ = ["app"]

app = typer.Typer(help="A complete scripted sale through the real host, agent and scanner.")

DEMO_STOPPED = Text("演示未完成：{reason}", "The demo stopped: {reason}")
BAD_AMOUNT = Text("错误：{reason}", "error: {reason}")


@app.callback(invoke_without_command=True)
def demo(
    headless: bool = typer.Option(
        False, "--headless", help="Run the scripted sale and exit (no servers left running)."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Keep everything here (default: a temporary folder)."
    ),
    amount: str = typer.Option("12.34", "--amount", help="The sale's amount in CNY."),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of a failure: en or zh-CN (default: the locale's)."
    ),
    tls: bool = typer.Option(
        False,
        "--tls",
        help="Serve the host over HTTPS (a self-signed certificate, as `scanpay host certs` "
        "makes) and activate the terminal with it as its CA file, pinned.",
    ),
) -> None:
    """Host on a temporary SQLite database, a wallet code photographed and read by
    scanpay.vision, paid through the terminal agent and the host, the receipt
    printed to a file. Each step is printed; exit 1 if any fails."""
    import time

    from scanpay.money import MoneyError, read_amount
    from scanpay.terminal.demo import DemoFailed, DemoResult, run_demo

    language = choose_language(lang)
    try:
        minor = read_amount(amount, "CNY")  # as a person types it: "1,00" is refused
    except MoneyError as exc:
        typer.echo(BAD_AMOUNT.format(reason=exc.message(language)).get(language), err=True)
        raise typer.Exit(2) from None

    def wait(result: DemoResult) -> None:
        typer.echo(
            f"host {result.host_url} · agent {result.agent_url}/docs · "
            f"status {result.agent_url}/status  (Ctrl-C to stop)"
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            return

    try:
        result = run_demo(directory, amount=minor, keep_running=None if headless else wait, tls=tls)
    except DemoFailed as exc:
        # A sentence for a person (why the sale was declined...), in their language.
        typer.echo(DEMO_STOPPED.format(reason=exc.message(language)).get(language), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"demo OK: sale {result.out_trade_no} approved; receipt {result.receipt}")
