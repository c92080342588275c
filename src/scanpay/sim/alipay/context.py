"""What every route of the Alipay simulator works with: settings, state, rules, keys."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.alipay.keys import AlipayKeys
from scanpay.sim.alipay.store import Store
from scanpay.sim.alipay.trades import Network
from scanpay.sim.common.settings import SimSettings as CommonSettings

__all__ = ["Sim", "SimSettings"]


@dataclass(frozen=True)
class SimSettings(CommonSettings):
    """The common settings, and ``fee_bp``: a new app's service fee in basis points
    (60: 0.6 %)."""

    fee_bp: int = 60


@dataclass(frozen=True)
class Sim:
    settings: SimSettings
    store: Store
    network: Network
    keys: AlipayKeys
    # Signs replies that must fail the client's check: made at start, never saved.
    wrong_key: RSAPrivateKey
