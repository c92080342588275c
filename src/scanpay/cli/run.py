"""``scanpay run``: the whole system on this machine - the main job of ``make run``.

The host on SQLite under ``./data/``, demo data on the first start (an
approved merchant, an activated terminal, a cashier and a supervisor, two
wallet accounts), the terminal agent with the cashier screen, and the WeChat Pay
simulator (``./data/sim-wechat``) that the host routes WeChat Pay codes to, the demo
merchant's channel pointing at the simulator's demo merchant; the URLs and the demo
logins are printed (never a key). Ctrl-C stops everything; the next start reuses the
data.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

__all__ = ["app", "banner"]

app = typer.Typer(help="Run the host, a terminal agent and demo data on this machine.")


def banner(stack: Any) -> str:
    """What ``scanpay run`` prints once everything is up (``stack``: a started Stack)."""
    from scanpay.money import format_amount

    demo = stack.demo
    host, agent = stack.host_url, stack.agent_url
    state = "created" if stack.created else "reused"
    lines = [
        f"scanpay is running ({state} data in {stack.data_dir})",
        "",
        f"  cashier screen   {agent}/",
        f"  wallet page      {host}/wallet/",
        f"  merchant portal  {stack.portal_url}",
        *([f"  WeChat Pay sim   {stack.sim_url}/sim/"] if stack.sim is not None else []),
        f"  host API         {host}/docs      agent API  {agent}/docs",
        f"  terminal status  {agent}/status",
        "",
        f"  merchant {demo.merchant_name} ({demo.merchant_id}), terminal {demo.terminal_id}",
    ]
    for op in demo.operators:
        lines.append(f"  {op.role:<10} {op.name:<6} id {op.operator_id}   PIN {op.pin}")
    for user in demo.portal_users:
        lines.append(f"  portal     {user.role:<10} {user.email}   password {user.password}")
    balances = stack.balances()
    for w in demo.wallets:
        limit = format_amount(w.pin_above if w.pin_above is not None else 100_000, "CNY")
        balance = balances.get(w.account)
        lines.append(
            f"  wallet     {w.name:<6} account {w.account}   PIN {w.pin}   "
            + (f"balance {format_amount(balance, 'CNY')} CNY, " if balance is not None else "")
            + f"PIN asked above {limit}"
        )
    lines += _wechat_lines(stack)
    lines += [
        "",
        "A first sale: open the wallet page, log in as Alice and copy the 18 digits under",
        "the barcode; open the cashier screen, log in as Ann, type 12.34, press",
        "'Scan to charge', paste the digits into 'Type or paste the payment code', press",
        "'Use this code', then 'Confirm'.",
        *_wechat_hint(stack),
        "",
        "Ctrl-C stops everything; `make run` again reuses the data "
        "(delete the folder to start over).",
    ]
    return "\n".join(lines)


def _wechat_lines(stack: Any) -> list[str]:
    """The simulator's demo customer and the demo merchant's channel (no key, ever)."""
    from scanpay.money import format_amount

    wechat = stack.wechat
    if stack.sim is None:
        return []
    if wechat is None:
        return [f"  wechat     the simulator has merchants but no demo: see {stack.sim_url}/sim/"]
    balance = stack.wechat_balance()
    asked = (
        f", password asked above {format_amount(wechat.password_above, 'CNY')}"
        if wechat.password_above is not None
        else ""
    )
    if stack.wechat_channel == "left":
        channel = "the merchant's own WeChat Pay channel is kept (not the simulator's demo)"
    else:
        channel = f"channel to WeChat Pay merchant {wechat.mchid}"
    return [
        f"  wechat     {wechat.wallet_name:<6} simulator wallet {wechat.wallet_id}   "
        + (f"balance {format_amount(balance, 'CNY')} CNY" if balance is not None else "")
        + asked,
        f"  wechat     {channel}",
    ]


def _wechat_hint(stack: Any) -> list[str]:
    """How to pay with a WeChat Pay code of the simulator's demo customer."""
    from scanpay.money import format_amount

    wechat = stack.wechat
    if stack.sim is None or wechat is None:
        return []
    sim = stack.sim_url
    lines = [
        "",
        f"A WeChat Pay code: open {sim}/sim/wallets/{wechat.wallet_id}/code and use its 18",
        "digits the same way; the host sends it to the WeChat Pay simulator.",
    ]
    if wechat.password_above is not None:
        above = format_amount(wechat.password_above, "CNY")
        lines += [
            f"Above {above} the cashier screen waits while the customer confirms",
            f"on {sim}/sim/.",
        ]
    return lines


@app.callback(invoke_without_command=True)
def run(
    data: Path = typer.Option(
        Path("data"), "--data", help="Where the host's database and the terminal live."
    ),
    host_port: int = typer.Option(8600, "--host-port", help="The host's port on 127.0.0.1."),
    agent_port: int = typer.Option(
        8700, "--agent-port", help="The terminal agent's port on 127.0.0.1."
    ),
    sim_port: int = typer.Option(
        8610, "--sim-port", help="The WeChat Pay simulator's port on 127.0.0.1."
    ),
) -> None:
    """Start the WeChat Pay simulator, the host, demo data (first run only) and the
    terminal agent; Ctrl-C stops them."""
    from scanpay.stack import Stack, StackError
    from scanpay.terminal.errors import TerminalError

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    stack = Stack(data, host_port=host_port, agent_port=agent_port, sim_port=sim_port)
    try:
        typer.echo(f"starting scanpay in {data.resolve()} ...")
        try:
            stack.start()
        except (StackError, TerminalError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            if isinstance(exc, StackError) and "in use" in str(exc):
                typer.echo(
                    "is another `scanpay run` running? stop it, or choose "
                    "--host-port / --agent-port / --sim-port",
                    err=True,
                )
            raise typer.Exit(1) from None
        typer.echo(banner(stack))
        while not stop.wait(0.5):
            pass
        typer.echo("\nstopping ...")
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo("stopped.")
