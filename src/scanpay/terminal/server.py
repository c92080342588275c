"""Serving the agent: uvicorn on a loopback port (``scanpay terminal serve``,
``python -m scanpay.terminal``)."""

from __future__ import annotations

from pathlib import Path

from scanpay.terminal.errors import TerminalError

__all__ = ["LOOPBACK", "serve"]

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def serve(
    directory: Path | None = None,
    *,
    port: int = 8700,
    bind: str = "127.0.0.1",
    log_level: str = "warning",
) -> None:
    """Open the agent in ``directory`` and serve its API until interrupted.

    The agent recovers every sale left in doubt before it takes a new one.
    It listens on loopback only: the cashier screen runs on the same machine.
    """
    import uvicorn

    from scanpay.terminal.agent import Agent
    from scanpay.terminal.api import create_app

    if bind not in LOOPBACK:
        raise TerminalError(
            "bad_request", field="bind", reason="the agent listens on loopback only"
        )
    agent = Agent(directory)
    print(f"scanpay terminal agent {agent.config.terminal_id} on http://{bind}:{port}", flush=True)
    uvicorn.run(create_app(agent), host=bind, port=port, log_level=log_level)
