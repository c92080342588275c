"""``scanpay run``: the whole system on this machine - the main job of ``make run``.

The host on SQLite under ``./data/``, demo data on the first start (an
approved merchant, an activated terminal, a cashier and a supervisor, two
wallet accounts), the terminal agent with the cashier screen, and the networks'
simulators - WeChat Pay (``./data/sim-wechat``), Alipay (``./data/sim-alipay``) and
UnionPay QR (``./data/sim-unionpay``) - that the host routes those networks' codes
to, the demo merchant's channels pointing at each simulator's demo merchant; the
URLs, the demo logins and each simulator's demo customer are printed (never a key),
in the locale's language. Ctrl-C stops everything; the next start reuses the data.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from scanpay.i18n import Language, Text

__all__ = ["app", "banner"]

app = typer.Typer(help="Run the host, a terminal agent and demo data on this machine.")

_STARTING = Text("正在 {folder} 中启动 scanpay ...", "starting scanpay in {folder} ...")
_ERROR = Text("错误：{error}", "error: {error}")
_BUSY = Text(
    "是否已有另一个 `scanpay run` 在运行？请先停止它，或改用 {options}",
    "is another `scanpay run` running? stop it, or choose {options}",
)
_STOPPING = Text("正在停止 ...", "stopping ...")
_STOPPED = Text("已停止。", "stopped.")


def banner(stack: Any, language: Language | None = None) -> str:
    """What ``scanpay run`` prints once everything is up (``stack``: a started Stack),
    in ``language`` (default: the locale's)."""
    from scanpay.cli.language import cli_language
    from scanpay.stack.summary import summary

    return summary(stack, language or cli_language())


@app.callback(invoke_without_command=True)
def run(
    data: Path = typer.Option(
        Path("data"), "--data", help="Where the host's database and the terminal live."
    ),
    host_port: int = typer.Option(8600, "--host-port", help="The host's port on 127.0.0.1."),
    agent_port: int = typer.Option(
        8700, "--agent-port", help="The terminal agent's port on 127.0.0.1."
    ),
    wechat_port: int = typer.Option(
        8610, "--sim-port", "--wechat-port", help="The WeChat Pay simulator's port on 127.0.0.1."
    ),
    alipay_port: int = typer.Option(
        8620, "--alipay-port", help="The Alipay simulator's port on 127.0.0.1."
    ),
    unionpay_port: int = typer.Option(
        8630, "--unionpay-port", help="The UnionPay simulator's port on 127.0.0.1."
    ),
) -> None:
    """Start the networks' simulators, the host, demo data (first run only) and the
    terminal agent; Ctrl-C stops them."""
    from scanpay.cli.language import cli_language
    from scanpay.stack import Stack, StackError
    from scanpay.terminal.errors import TerminalError

    language = cli_language()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    sims = {"wechat": wechat_port, "alipay": alipay_port, "unionpay": unionpay_port}
    stack = Stack(data, host_port=host_port, agent_port=agent_port, sims=sims)
    try:
        typer.echo(_STARTING.format(folder=data.resolve()).get(language))
        try:
            stack.start()
        except (StackError, TerminalError, OSError) as exc:
            typer.echo(_ERROR.format(error=exc).get(language), err=True)
            if isinstance(exc, StackError) and "in use" in str(exc):
                options = (
                    "--host-port / --agent-port / --sim-port / --alipay-port / --unionpay-port"
                )
                typer.echo(_BUSY.format(options=options).get(language), err=True)
            raise typer.Exit(1) from None
        typer.echo(banner(stack, language))
        while not stop.wait(0.5):
            pass
        typer.echo("\n" + _STOPPING.get(language))
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    typer.echo(_STOPPED.get(language))
