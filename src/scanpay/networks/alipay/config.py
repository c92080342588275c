"""The Alipay adapter's settings and timing, and a channel's secrets read and checked.

A channel's accounts: ``app_id`` is the Alipay application (APPID) that signs;
``mch_id`` the PID (2088…) of whoever holds that application. Direct: the
merchant itself, and every trade's ``seller_id``. Service provider: the
provider (ISV), and ``sub_mch_id`` is the merchant's PID (the ``seller_id``)
on whose behalf it calls with the merchant's ``app_auth_token``.

The secrets (``Channel.secrets``)::

    app_private_key     the application's private key (PEM, RSA 2048): signs requests (RSA2)
    alipay_public_key   Alipay's public key (PEM): public-key mode ...
    app_cert            ... or the application's public-key certificate (PEM),
    alipay_cert         Alipay's public-key certificate (PEM) and
    alipay_root_cert    Alipay's root certificates (PEM chain): certificate mode
    app_auth_token      the merchant's authorisation of the provider (service provider only)

With ``alipay_public_key`` the channel is in public-key mode (certificates are
then ignored); without it, all three certificates are needed. Nothing here
logs, and no error repeats a secret's value: only its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.keys import certificate_blocks, pkcs8_pem, rsa_private_key, rsa_public_key_pem
from scanpay.networks.leg import LegRules
from scanpay.networks.options import (
    OPTION_ERRORS,
    Timeouts,
    bad_option,
    bad_secret,
    is_loopback,
    usable_url,
)
from scanpay.networks.port import Channel, ChannelMode

__all__ = [
    "ALIPAY_ERRORS",
    "BEIJING",
    "LEG_RULES",
    "NETWORK",
    "AlipayKeys",
    "AlipaySettings",
    "Timeouts",
    "bad_option",
    "bad_secret",
    "is_loopback",
    "keys_of",
]

NETWORK = "alipay"
BEIJING = timezone(timedelta(hours=8), "CST")
"""Alipay's time zone: its request timestamps, bill days and bill times are Beijing time."""

ALIPAY_ERRORS: dict[str, Text] = dict(OPTION_ERRORS)

LEG_RULES = LegRules(
    deadline=45.0,
    first_query_after=3.0,
    poll_interval=4.0,
    reverse_after=0.0,
    reverse_spacing=(2.0, 2.0, 5.0, 10.0, 30.0, 60.0),
    reverse_max_tries=6,
)
"""Alipay's timing for the leg. Alipay lets a trade be cancelled at once (no wait like
WeChat's 15 s) and asks for the cancel right after the last query; its face-to-face
guide polls every 3-5 s up to the merchant's own limit, and its demo retries a cancel
answered ``retry_flag=Y`` 2 s apart. The 45 s deadline is the host's (the same as
WeChat's, so the terminal's wait does not depend on the wallet). Only CLOSED ends the
leg declined: Alipay has no "payment failed" state (PAY_ERROR) of its own."""

_PID = re.compile(r"2088[0-9]{12}")
_APP_ID = re.compile(r"[0-9]{6,32}")


@dataclass(frozen=True, slots=True)
class AlipaySettings:
    """Where Alipay is (its gateway, ``https://openapi.alipay.com/gateway.do``), how long
    to wait, and the ``notify_url`` a pay request names (none: no notification).

    Plain ``http`` is taken for a loopback host only: the simulator in tests and demos."""

    gateway: str
    timeouts: Timeouts = field(default_factory=Timeouts)
    notify_url: str | None = None

    def __post_init__(self) -> None:
        if not usable_url(self.gateway):
            raise bad_option("gateway")
        if self.notify_url is not None and not usable_url(self.notify_url, any_http=True):
            raise bad_option("notify_url")


@dataclass(frozen=True, slots=True, repr=False)
class AlipayKeys:
    """A channel's keys, loaded and checked: what signs its requests, what verifies
    Alipay's replies, and whom it calls for."""

    app_id: str
    seller_id: str
    app_private_key: str
    alipay_public_key: str | None = None
    app_cert: str | None = None
    alipay_cert: str | None = None
    alipay_root_cert: str | None = None
    app_auth_token: str | None = None

    @property
    def certificate_mode(self) -> bool:
        return self.alipay_public_key is None

    def __repr__(self) -> str:
        mode = "certificate" if self.certificate_mode else "public_key"
        return f"AlipayKeys(app_id={self.app_id!r}, seller_id={self.seller_id!r}, mode={mode!r})"


def _private_key(channel: Channel) -> str:
    return pkcs8_pem(rsa_private_key(channel.secret("app_private_key"), "app_private_key"))


def _certificates(channel: Channel, name: str, *, chain: bool = False) -> str:
    blocks = certificate_blocks(channel.secret(name), name, chain=chain)
    # The package splits a chain at blank lines: give it exactly that form.
    return "\n\n".join(blocks) + "\n"


def keys_of(channel: Channel) -> AlipayKeys:
    """The channel's keys, each loaded once to prove it usable (nothing is sent)."""
    if channel.network != NETWORK:
        raise NetworkError("channel_network_mismatch", field="network")
    if not _APP_ID.fullmatch(channel.app_id):
        raise NetworkError("channel_incomplete", field="app_id")
    token: str | None = None
    if channel.mode is ChannelMode.SERVICE_PROVIDER:
        seller = channel.sub_mch_id or ""
        token = channel.secret("app_auth_token").strip()
        if not token.isprintable() or " " in token:
            raise bad_secret("app_auth_token")
    else:
        seller = channel.mch_id
        if channel.secrets.get("app_auth_token"):
            # A token on a direct channel means the mode was set wrong: the trade would
            # be booked to the provider's own account, not the merchant's.
            raise NetworkError("channel_mode", field="mode")
    if not _PID.fullmatch(channel.mch_id):
        raise NetworkError("channel_incomplete", field="mch_id")
    if not _PID.fullmatch(seller):
        raise NetworkError("channel_incomplete", field="sub_mch_id")
    private_key = _private_key(channel)
    public_key = channel.secrets.get("alipay_public_key")
    if public_key:
        return AlipayKeys(
            channel.app_id,
            seller,
            private_key,
            alipay_public_key=rsa_public_key_pem(public_key, "alipay_public_key"),
            app_auth_token=token,
        )
    return AlipayKeys(
        channel.app_id,
        seller,
        private_key,
        app_cert=_certificates(channel, "app_cert"),
        alipay_cert=_certificates(channel, "alipay_cert"),
        alipay_root_cert=_certificates(channel, "alipay_root_cert", chain=True),
        app_auth_token=token,
    )
