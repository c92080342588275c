"""docs/terminal.md documents every setting, command and API route the agent has."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from scanpay.terminal.config import PrinterConfig, TerminalConfig
from support import ROOT

DOC = (ROOT / "docs" / "terminal.md").read_text(encoding="utf-8")
IDENTITY = {
    "host_url",
    "terminal_id",
    "key",
    "merchant_id",
    "merchant_name",
    "merchant_city",
    "mcc",
    "currency",
    "payee",
    "min_software_version",
    "activated_at",
    "printer",
    "language",
    "session_idle_minutes",
}


@pytest.mark.parametrize("name", sorted({f.name for f in fields(TerminalConfig)} - IDENTITY))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC or f"`{name}` /" in DOC or f"/ `{name}`" in DOC


@pytest.mark.parametrize("name", ["kind", "width", "encoding", "html_dir"])
def test_printer_settings_are_documented(name: str) -> None:
    assert name in {f.name for f in fields(PrinterConfig)}
    assert f"printer.{name}" in DOC


def test_every_cli_command_is_documented() -> None:
    from scanpay.cli.terminal import app, config_app, operator_app

    names = {c.name for c in app.registered_commands}
    assert names
    for name in names:
        assert f"scanpay terminal {name}" in DOC, name
    for group, sub in (("operator", operator_app), ("config", config_app)):
        for command in sub.registered_commands:
            assert f"{group} {command.name}" in DOC or f"{group} add/list" in DOC


def test_every_api_route_is_documented() -> None:
    from scanpay.terminal.api import day, orders, refunds, sales, session, system

    documented = DOC.replace("{no}", "{out_trade_no}")
    for module in (session, sales, refunds, orders, day, system):
        for route in module.router.routes:
            path = getattr(route, "path", "")
            if path in ("/healthz",):
                continue
            short = re.sub(r"^/api/sales/\{out_trade_no\}", "…", path)
            assert (
                path in documented or short in documented or path.rsplit("/", 1)[-1] in (documented)
            ), path
