"""The demo file a simulator writes on its first start, and the demo customer in it.

``DATA/demo.json`` (0600: it holds the demo merchant's private key, never printed)
keeps what a client needs of the demo merchant, and the demo wallet's id: a customer
whose wallet holds 1,000.00 CNY and asks for the password above 500.00 CNY.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.sim.common.keys import write_private
from scanpay.sim.common.settings import SimSettings
from scanpay.sim.common.store import SimStore

__all__ = [
    "DEMO_BALANCE",
    "DEMO_FILE",
    "DEMO_PASSWORD_ABOVE",
    "DemoWallet",
    "demo_path",
    "load_demo",
    "save_demo",
]

DEMO_FILE = "demo.json"
DEMO_BALANCE = 100_000
DEMO_PASSWORD_ABOVE = 50_000


@dataclass(frozen=True)
class DemoWallet:
    """The demo customer as the state has it now."""

    wallet_id: int
    wallet_name: str
    password_above: int | None


def demo_path(settings: SimSettings) -> Path:
    return Path(settings.data_dir) / DEMO_FILE


def save_demo(path: Path, data: dict[str, Any]) -> None:
    """Write the demo file (owner-only from the start)."""
    write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_demo(path: Path, store: SimStore[Any, Any]) -> tuple[dict[str, Any], DemoWallet] | None:
    """The demo file's data and its wallet; None when there is no demo file."""
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    wallet_id = int(data["wallet_id"])
    found = store.wallet(wallet_id)
    return data, DemoWallet(
        wallet_id=wallet_id,
        wallet_name=found.name if found else "?",
        password_above=found.password_above if found else None,
    )
