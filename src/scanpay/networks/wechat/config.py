"""The WeChat Pay adapter's settings, and a channel's secrets read and checked.

Which API a channel speaks and the keys it speaks it with are the channel's
secrets (``Channel.secrets``, sealed at rest by the host). Their names::

    api                       v3 or v2 (absent: v3 when the channel has private_key, else v2)
    -- API v3 ------------------------------------------------------------------------
    private_key               the merchant's API client private key (PEM)
    cert_serial               the serial of that key's certificate (hex)
    api_v3_key                the APIv3 key (32 characters)
    wechatpay_public_key      the WeChat Pay public key (PEM) ...
    wechatpay_public_key_id   ... and its id, PUB_KEY_ID_...: public-key mode
    platform_certificate      optional, certificate mode: a platform certificate (PEM) to
                              start from; without it the certificates are fetched
                              (GET /v3/certificates, sealed with the APIv3 key) when a
                              reply first names one
    -- API v2 ------------------------------------------------------------------------
    api_key                   the API v2 key (32 characters)
    sign_type                 HMAC-SHA256 (default) or MD5
    client_cert, client_key   the API client certificate and its key (PEM), for the TLS
                              of /secapi/ (reverse, refund); required unless the
                              gateway is a loopback simulator over plain HTTP

Without a public key the adapter verifies the network in certificate mode; with
both it takes either (a reply's ``Wechatpay-Serial`` says which), as during
WeChat Pay's move from certificates to the public key. A v2 channel that wants
statements needs the v3 secrets too: the bill is fetched with API v3.

Nothing here logs, and no error repeats a secret's value: only its name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.keys import pkcs8_pem, rsa_private_key, rsa_public_key_pem
from scanpay.networks.options import (
    OPTION_ERRORS,
    Timeouts,
    bad_option,
    bad_secret,
    is_loopback,
    usable_url,
)
from scanpay.networks.port import Channel

__all__ = [
    "API_V2",
    "API_V3",
    "NETWORK",
    "SIGN_TYPES",
    "WECHAT_ERRORS",
    "Timeouts",
    "V2Keys",
    "V3Keys",
    "WeChatSettings",
    "api_of",
    "bad_option",
    "bad_secret",
    "v2_keys",
    "v3_keys",
]

NETWORK = "wechat_pay"
API_V3 = "v3"
API_V2 = "v2"
SIGN_TYPES = ("HMAC-SHA256", "MD5")
REAL_GATEWAY = "https://api.mch.weixin.qq.com"

# Codes of this adapter's configuration errors (NetworkError codes, stable).
WECHAT_ERRORS: dict[str, Text] = dict(OPTION_ERRORS)

_KEY_32 = re.compile(r"[A-Za-z0-9]{32}")
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")
_PUB_KEY_ID = re.compile(r"PUB_KEY_ID_[0-9A-Za-z_]{1,64}")


@dataclass(frozen=True, slots=True)
class WeChatSettings:
    """Where WeChat Pay is and how long to wait for it.

    ``gateway`` serves both APIs (real: ``https://api.mch.weixin.qq.com``). Plain
    ``http`` is taken for a loopback host only: the simulator in tests and demos.
    ``device_ip`` is sent as the till's address (v2 ``spbill_create_ip``, v3
    ``scene_info.device_ip``) when a pay request names none. ``notify_url``: where the
    host takes callbacks (``…/networks/wechat_pay/notify``); a v3 refund then names
    it with ``/`` and the channel's merchant id after it (:meth:`callback_url`), since
    a callback names its merchant only inside what that merchant's key seals. The
    same rule as the gateway's: https, or http to a loopback host; no query."""

    gateway: str = REAL_GATEWAY
    timeouts: Timeouts = field(default_factory=Timeouts)
    device_ip: str = "127.0.0.1"
    notify_url: str | None = None

    def __post_init__(self) -> None:
        gateway = self.gateway.rstrip("/")
        parts = urlsplit(gateway)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path:
            raise bad_option("gateway")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise bad_option("gateway")
        object.__setattr__(self, "gateway", gateway)
        try:
            ipaddress.ip_address(self.device_ip)
        except ValueError:
            raise bad_option("device_ip") from None
        if self.notify_url is not None:
            notify_url = self.notify_url.strip().rstrip("/")
            if not usable_url(notify_url):
                raise bad_option("notify_url")
            object.__setattr__(self, "notify_url", notify_url)

    @property
    def plain_http(self) -> bool:
        return self.gateway.startswith("http:")

    def callback_url(self, channel: Channel) -> str | None:
        """The URL ``channel``'s callbacks come to: ``notify_url/<merchant id>`` (the
        sub-merchant's for a service provider's channel); None without ``notify_url``."""
        if self.notify_url is None:
            return None
        return f"{self.notify_url}/{channel.sub_mch_id or channel.mch_id}"


def api_of(channel: Channel) -> str:
    """The API the channel speaks: its ``api`` secret, else v3 with a private key, else v2."""
    if channel.network != NETWORK:
        raise NetworkError("channel_network_mismatch", field="network")
    chosen = channel.secrets.get("api")
    if chosen is None:
        if channel.secrets.get("private_key"):
            return API_V3
        if channel.secrets.get("api_key"):
            return API_V2
        raise NetworkError("channel_secret_missing", field="api")
    chosen = chosen.strip().lower()
    if chosen not in (API_V3, API_V2):
        raise bad_secret("api")
    return chosen


@dataclass(frozen=True, slots=True, repr=False)
class V3Keys:
    private_key: str
    cert_serial: str
    api_v3_key: str
    public_key: str | None = None
    public_key_id: str | None = None
    platform_certificate: str | None = None

    def __repr__(self) -> str:
        mode = "public_key" if self.public_key else "certificate"
        return f"V3Keys(cert_serial={self.cert_serial!r}, mode={mode!r})"


@dataclass(frozen=True, slots=True, repr=False)
class V2Keys:
    api_key: str
    sign_type: str
    client_cert: str | None = None
    client_key: str | None = None

    def __repr__(self) -> str:
        return f"V2Keys(sign_type={self.sign_type!r}, client_cert={self.client_cert is not None})"


def v3_keys(channel: Channel) -> V3Keys:
    """The channel's API v3 keys, each loaded once to prove it usable (nothing is sent)."""
    # wechatpayv3 reads exactly "-----BEGIN PRIVATE KEY-----\n" (PKCS#8) and would wrap
    # any other PEM (PKCS#1, CRLF lines) in a second header: hand it that form.
    private_key = pkcs8_pem(rsa_private_key(channel.secret("private_key"), "private_key"))
    serial = channel.secret("cert_serial").strip()
    if not _SERIAL.fullmatch(serial):
        raise bad_secret("cert_serial")
    api_v3_key = channel.secret("api_v3_key")
    if not _KEY_32.fullmatch(api_v3_key):
        raise bad_secret("api_v3_key")
    public_key = channel.secrets.get("wechatpay_public_key") or None
    public_key_id = channel.secrets.get("wechatpay_public_key_id") or None
    if public_key or public_key_id:
        # One without the other cannot verify anything: the id names the key.
        if not public_key:
            raise NetworkError("channel_secret_missing", field="wechatpay_public_key")
        if not public_key_id:
            raise NetworkError("channel_secret_missing", field="wechatpay_public_key_id")
        public_key = rsa_public_key_pem(public_key, "wechatpay_public_key")
        public_key_id = public_key_id.strip()
        if not _PUB_KEY_ID.fullmatch(public_key_id):
            raise bad_secret("wechatpay_public_key_id")
    certificate = channel.secrets.get("platform_certificate") or None
    if certificate is not None:
        try:
            x509.load_pem_x509_certificate(certificate.encode())
        except ValueError:
            raise bad_secret("platform_certificate") from None
    return V3Keys(private_key, serial, api_v3_key, public_key, public_key_id, certificate)


def v2_keys(channel: Channel, settings: WeChatSettings) -> V2Keys:
    """The channel's API v2 keys. A client certificate is required over TLS: without it
    the network refuses /secapi/ (reverse, refund), and a payment that could not be
    reversed must not be made."""
    api_key = channel.secret("api_key")
    if not _KEY_32.fullmatch(api_key):
        raise bad_secret("api_key")
    sign_type = (channel.secrets.get("sign_type") or SIGN_TYPES[0]).strip().upper()
    if sign_type not in SIGN_TYPES:
        raise bad_secret("sign_type")
    cert = channel.secrets.get("client_cert") or None
    key = channel.secrets.get("client_key") or None
    if cert or key or not settings.plain_http:
        cert = channel.secret("client_cert")
        key = channel.secret("client_key")
        try:
            x509.load_pem_x509_certificate(cert.encode())
        except ValueError:
            raise bad_secret("client_cert") from None
        try:
            serialization.load_pem_private_key(key.encode(), password=None)
        except (ValueError, TypeError):
            raise bad_secret("client_key") from None
    return V2Keys(api_key, sign_type, cert, key)
