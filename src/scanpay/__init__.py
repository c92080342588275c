"""scanpay: open-source scan-to-pay for the point of sale.

The parts (see README and DESIGN): ``scanpay.codes`` reads and writes payment
codes, ``scanpay.vision`` reads them from camera frames, ``scanpay.terminal`` is
the POS agent, ``scanpay.host`` the acquiring host.
"""

from importlib import metadata as _metadata

try:
    # Written once, in pyproject.toml; a terminal reports it and the host gates on it.
    __version__ = _metadata.version("scanpay")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
