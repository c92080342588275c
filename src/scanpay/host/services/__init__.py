"""The host's services: one module per concept; transactions and row locks live here.

- :mod:`.merchants`, :mod:`.terminals`, :mod:`.auth` (request signatures and nonces),
- :mod:`.wallets` (the built-in issuer's accounts and codes), :mod:`.payments`,
  :mod:`.payment_routing` (each code to its issuer), :mod:`.builtin_wallet` (the
  built-in wallet behind the network port), :mod:`.network_legs` and
  :mod:`.leg_sweeper` (remote networks), :mod:`.channels`, :mod:`.ledger`,
- :mod:`.refunds`, :mod:`.orders` (merchant-presented, and the wallet's side),
  :mod:`.stickers` (whom a merchant QR pays),
- :mod:`.risk` (limits and the rules' history), :mod:`.audit` (the hash-chained trail),
- :mod:`.settlement`, :mod:`.batches` (day close), :mod:`.operations` (readiness,
  sweep, backup), :mod:`.secrets` (the master key).

Each function takes a :class:`~scanpay.host.services.context.HostContext`
and opens its own transaction, except the ledger's ``post``, the wallet's
``authorise_code``, ``audit.record`` and ``risk.evaluate``, which run inside
their caller's.
"""

from scanpay.host.services.context import HostContext

__all__ = ["HostContext"]
