"""The demo the simulator sets up on its first start: a merchant and a customer.

The merchant (direct, replies signed with the WeChat Pay public key) gets its keys
written to ``DATA/demo.json`` (0600), never printed; the customer's wallet holds
1,000.00 CNY and asks for its password above 500.00 CNY (confirmed on
``/sim/pay/{transaction_id}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanpay.sim.common.demo import (
    DEMO_BALANCE,
    DEMO_FILE,
    DEMO_PASSWORD_ABOVE,
    demo_path,
    load_demo,
    save_demo,
)
from scanpay.sim.common.wallets import create_wallet
from scanpay.sim.wechat.accounts import create_merchant, customer_ids, platform_json
from scanpay.sim.wechat.context import Sim

__all__ = ["DEMO_FILE", "Demo", "ensure_demo"]


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


def ensure_demo(sim: Sim) -> Demo | None:
    """The demo merchant and wallet, made if the simulator has no merchant yet. None when
    the simulator has merchants but no demo file (set up by someone else)."""
    path = demo_path(sim.settings)
    created = not sim.store.merchants()
    if created:
        made = create_merchant(sim, name="Demo shop", mode="public_key")
        wallet = create_wallet(
            sim.store,
            sim.network.clock.now(),
            DEMO_BALANCE,
            customer_ids(),
            name="Alice",
            password_above=DEMO_PASSWORD_ABOVE,
        )
        merchant = made.merchant
        save_demo(
            path,
            {
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
            },
        )
    loaded = load_demo(path, sim.store)
    if loaded is None:
        return None
    data, customer = loaded
    return Demo(
        created=created,
        path=path,
        mchid=str(data["mchid"]),
        appid=str(data["appid"]),
        mode=str(data["mode"]),
        public_key_id=str(data["platform"]["public_key_id"]),
        wallet_id=customer.wallet_id,
        wallet_name=customer.wallet_name,
        password_above=customer.password_above,
    )
