"""The stack's terminal: activated on the first start, told where the host is on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanpay.stack.loopback import TlsPair

__all__ = ["activate_demo_terminal", "point_terminal_at"]


def activate_demo_terminal(
    host_url: str,
    activation_code: str,
    data_dir: Path,
    terminal_dir: Path,
    *,
    settings: dict[str, Any],
    tls: TlsPair | None,
) -> None:
    """Activate the terminal in ``terminal_dir`` at the host: a browser camera and a
    printer writing to ``data_dir/receipts``, then ``settings``; over TLS it trusts
    ``tls``' certificate, pinned."""
    from scanpay.terminal.agent import activate_terminal

    receipts = data_dir / "receipts"
    receipts.mkdir(exist_ok=True)
    chosen: dict[str, Any] = {
        "camera": "browser",
        "printer": {
            "kind": "file",
            "path": str(receipts / "printer.bin"),
            "width": 58,
            "encoding": "gb18030",
            "language": "zh-CN",
            "html_dir": str(receipts),
        },
        **settings,
    }
    activate_terminal(
        host_url,
        activation_code,
        directory=terminal_dir,
        settings=chosen,
        ca_file=tls.certfile if tls else None,
        pin_sha256=tls.fingerprint_sha256 if tls else None,
    )


def point_terminal_at(terminal_dir: Path, host_url: str) -> None:
    """The host may listen on another port than last time: tell the terminal."""
    from scanpay.terminal.config import load_config, save_config

    config = load_config(terminal_dir)
    if config.host_url != host_url:
        save_config(terminal_dir, config.with_settings(host_url=host_url))
