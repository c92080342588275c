"""The demo the Alipay simulator sets up on its first start: an app and a buyer.

The app (public-key mode) gets its keys written to ``DATA/demo.json`` (0600), never
printed; the buyer's wallet holds 1,000.00 CNY and asks for the password above
500.00 CNY (confirmed on ``/sim/pay/{trade_no}``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.sim.alipay.accounts import create_app_account, create_wallet, network_json
from scanpay.sim.alipay.context import Sim

__all__ = ["DEMO_FILE", "Demo", "ensure_demo"]

DEMO_FILE = "demo.json"
_BALANCE = 100_000
_PASSWORD_ABOVE = 50_000


@dataclass(frozen=True)
class Demo:
    created: bool
    path: Path
    app_id: str
    mode: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_demo(sim: Sim) -> Demo | None:
    """The demo app and wallet, made if the simulator has no app yet. None when it has
    apps but no demo file (set up by someone else)."""
    path = Path(sim.settings.data_dir) / DEMO_FILE
    created = False
    if not sim.store.apps():
        made = create_app_account(sim, name="Demo shop", mode="public_key")
        wallet = create_wallet(sim, _BALANCE, name="Alice", password_above=_PASSWORD_ABOVE)
        data: dict[str, Any] = {
            "app_id": made.app.app_id,
            "mode": made.app.mode,
            "app_private_key": made.app_private_key,
            "app_cert": made.app_cert,
            **network_json(sim),
            "wallet_id": wallet.id,
        }
        _write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        created = True
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    found = sim.store.wallet(int(data["wallet_id"]))
    return Demo(
        created=created,
        path=path,
        app_id=str(data["app_id"]),
        mode=str(data["mode"]),
        wallet_id=int(data["wallet_id"]),
        wallet_name=found.name if found else "?",
        password_above=found.password_above if found else None,
    )
