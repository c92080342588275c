"""Simulators of the payment networks a scanned code belongs to.

Each is a separate process with its own state that speaks its network's
published protocol, so the host's network adapters are tested against the
wire they will meet in production. ``scanpay sim wechat`` runs the WeChat Pay
one (:mod:`scanpay.sim.wechat`), ``scanpay sim alipay`` the Alipay one
(:mod:`scanpay.sim.alipay`); both are built on :mod:`scanpay.sim.common`, what every
simulator shares (state, wallets, keys, pages, serving). ``docs/networks.md``
describes them.
"""

from __future__ import annotations

__all__: list[str] = []
