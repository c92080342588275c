"""The WeChat Pay adapter: API v3 code pay (through ``wechatpayv3``) and API v2 micropay
(XML by hand), chosen per channel, behind the network port.

- :mod:`.adapter`: :class:`WeChatPayNetwork`, the port's implementation;
- :mod:`.config`: the settings (gateway, timeouts) and the channel's secrets;
- :mod:`.v3client`: the thin wrap of ``wechatpayv3`` (transport, verification);
- :mod:`.v3`, :mod:`.v2`, :mod:`.v2wire`: each API's calls and their answers;
- :mod:`.answers`, :mod:`.bill`: reverse and refund codes; the trade bill read;
- :mod:`.notices`: refund callbacks, verified and decrypted.

``docs/networks.md`` ("The adapter") has the channel's secrets and how answers map.
"""

from __future__ import annotations

from collections.abc import Mapping

from scanpay.networks.options import read_options
from scanpay.networks.wechat.adapter import WeChatPayNetwork
from scanpay.networks.wechat.config import (
    NETWORK,
    WECHAT_ERRORS,
    Timeouts,
    WeChatSettings,
)

__all__ = [
    "NETWORK",
    "WECHAT_ERRORS",
    "Timeouts",
    "WeChatPayNetwork",
    "WeChatSettings",
    "from_options",
]


def from_options(options: Mapping[str, str]) -> WeChatPayNetwork:
    """The adapter from text options (a configuration file's, the command line's):
    ``gateway``, ``device_ip``, ``notify_url`` (where the host takes callbacks), and
    ``{pay,query,reverse,refund,statement,connect}_timeout`` in seconds. An unknown or
    unusable option raises ``bad_network_option``."""
    settings, timeouts = read_options(options, ("gateway", "device_ip", "notify_url"), every=False)
    return WeChatPayNetwork(WeChatSettings(timeouts=Timeouts(**timeouts), **settings))
