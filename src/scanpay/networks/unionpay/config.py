"""The UnionPay adapter's settings and timing, and a channel's keys read and checked.

A channel's accounts: ``mch_id`` is the merchant's ACP ``merId`` (15 letters or
digits); ``app_id`` must repeat it (UnionPay has no application id, and the port
wants one non-empty: one value for both leaves nothing to mix up). Only direct
channels: acquirer access (``accessType=1``) is not built.

The secrets (``Channel.secrets``)::

    sign_key      the merchant's signing key (PEM, PKCS#8 RSA): signs requests
    sign_cert     the merchant's signing certificate (PEM): its serial is ``certId``
    root_cert     UnionPay's root certificate (PEM) and
    middle_cert   its intermediate (PEM): what the certificate a reply carries
                  (``signPubKeyCert``) must chain to

Nothing here logs, and no error repeats a secret's value: only its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.keys import certificate_blocks, rsa_private_key
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
    "BEIJING",
    "LEG_RULES",
    "NETWORK",
    "UNIONPAY_CN",
    "UNIONPAY_ERRORS",
    "Timeouts",
    "UnionPayKeys",
    "UnionPaySettings",
    "bad_option",
    "bad_secret",
    "is_loopback",
    "keys_of",
]

NETWORK = "unionpay"
BEIJING = timezone(timedelta(hours=8), "CST")
"""UnionPay's time zone: ``txnTime``, ``settleDate`` and its files are Beijing time."""
UNIONPAY_CN = "中国银联股份有限公司"
"""The entity UnionPay's signing certificate names (the third ``@`` part of its CN)."""

UNIONPAY_ERRORS: dict[str, Text] = {
    **OPTION_ERRORS,
    "txn_time_unknown": Text(
        "不知道该订单的发送时间（txnTime），无法向银联查询",
        "the order's sending time (txnTime) is not known: UnionPay cannot be asked",
    ),
}

LEG_RULES = LegRules(
    deadline=45.0,
    first_query_after=3.0,
    poll_interval=4.0,
    reverse_after=0.0,
    reverse_spacing=(2.0, 5.0, 10.0, 30.0, 60.0),
    reverse_max_tries=6,
)
"""UnionPay's timing for the leg. A C2B consume answered 00 is only accepted: its
result comes by ``backUrl`` or by query, so the first query comes soon (3 s) and
then every 4 s. A cancel (``txnType=31``) is allowed at once and the same day only.
The 45 s deadline is the host's, as for the other networks. CLOSED and PAY_ERROR
(a consume UnionPay answered with a failure code) end the leg declined."""

_MER_ID = re.compile(r"[0-9A-Za-z]{15}")


@dataclass(frozen=True, slots=True)
class UnionPaySettings:
    """Where UnionPay is (the gateway's origin, ``https://gateway.95516.com``: the
    adapter adds ``/gateway/api/…``), the ``backUrl`` every transaction names (ACP
    requires one), how long to wait, and the CN part UnionPay's signing certificate
    must name (another for a simulator). Plain ``http`` only for a loopback gateway."""

    gateway: str
    back_url: str
    timeouts: Timeouts = field(default_factory=Timeouts)
    expected_cn: str = UNIONPAY_CN

    def __post_init__(self) -> None:
        if not usable_url(self.gateway):
            raise bad_option("gateway")
        if not usable_url(self.back_url, any_http=True):
            raise bad_option("back_url")
        if not self.expected_cn.strip():
            raise bad_option("expected_cn")

    def url(self, path: str) -> str:
        """The gateway's ``path`` (``/gateway/api/backTransReq.do``)."""
        return self.gateway.rstrip("/") + path


@dataclass(frozen=True, slots=True, repr=False)
class UnionPayKeys:
    """A channel's keys, loaded and checked: what signs its requests (and the
    ``certId`` that names it), what UnionPay's certificates must chain to."""

    mer_id: str
    sign_key: RSAPrivateKey
    cert_id: str
    root: x509.Certificate
    middle: x509.Certificate

    def __repr__(self) -> str:
        return f"UnionPayKeys(mer_id={self.mer_id!r}, cert_id={self.cert_id!r})"


def _certificate(channel: Channel, name: str) -> x509.Certificate:
    [block] = certificate_blocks(channel.secret(name), name)
    return x509.load_pem_x509_certificate(block.encode())


def keys_of(channel: Channel) -> UnionPayKeys:
    """The channel's keys, each loaded once to prove it usable (nothing is sent)."""
    if channel.network != NETWORK:
        raise NetworkError("channel_network_mismatch", field="network")
    if channel.mode is not ChannelMode.DIRECT:
        raise NetworkError("channel_mode", field="mode")
    if not _MER_ID.fullmatch(channel.mch_id):
        raise NetworkError("channel_incomplete", field="mch_id")
    if channel.app_id != channel.mch_id:
        raise NetworkError("channel_incomplete", field="app_id")
    key = rsa_private_key(channel.secret("sign_key"), "sign_key")
    cert = _certificate(channel, "sign_cert")
    public = cert.public_key()
    if not isinstance(public, RSAPublicKey) or public.public_numbers() != (
        key.public_key().public_numbers()
    ):
        # certId would name a certificate UnionPay checks with another key: every call
        # would fail its signature check.
        raise bad_secret("sign_cert")
    return UnionPayKeys(
        channel.mch_id,
        key,
        str(cert.serial_number),
        _certificate(channel, "root_cert"),
        _certificate(channel, "middle_cert"),
    )
