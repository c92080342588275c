"""What every route of the simulator works with: its settings, state, rules and keys."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.common.settings import SimSettings
from scanpay.sim.wechat.keys import NetworkKeys
from scanpay.sim.wechat.payments import Network
from scanpay.sim.wechat.store import Store

__all__ = ["Sim", "SimSettings"]


@dataclass(frozen=True)
class Sim:
    settings: SimSettings
    store: Store
    network: Network
    keys: NetworkKeys
    # Signs replies that must fail the client's check (WRONG_SIGNATURE, a merchant's
    # wrong_key switch): made at start, never saved.
    wrong_key: RSAPrivateKey
