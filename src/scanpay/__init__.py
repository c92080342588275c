"""scanpay: open-source scan-to-pay for the point of sale.

The parts (see README and DESIGN): ``scanpay.codes`` reads and writes payment
codes, ``scanpay.vision`` reads them from camera frames, ``scanpay.terminal`` is
the POS agent, ``scanpay.host`` the acquiring host.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
