"""What every route of the UnionPay simulator works with: settings, state, rules, keys."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.common.settings import SimSettings as CommonSettings
from scanpay.sim.unionpay.keys import UnionPayKeys
from scanpay.sim.unionpay.orders import Network
from scanpay.sim.unionpay.store import Store

__all__ = ["SIM_CN", "Sim", "SimSettings"]

SIM_CN = "scanpay UnionPay simulator"
"""The entity the simulator's signing certificate names (never UnionPay's own: a
client configured for the real network does not believe the simulator)."""


@dataclass(frozen=True)
class SimSettings(CommonSettings):
    """The common settings, ``expected_cn``: what the signing certificate's CN names
    (a client's ``expected_cn``), and ``pay_deadline``: seconds a consume waits for the
    customer's password before it closes."""

    expected_cn: str = SIM_CN
    pay_deadline: float = 300.0


@dataclass(frozen=True)
class Sim:
    settings: SimSettings
    store: Store
    network: Network
    keys: UnionPayKeys
    # Signs replies that must fail the client's check: made at start, never saved.
    wrong_key: RSAPrivateKey
