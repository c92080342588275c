"""The demo the UnionPay simulator sets up on its first start: a merchant and a customer.

The merchant's signing key and certificate, and the chain and CN replies are checked
with, are written to ``DATA/demo.json`` (0600), never printed; the customer's wallet
holds 1,000.00 CNY and asks for the password above 500.00 CNY (confirmed on
``/sim/pay/{queryId}``).
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
from scanpay.sim.unionpay.accounts import create_merchant, customer_ids, network_json
from scanpay.sim.unionpay.context import Sim

__all__ = ["DEMO_FILE", "Demo", "ensure_demo"]


@dataclass(frozen=True)
class Demo:
    created: bool
    path: Path
    mer_id: str
    wallet_id: int
    wallet_name: str
    password_above: int | None


def ensure_demo(sim: Sim, *, wallet_name: str = "Alice") -> Demo | None:
    """The demo merchant and wallet (its customer ``wallet_name``), made if the
    simulator has no merchant yet. None when it has merchants but no demo file (set up
    by someone else)."""
    path = demo_path(sim.settings)
    created = not sim.store.merchants()
    if created:
        made = create_merchant(sim, name="Demo shop")
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
                "mer_id": made.merchant.mer_id,
                "cert_id": made.merchant.cert_id,
                "sign_key": made.sign_key,
                "sign_cert": made.merchant.sign_cert,
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
        mer_id=str(data["mer_id"]),
        wallet_id=customer.wallet_id,
        wallet_name=customer.wallet_name,
        password_above=customer.password_above,
    )
