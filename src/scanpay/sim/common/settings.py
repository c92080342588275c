"""What every simulator is started with; a network adds its own settings by subclassing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SimSettings"]


@dataclass(frozen=True)
class SimSettings:
    """``data_dir``: the state and keys; ``code_ttl``: seconds a payment code lives;
    ``admin_anywhere``: serve ``/sim/...`` to non-loopback clients too (never by default)."""

    data_dir: Path
    code_ttl: float = 60.0
    admin_anywhere: bool = False
