"""The POS terminal agent (``scanpay terminal``).

The folders show the architecture:

- the pure core - no I/O, no clock or randomness unless passed in:
  :mod:`~scanpay.terminal.sale` (the sale state machine),
  :mod:`~scanpay.terminal.refund`, :mod:`~scanpay.terminal.order` (show-to-pay),
  :mod:`~scanpay.terminal.totals` (day-close arithmetic),
  :mod:`~scanpay.terminal.backoff`, :mod:`~scanpay.terminal.texts` (screen texts),
  :mod:`~scanpay.terminal.errors`;
- the adapters around it: :mod:`~scanpay.terminal.journal` (SQLite, written
  before every action), :mod:`~scanpay.terminal.client` (signed httpx client),
  :mod:`~scanpay.terminal.engine` (runs the machines' commands, retries,
  recovery), :mod:`~scanpay.terminal.reversals` (store-and-forward queue),
  :mod:`~scanpay.terminal.operators`, :mod:`~scanpay.terminal.receipts`,
  :mod:`~scanpay.terminal.selftest`, :mod:`~scanpay.terminal.dayclose`,
  :mod:`~scanpay.terminal.config`, :mod:`~scanpay.terminal.api` (the local
  FastAPI service for the cashier screen), :mod:`~scanpay.terminal.demo`;
- :mod:`~scanpay.terminal.agent` wires them together.

Importing this package loads only the pure core.
"""

from scanpay.terminal.errors import TerminalError
from scanpay.terminal.sale import (
    FINAL_STATES,
    IN_DOUBT_STATES,
    Sale,
    SaleError,
    SaleState,
    Step,
    Timings,
    advance,
)

__all__ = [
    "FINAL_STATES",
    "IN_DOUBT_STATES",
    "Sale",
    "SaleError",
    "SaleState",
    "Step",
    "TerminalError",
    "Timings",
    "advance",
]
