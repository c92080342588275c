"""Simulators of the payment networks a scanned code belongs to.

Each is a separate process with its own state that speaks its network's
published protocol, so the host's network adapters are tested against the
wire they will meet in production. ``scanpay sim wechat`` runs the WeChat Pay
one (:mod:`scanpay.sim.wechat`); ``docs/networks.md`` describes it.
"""

from __future__ import annotations

__all__: list[str] = []
