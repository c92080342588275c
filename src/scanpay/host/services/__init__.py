"""The host's services: one module per concept; transactions and row locks live here.

- :mod:`.merchants`, :mod:`.terminals`, :mod:`.auth` (request signatures and nonces),
- :mod:`.wallets` (the built-in issuer), :mod:`.payments`, :mod:`.ledger`.

Each function takes a :class:`~scanpay.host.services.context.HostContext`
and opens its own transaction, except the ledger's ``post`` and the wallet's
``authorise_code``, which run inside their caller's.
"""

from scanpay.host.services.context import HostContext

__all__ = ["HostContext"]
