"""A faithful WeChat Pay simulator: API v3 code pay (JSON, RSA) and API v2 micropay (XML).

WeChat Pay v3 has no sandbox, so this is what the host's WeChat adapter is
proven against. :func:`create_app` builds the ASGI app on a data folder (its
SQLite state and its keys, made on first start); ``docs/networks.md`` is the
manual.
"""

from __future__ import annotations

from scanpay.sim.wechat.app import SimSettings, create_app

__all__ = ["SimSettings", "create_app"]
