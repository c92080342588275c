"""The ``scanpay`` command line: one sub-command group per part of the system."""

from __future__ import annotations

import typer

from scanpay import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="scanpay",
    help="Scan-to-pay for the point of sale: payment codes, scanner, terminal agent, host.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scanpay {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Scan-to-pay for the point of sale."""


def _register() -> None:
    # Sub-command groups live one module each; importing them here keeps the
    # root small and makes the command tree visible in one place.
    from scanpay.cli import code

    app.add_typer(code.app, name="code")


_register()


def main() -> None:
    """Console-script entry point."""
    app()
