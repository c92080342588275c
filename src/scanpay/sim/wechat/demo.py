"""The demo the simulator sets up on its first start: a merchant and a customer.

The merchant (direct, replies signed with the WeChat Pay public key) gets its keys
written to ``DATA/demo.json`` (0600), never printed; the customer's wallet holds
1,000.00 CNY and asks for its password above 500.00 CNY (confirmed on
``/sim/pay/{transaction_id}``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.sim.wechat.accounts import create_merchant, create_wallet, platform_json
from scanpay.sim.wechat.context import Sim

__all__ = ["DEMO_FILE", "Demo", "ensure_demo"]

DEMO_FILE = "demo.json"
_BALANCE = 100_000
_PASSWORD_ABOVE = 50_000


@dataclass(frozen=True)
class Demo:
    created: bool
    path: Path
    mchid: str
    appid: str
    mode: str
    public_key_id: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def ensure_demo(sim: Sim) -> Demo | None:
    """The demo merchant and wallet, made if the simulator has no merchant yet. None when
    the simulator has merchants but no demo file (set up by someone else)."""
    path = Path(sim.settings.data_dir) / DEMO_FILE
    created = False
    if not sim.store.merchants():
        made = create_merchant(sim, name="Demo shop", mode="public_key")
        wallet = create_wallet(
            sim, _BALANCE, name="Alice", password_above=_PASSWORD_ABOVE, password_seconds=None
        )
        merchant = made.merchant
        data: dict[str, Any] = {
            "mchid": merchant.mchid,
            "appid": merchant.appid,
            "mode": merchant.mode,
            "api_v2_key": merchant.v2_key,
            "api_v3_key": merchant.v3_key,
            "client_serial": merchant.client_serial,
            "client_private_key": made.client_private_key,
            "client_certificate": made.client_certificate,
            "platform": platform_json(sim),
            "wallet_id": wallet.id,
        }
        _write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        created = True
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    wallet_found = sim.store.wallet(int(data["wallet_id"]))
    return Demo(
        created=created,
        path=path,
        mchid=str(data["mchid"]),
        appid=str(data["appid"]),
        mode=str(data["mode"]),
        public_key_id=str(data["platform"]["public_key_id"]),
        wallet_id=int(data["wallet_id"]),
        wallet_name=wallet_found.name if wallet_found else "?",
        password_above=wallet_found.password_above if wallet_found else None,
    )
