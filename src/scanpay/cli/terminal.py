"""``scanpay terminal``: activate, serve and look after the POS terminal agent.

The data directory is ``--dir``, else ``$SCANPAY_TERMINAL_DIR``, else ``./data/terminal``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from scanpay.terminal.errors import TerminalError

__all__ = ["app"]

app = typer.Typer(help="The POS terminal agent: activation, the local service, operators, checks.")
operator_app = typer.Typer(help="Cashiers and supervisors (PINs are stored hashed).")
config_app = typer.Typer(help="Show or change the agent's settings (terminal.json).")
app.add_typer(operator_app, name="operator")
app.add_typer(config_app, name="config")

DirOption = typer.Option(
    None, "--dir", envvar="SCANPAY_TERMINAL_DIR", help="Data directory (default ./data/terminal)."
)


def _fail(exc: TerminalError, as_json: bool = False, code: int = 1) -> None:
    if as_json:
        typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
    else:
        typer.echo(f"error: {exc.message('en')} ({exc.code})", err=True)
    raise typer.Exit(code)


def _echo(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        for line in lines:
            typer.echo(line)


@app.command("activate")
def activate_command(
    host: str = typer.Option(..., "--host", help="The host's URL, e.g. https://host.bank:8600"),
    code: str = typer.Option(..., "--code", help="The one-time activation code."),
    ca_file: Path | None = typer.Option(
        None,
        "--ca-file",
        help="PEM file to verify the host's certificate with (for a self-signed host: its "
        "certificate); copied into the data directory. Default: the system's trust store.",
    ),
    pin_sha256: str | None = typer.Option(
        None, "--pin-sha256", help="Also pin the host's certificate: its SHA-256 fingerprint."
    ),
    allow_plain_http: bool = typer.Option(
        False, "--allow-plain-http", help="Allow http:// to a host that is not this machine."
    ),
    directory: Path | None = DirOption,
    force: bool = typer.Option(False, "--force", help="Replace an existing activation."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Activate this terminal with the host; stores its configuration (mode 0600).

    Every call to the host - this one included - verifies its certificate with
    --ca-file (else the system's trust store) and, with --pin-sha256, its fingerprint.
    """
    from scanpay.terminal.agent import activate_terminal
    from scanpay.terminal.config import data_dir

    if ca_file is not None and not ca_file.is_file():
        _fail(TerminalError("bad_request", field="ca_file", reason=f"no such file: {ca_file}"))
    try:
        config = activate_terminal(
            host,
            code,
            directory=directory,
            force=force,
            ca_file=ca_file,
            pin_sha256=pin_sha256,
            allow_plain_http=allow_plain_http,
        )
    except TerminalError as exc:
        _fail(exc, as_json)
        return
    folder = data_dir(directory)
    trust = (
        f"CA file {folder / config.ca_file} (copied from {ca_file})"
        if config.ca_file
        else "the system's trust store"
    )
    _echo(
        {
            "terminal_id": config.terminal_id,
            "merchant": config.merchant_name,
            "dir": str(folder),
            "ca_file": str(folder / config.ca_file) if config.ca_file else None,
            "pin_sha256": config.pin_sha256,
        },
        as_json,
        [
            f"activated terminal {config.terminal_id} for {config.merchant_name}",
            f"configuration: {folder / 'terminal.json'} (mode 0600)",
            f"host {config.host_url} verified with {trust}"
            + (f", pinned sha256 {config.pin_sha256}" if config.pin_sha256 else ""),
        ],
    )


@app.command("trust")
def trust_command(
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="New PEM file to verify the host with (copied)."
    ),
    pin_sha256: str | None = typer.Option(
        None, "--pin-sha256", help="New pinned SHA-256 fingerprint ('none' removes the pin)."
    ),
    system_store: bool = typer.Option(
        False, "--system-store", help="Drop the CA file: use the system's trust store."
    ),
    directory: Path | None = DirOption,
) -> None:
    """Change how the host is trusted (a renewed certificate) without activating again."""
    from scanpay.terminal.config import data_dir, load_config, save_config
    from scanpay.terminal.tls import CA_FILE, install_ca_file, normalise_pin

    folder = data_dir(directory)
    try:
        config = load_config(folder)
        changes: dict[str, Any] = {}
        if system_store:
            changes["ca_file"] = None
        elif ca_file is not None:
            if not ca_file.is_file():
                raise TerminalError(
                    "bad_request", field="ca_file", reason=f"no such file: {ca_file}"
                )
            install_ca_file(ca_file, folder)
            changes["ca_file"] = CA_FILE
        if pin_sha256 is not None:
            changes["pin_sha256"] = None if pin_sha256 == "none" else normalise_pin(pin_sha256)
        config = config.with_settings(**changes)
        save_config(folder, config)
    except TerminalError as exc:
        _fail(exc)
        return
    typer.echo(
        f"ca_file = {json.dumps(config.ca_file)}; pin_sha256 = {json.dumps(config.pin_sha256)}"
    )


@app.command("serve")
def serve_command(
    port: int = typer.Option(8700, "--port", help="Port on 127.0.0.1."),
    bind: str = typer.Option("127.0.0.1", "--bind", help="Loopback address to listen on."),
    directory: Path | None = DirOption,
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Run the agent: recovery of sales in doubt, then the local API for the cashier screen."""
    from scanpay.terminal.server import serve

    try:
        serve(directory, port=port, bind=bind, log_level=log_level)
    except TerminalError as exc:
        _fail(exc)


@operator_app.command("add")
def operator_add(
    operator_id: str = typer.Option(..., "--id", help="Login id, e.g. c01."),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option("cashier", "--role", help="cashier or supervisor"),
    pin: str | None = typer.Option(None, "--pin", help="4-8 digits (asked for when missing)."),
    directory: Path | None = DirOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a cashier or supervisor."""
    from scanpay.terminal.config import data_dir
    from scanpay.terminal.journal import JOURNAL_FILE, Journal
    from scanpay.terminal.operators import Operators

    if pin is None:
        pin = typer.prompt("PIN", hide_input=True, confirmation_prompt=True)
    journal = Journal(data_dir(directory) / JOURNAL_FILE)
    try:
        op = Operators(journal).add(operator_id, name, role, pin)  # type: ignore[arg-type]
    except TerminalError as exc:
        _fail(exc, as_json)
        return
    finally:
        journal.close()
    _echo(op.to_dict(), as_json, [f"added {op.role} {op.operator_id} ({op.name})"])


@operator_app.command("list")
def operator_list(
    directory: Path | None = DirOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """The operators."""
    from scanpay.terminal.config import data_dir
    from scanpay.terminal.journal import JOURNAL_FILE, Journal
    from scanpay.terminal.operators import Operators

    journal = Journal(data_dir(directory) / JOURNAL_FILE)
    ops = Operators(journal).all()
    journal.close()
    _echo(
        [o.to_dict() for o in ops],
        as_json,
        [f"{o.operator_id:12} {o.role:10} {o.name}" for o in ops],
    )


def _open_agent(directory: Path | None, as_json: bool) -> Any:
    from scanpay.terminal.agent import Agent

    try:
        return Agent(directory)
    except TerminalError as exc:
        _fail(exc, as_json)


@app.command("selftest")
def selftest_command(
    directory: Path | None = DirOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Run the self-test; exit 1 when a check fails."""
    agent = _open_agent(directory, as_json)
    try:
        report = agent.run_selftest()
    finally:
        agent.close()
    data = report.to_dict()
    lines = [f"{c.name:10} {c.status.upper():5} {c.message.en}" for c in report.checks]
    if report.sales_blocked:
        lines.append(f"SALES BLOCKED: {report.sales_blocked.en}")
    _echo(data, as_json, lines)
    if report.status == "fail":
        raise typer.Exit(1)


@app.command("status")
def status_command(
    directory: Path | None = DirOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Identity, sales in doubt, reversals waiting (reads the journal; sends nothing)."""
    agent = _open_agent(directory, as_json)
    try:
        data = {
            "config": agent.config.public(),
            "in_doubt": agent.journal.count_in_doubt(),
            "reversals_waiting": len(agent.journal.reversals(waiting=True)),
            "training": agent.engine.training,
        }
    finally:
        agent.close()
    cfg = data["config"]
    _echo(
        data,
        as_json,
        [
            f"terminal {cfg['terminal_id']} · {cfg['merchant_name']} · host {cfg['host_url']}",
            f"sales in doubt: {data['in_doubt']} · reversals waiting: {data['reversals_waiting']}",
        ],
    )


@app.command("recover")
def recover_command(
    directory: Path | None = DirOption,
    wait: float = typer.Option(120.0, "--wait", help="Seconds to keep trying."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Resolve every sale in doubt and forward every waiting reversal, then exit.

    Exit 0 when nothing is left in doubt or waiting, 1 otherwise.
    """
    agent = _open_agent(directory, as_json)
    try:
        agent.start(selftest=False)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if not agent.journal.count_in_doubt() and not agent.journal.reversals(waiting=True):
                break
            time.sleep(0.1)
        data = {
            "in_doubt": agent.journal.count_in_doubt(),
            "reversals_waiting": len(agent.journal.reversals(waiting=True)),
        }
    finally:
        agent.close()
    _echo(
        data,
        as_json,
        [f"in doubt: {data['in_doubt']}, reversals waiting: {data['reversals_waiting']}"],
    )
    if data["in_doubt"] or data["reversals_waiting"]:
        raise typer.Exit(1)


@app.command("sales")
def sales_command(
    directory: Path | None = DirOption,
    limit: int = typer.Option(20, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recent sales from the journal."""
    from scanpay.terminal.api.schemas import sale_view
    from scanpay.terminal.config import data_dir
    from scanpay.terminal.journal import JOURNAL_FILE, Journal

    journal = Journal(data_dir(directory) / JOURNAL_FILE)
    sales = journal.sales(limit=limit)
    journal.close()
    views = [sale_view(s) for s in sales]
    _echo(
        views,
        as_json,
        [
            f"{v['out_trade_no']:30} {v['state']:18} {v['currency']} {v['amount_text']:>10}"
            f"{'  TRAINING' if v['training'] else ''}"
            for v in views
        ],
    )


@app.command("journal-verify")
def journal_verify(
    directory: Path | None = DirOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """Walk the journal's hash chain; exit 1 and name the first broken row."""
    from scanpay.terminal.config import data_dir
    from scanpay.terminal.journal import JOURNAL_FILE, Journal

    journal = Journal(data_dir(directory) / JOURNAL_FILE)
    broken = journal.verify_chain()
    journal.close()
    _echo(
        {"ok": broken is None, "broken_at": broken},
        as_json,
        ["journal intact" if broken is None else f"journal broken at row {broken}"],
    )
    if broken is not None:
        raise typer.Exit(1)


@config_app.command("show")
def config_show(
    directory: Path | None = DirOption, as_json: bool = typer.Option(False, "--json")
) -> None:
    """The configuration, without the key."""
    from scanpay.terminal.config import data_dir, load_config

    try:
        cfg = load_config(data_dir(directory)).public()
    except TerminalError as exc:
        _fail(exc, as_json)
        return
    _echo(cfg, as_json, [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in cfg.items()])


@config_app.command("set")
def config_set(
    key: str = typer.Argument(..., help="A setting, e.g. unknown_deadline or printer.kind"),
    value: str = typer.Argument(..., help="JSON or plain text, e.g. 30, file, /tmp/rx.bin"),
    directory: Path | None = DirOption,
) -> None:
    """Change one setting (identity fields and the key cannot be changed here)."""
    from scanpay.terminal.config import TerminalConfig, data_dir, load_config, save_config

    folder = data_dir(directory)
    protected = {
        "key",
        "terminal_id",
        "merchant_id",
        "host_url",
        "activated_at",
        # trust is changed with `scanpay terminal trust`, which checks what it is given
        "ca_file",
        "pin_sha256",
        "allow_plain_http",
    }
    if key.split(".")[0] in protected:
        _fail(TerminalError("bad_request", field=key, reason="set by activation"))
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    try:
        data = load_config(folder).to_dict()
        head, _, tail = key.partition(".")
        if head not in data or (
            tail and (not isinstance(data[head], dict) or tail not in data[head])
        ):
            raise TerminalError("bad_request", field=key, reason="no such setting")
        if tail:
            data[head][tail] = parsed
        else:
            data[head] = parsed
        save_config(folder, TerminalConfig.from_dict(data))
    except (TerminalError, TypeError, ValueError) as exc:
        if isinstance(exc, TerminalError):
            _fail(exc)
        _fail(TerminalError("bad_request", field=key, reason=str(exc)))
    typer.echo(f"{key} = {json.dumps(parsed, ensure_ascii=False)}")
