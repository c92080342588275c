"""The ``scanpay`` command line: one sub-command group per part of the system."""

from __future__ import annotations

import importlib

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


_GROUPS = ["run", "code", "host", "terminal", "scan", "bench", "demo", "chaos", "sim"]


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
    # One module per sub-command group; the list is the command tree at a glance.
    for name in _GROUPS:
        module = importlib.import_module(f"scanpay.cli.{name}")
        app.add_typer(module.app, name=name)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
