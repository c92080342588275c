"""A faithful Alipay open-platform simulator: bar-code pay and what follows it.

One gateway (``/gateway.do``, RSA2-signed requests and replies, public-key or
certificate mode) with ``alipay.trade.pay``, ``.query``, ``.cancel``, ``.refund``,
``.fastpay.refund.query`` and the bill download; asynchronous notifications; the
admin under ``/sim/``. :func:`create_app` builds the ASGI app on a data folder;
``docs/networks.md`` is the manual.
"""

from __future__ import annotations

from scanpay.sim.alipay.app import SimSettings, create_app

__all__ = ["SimSettings", "create_app"]
