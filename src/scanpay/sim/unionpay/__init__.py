"""A UnionPay ACP 5.1.0 simulator: QR code pay, consumer-presented (C2B), and what
follows it.

ACP's gateway (``/gateway/api/backTransReq.do``: consume, cancel, refund;
``queryTrans.do``; ``fileTransReq.do``: the settlement file), requests signed by the
merchant's certificate (issued here under the simulator's own chain) and replies by
the simulator's, ``backUrl`` notifications, and the admin under ``/sim/``.
:func:`create_app` builds the ASGI app on a data folder; ``docs/networks.md`` is the
manual.
"""

from __future__ import annotations

from scanpay.sim.unionpay.app import SimSettings, create_app

__all__ = ["SimSettings", "create_app"]
