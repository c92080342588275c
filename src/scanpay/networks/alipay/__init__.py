"""The Alipay adapter: face-to-face code pay (``alipay.trade.pay``, ``scene=bar_code``)
and the rest of Alipay's OpenAPI behind the network port, signed and verified with
``python-alipay-sdk`` (public-key or certificate mode), sent with ``httpx``.

- :mod:`.adapter`: :class:`AlipayNetwork`, the port's implementation;
- :mod:`.config`: the settings (gateway, timeouts, notify_url), the leg's timing
  (:data:`LEG_RULES`) and the channel's secrets;
- :mod:`.client`: the package used for signing only, and the transport;
- :mod:`.codes`, :mod:`.answers`: Alipay's answers in the port's terms (pure);
- :mod:`.money`, :mod:`.bill`: yuan text and fen; the trade bill read.

The adapter module (and with it the HTTP client and the package) is imported only
when an adapter is made, so the code tables are cheap to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scanpay.networks.alipay.config import (
    ALIPAY_ERRORS,
    LEG_RULES,
    NETWORK,
    AlipaySettings,
    Timeouts,
    bad_option,
)
from scanpay.networks.options import read_options

if TYPE_CHECKING:
    from scanpay.networks.alipay.adapter import AlipayNetwork

__all__ = [
    "ALIPAY_ERRORS",
    "LEG_RULES",
    "NETWORK",
    "AlipayNetwork",
    "AlipaySettings",
    "Timeouts",
    "from_options",
]


def __getattr__(name: str) -> Any:
    if name == "AlipayNetwork":
        from scanpay.networks.alipay.adapter import AlipayNetwork

        return AlipayNetwork
    raise AttributeError(name)


def from_options(options: Mapping[str, str]) -> AlipayNetwork:
    """The adapter from text options (a configuration file's, the command line's):
    ``gateway`` (required: the URL of Alipay's ``gateway.do``), ``notify_url``,
    ``timeout`` (seconds, every call) and ``{pay,query,reverse,refund,statement,connect}_timeout``
    (one kind of call, over ``timeout``). An unknown or unusable option, or no gateway,
    raises ``bad_network_option``."""
    from scanpay.networks.alipay.adapter import AlipayNetwork

    settings, timeouts = read_options(options, ("gateway", "notify_url"))
    if not settings.get("gateway"):
        raise bad_option("gateway")
    return AlipayNetwork(
        AlipaySettings(
            gateway=settings["gateway"],
            timeouts=Timeouts(**timeouts),
            notify_url=settings.get("notify_url") or None,
        )
    )
