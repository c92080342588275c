"""The demo the Alipay simulator sets up on its first start: an app and a buyer.

The app (public-key mode) gets its keys written to ``DATA/demo.json`` (0600), never
printed; the buyer's wallet holds 1,000.00 CNY and asks for the password above
500.00 CNY (confirmed on ``/sim/pay/{trade_no}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanpay.sim.alipay.accounts import create_app_account, customer_ids, network_json
from scanpay.sim.alipay.context import Sim
from scanpay.sim.common.demo import (
    DEMO_BALANCE,
    DEMO_FILE,
    DEMO_PASSWORD_ABOVE,
    demo_path,
    load_demo,
    save_demo,
)
from scanpay.sim.common.wallets import create_wallet

__all__ = ["DEMO_FILE", "Demo", "ensure_demo"]


@dataclass(frozen=True)
class Demo:
    created: bool
    path: Path
    app_id: str
    mode: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def ensure_demo(sim: Sim, *, wallet_name: str = "Alice") -> Demo | None:
    """The demo app and wallet (its customer ``wallet_name``), made if the simulator has
    no app yet. None when it has apps but no demo file (set up by someone else)."""
    path = demo_path(sim.settings)
    created = not sim.store.apps()
    if created:
        made = create_app_account(sim, name="Demo shop", mode="public_key")
        wallet = create_wallet(
            sim.store,
            sim.network.clock.now(),
            DEMO_BALANCE,
            customer_ids(),
            name=wallet_name,
            password_above=DEMO_PASSWORD_ABOVE,
        )
        save_demo(
            path,
            {
                "app_id": made.app.app_id,
                "mode": made.app.mode,
                "app_private_key": made.app_private_key,
                "app_cert": made.app_cert,
                **network_json(sim),
                "wallet_id": wallet.id,
            },
        )
    loaded = load_demo(path, sim.store)
    if loaded is None:
        return None
    data, customer = loaded
    return Demo(
        created=created,
        path=path,
        app_id=str(data["app_id"]),
        mode=str(data["mode"]),
        wallet_id=customer.wallet_id,
        wallet_name=customer.wallet_name,
        password_above=customer.password_above,
    )
