"""What every network simulator is built on, with no network's names in it.

- :mod:`~scanpay.sim.common.errors`: :class:`SimError`, typed and in both languages;
- :mod:`~scanpay.sim.common.settings`: the settings every simulator starts with;
- :mod:`~scanpay.sim.common.clock`: the clock and Beijing time's forms;
- :mod:`~scanpay.sim.common.crypto`: SHA256-with-RSA, code hashes, random ids;
- :mod:`~scanpay.sim.common.keys`: RSA keys, PEM text, the 0600 keys folder;
- :mod:`~scanpay.sim.common.money`: fen shown as yuan;
- :mod:`~scanpay.sim.common.store`: the SQLite state's base (transactions, rows,
  wallets, codes, the books);
- :mod:`~scanpay.sim.common.wallets`: customers' wallets;
- :mod:`~scanpay.sim.common.admin`: the wallet and outcome admin routes;
- :mod:`~scanpay.sim.common.pages`: the pages' frame, wallets, codes, password step;
- :mod:`~scanpay.sim.common.serving`: the data folder, the app, the loopback guard;
- :mod:`~scanpay.sim.common.delivery`: replies sent late or never;
- :mod:`~scanpay.sim.common.urls`: where a notification may be sent (loopback only);
- :mod:`~scanpay.sim.common.notify`: notifications posted, retried on the clock;
- :mod:`~scanpay.sim.common.demo`: the demo file and its customer.
"""

from __future__ import annotations

__all__: list[str] = []
