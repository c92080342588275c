"""Setting the network up: merchants (their signing key and certificate, issued here
as UnionPay through CFCA issues them), customers' card numbers, and how rows show.

A new merchant's signing key is made here and handed back once with its certificate
(issued under the simulator's intermediate); the simulator keeps only the
certificate, found by its serial (``certId``) when a request comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanpay.i18n import Text
from scanpay.sim.common.crypto import random_digits
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.keys import certificate_pem, new_key, private_pem
from scanpay.sim.common.views import row_json
from scanpay.sim.unionpay.context import Sim
from scanpay.sim.unionpay.keys import issue_merchant_cert
from scanpay.sim.unionpay.store import Merchant, Order

__all__ = [
    "NewMerchant",
    "create_merchant",
    "customer_ids",
    "find_merchant",
    "merchant_json",
    "network_json",
    "order_json",
]


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    sign_key: str  # made here: handed back once, never kept


def create_merchant(sim: Sim, *, mer_id: str | None = None, name: str | None = None) -> NewMerchant:
    """A merchant with a fresh signing key and certificate."""
    if mer_id is not None and sim.store.merchant(mer_id) is not None:
        raise SimError(
            "sim_merchant_exists",
            Text(f"商户 {mer_id} 已存在", f"merchant {mer_id} exists"),
            409,
            field="mer_id",
        )
    while mer_id is None:
        candidate = "777" + random_digits(12)
        if sim.store.merchant(candidate) is None:
            mer_id = candidate
    now = sim.network.clock.now()
    key = new_key()
    cert = issue_merchant_cert(sim.keys, key.public_key(), mer_id, now)
    merchant = Merchant(
        mer_id=mer_id,
        name=name or "Demo shop",
        cert_id=str(cert.serial_number),
        sign_cert=certificate_pem(cert),
        balance=0,
        created_at=now,
    )
    sim.store.add_merchant(merchant)
    return NewMerchant(merchant, private_pem(key))


def find_merchant(sim: Sim, mer_id: str) -> Merchant:
    merchant = sim.store.merchant(mer_id)
    if merchant is None:
        raise SimError(
            "sim_unknown_merchant", Text(f"没有商户 {mer_id}", f"no merchant {mer_id}"), 404
        )
    return merchant


def customer_ids() -> dict[str, str]:
    """A new customer's card number (``accNo``), as a wallet row keeps it."""
    return {"acc_no": "621700" + random_digits(13)}


def network_json(sim: Sim) -> dict[str, Any]:
    """What a client needs of the network: the chain its replies are checked against,
    and the entity its signing certificate names."""
    return {
        "root_cert": sim.keys.root_pem,
        "middle_cert": sim.keys.middle_pem,
        "expected_cn": sim.settings.expected_cn,
    }


def merchant_json(merchant: Merchant) -> dict[str, Any]:
    return row_json(merchant, "mer_id name cert_id balance")


def order_json(order: Order) -> dict[str, Any]:
    """An order as the network's own books show it."""
    return row_json(
        order,
        "query_id mer_id order_id txn_time txn_type amount orig_query_id wallet_id state "
        "moved refunded cancelled outcome created_at done_at",
    )
