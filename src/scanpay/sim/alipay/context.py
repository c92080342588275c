"""What every route of the Alipay simulator works with: settings, state, rules, keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.alipay.keys import AlipayKeys
from scanpay.sim.alipay.store import Store
from scanpay.sim.alipay.trades import Network

__all__ = ["Sim", "SimSettings"]


@dataclass(frozen=True)
class SimSettings:
    """``data_dir``: state and keys; ``code_ttl``: seconds a payment code lives;
    ``fee_bp``: a new app's service fee in basis points (60: 0.6 %);
    ``admin_anywhere``: serve ``/sim/...`` to non-loopback clients too (never by default)."""

    data_dir: Path
    code_ttl: float = 60.0
    fee_bp: int = 60
    admin_anywhere: bool = False


@dataclass(frozen=True)
class Sim:
    settings: SimSettings
    store: Store
    network: Network
    keys: AlipayKeys
    # Signs replies that must fail the client's check: made at start, never saved.
    wrong_key: RSAPrivateKey
