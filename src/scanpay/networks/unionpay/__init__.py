"""The UnionPay adapter: QR code pay, consumer-presented (C2B: the customer shows a
UnionPay code, ``qrNo``), over ACP 5.1.0 written here on ``httpx`` and
``cryptography`` (no maintained Python package exists).

- :mod:`.adapter`: :class:`UnionPayNetwork`, the port's implementation;
- :mod:`.config`: the settings (gateway, back_url, timeouts, expected_cn), the leg's
  timing (:data:`LEG_RULES`) and the channel's keys;
- :mod:`.acp`: signing and verification (``signMethod=01``), the reply format;
- :mod:`.client`: the transport;
- :mod:`.codes`, :mod:`.answers`: ``respCode`` in the port's terms (pure);
- :mod:`.notify`: the ``backUrl`` notification verified and read (pure);
- :mod:`.notices`: the notification as the port's ``Notifying`` reads it;
- :mod:`.money`, :mod:`.bill`: ``txnAmt`` and fen; the settlement file read.

The adapter module (and with it the HTTP client) is imported only when an adapter is
made, so the code tables are cheap to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scanpay.networks.options import read_options
from scanpay.networks.unionpay.config import (
    LEG_RULES,
    NETWORK,
    UNIONPAY_CN,
    UNIONPAY_ERRORS,
    Timeouts,
    UnionPaySettings,
    bad_option,
)

if TYPE_CHECKING:
    from scanpay.networks.unionpay.adapter import UnionPayNetwork

__all__ = [
    "LEG_RULES",
    "NETWORK",
    "UNIONPAY_CN",
    "UNIONPAY_ERRORS",
    "Timeouts",
    "UnionPayNetwork",
    "UnionPaySettings",
    "from_options",
]


def __getattr__(name: str) -> Any:
    if name == "UnionPayNetwork":
        from scanpay.networks.unionpay.adapter import UnionPayNetwork

        return UnionPayNetwork
    raise AttributeError(name)


def from_options(options: Mapping[str, str]) -> UnionPayNetwork:
    """The adapter from text options: ``gateway`` (required: the gateway's origin,
    ``https://gateway.95516.com``), ``back_url`` (required: ACP names one in every
    transaction), ``expected_cn`` (the entity UnionPay's signing certificate names;
    default 中国银联股份有限公司), ``timeout`` (seconds, every call) and
    ``{pay,query,reverse,refund,statement,connect}_timeout``. An unknown or unusable
    option, or a required one missing, raises ``bad_network_option``."""
    from scanpay.networks.unionpay.adapter import UnionPayNetwork

    settings, timeouts = read_options(options, ("gateway", "back_url", "expected_cn"))
    for required in ("gateway", "back_url"):
        if not settings.get(required):
            raise bad_option(required)
    return UnionPayNetwork(
        UnionPaySettings(
            gateway=settings["gateway"],
            back_url=settings["back_url"],
            timeouts=Timeouts(**timeouts),
            expected_cn=settings.get("expected_cn", UNIONPAY_CN),
        )
    )
