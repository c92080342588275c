"""Helpers for the Alipay adapter's tests: keys and certificates made here, channels in
both verification modes, and a loopback gateway that answers what a test tells it to
(signed with the key the test picks, or not at all) and keeps what it was sent."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from networks.gateway_kit import PATIENT, LoopbackGateway, make_cert, patient, pem, serving_gateway
from scanpay.networks import Channel, ChannelMode, PayRequest
from scanpay.networks.alipay import AlipayNetwork, AlipaySettings
from sim.alipay.kit import App, RunningSim

__all__ = [
    "APP_ID",
    "PID",
    "SUB_PID",
    "Gateway",
    "Pki",
    "channel",
    "gateway",
    "network",
    "pay_request",
    "pki",
    "shop",
    "sign",
]

APP_ID = "2021000000000001"
PID = "2088000000000001"
SUB_PID = "2088000000000002"


def _pem_key(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, as Alipay's tool makes
        serialization.NoEncryption(),
    ).decode()


def _pem_public(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ant Financial"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Certification Authority"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(subject: str, key: rsa.RSAPrivateKey, issuer: str, signer: rsa.RSAPrivateKey) -> str:
    return pem(make_cert(_name(subject), key, _name(issuer), signer))


@dataclass(frozen=True)
class Pki:
    """The app's key, Alipay's key, a stranger's key, and the certificates of both modes."""

    app_key: rsa.RSAPrivateKey
    alipay_key: rsa.RSAPrivateKey
    stranger_key: rsa.RSAPrivateKey
    app_cert: str
    alipay_cert: str
    root_cert: str

    @property
    def app_private_pem(self) -> str:
        return _pem_key(self.app_key)

    @property
    def app_public_pem(self) -> str:
        return _pem_public(self.app_key)

    @property
    def alipay_public_pem(self) -> str:
        return _pem_public(self.alipay_key)


@functools.cache
def pki() -> Pki:
    """One set for the whole run (RSA keys are slow to make)."""
    app, alipay, stranger, root = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)
    )
    root_name = "Ant Financial Certification Authority R1"
    return Pki(
        app,
        alipay,
        stranger,
        _cert("app", app, root_name, root),
        _cert("alipay", alipay, root_name, root),
        _cert(root_name, root, root_name, root),
    )


def channel(mode: str = "public_key", *, partner: bool = False, **overrides: str | None) -> Channel:
    """A channel in ``mode`` (public_key or certificate); ``overrides`` replace (or, as
    None, drop) secrets."""
    p = pki()
    secrets: dict[str, str | None] = {"app_private_key": p.app_private_pem}
    if mode == "public_key":
        secrets["alipay_public_key"] = p.alipay_public_pem
    else:
        secrets.update(app_cert=p.app_cert, alipay_cert=p.alipay_cert, alipay_root_cert=p.root_cert)
    if partner:
        secrets["app_auth_token"] = "202512BBtoken0000000000000000001"
    secrets.update(overrides)
    kept = {k: v for k, v in secrets.items() if v is not None}
    if partner:
        return Channel(
            "alipay", ChannelMode.SERVICE_PROVIDER, APP_ID, PID, sub_mch_id=SUB_PID, secrets=kept
        )
    return Channel("alipay", ChannelMode.DIRECT, APP_ID, PID, secrets=kept)


def sign(key: rsa.RSAPrivateKey, text: str) -> str:
    import base64

    raw = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


def signed_reply(method: str | None, node: dict[str, Any], key: rsa.RSAPrivateKey | None) -> str:
    """Alipay's reply text: the node compact (Chinese as is), then the signature over it."""
    name = method.replace(".", "_") + "_response" if method else "error_response"
    body = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    text = "{" + json.dumps(name) + ":" + body
    if key is not None:
        text += ',"sign":' + json.dumps(sign(key, body))
    return text + "}"


@dataclass
class Gateway(LoopbackGateway):
    """The loopback gateway at ``/gateway.do``; ``received``: the forms it was sent."""

    @property
    def received(self) -> list[dict[str, str]]:
        return [form for _, form in self.calls]

    def replying(self, node: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> None:
        """Answer every call with ``node``, signed with ``key`` (default: Alipay's)."""
        signer = pki().alipay_key if key is None else key

        def answer(form: dict[str, str]) -> tuple[int, bytes]:
            return 200, signed_reply(form.get("method"), node, signer).encode()

        self.answer = answer


@contextmanager
def gateway() -> Iterator[Gateway]:
    """A loopback gateway for one test; ``hold`` set means: answer only when released."""
    with serving_gateway(
        Gateway("", lambda form: (500, b"")), "/gateway.do", "text/html;charset=utf-8"
    ) as made:
        yield made


def shop(sim: RunningSim, mode: str = "public_key") -> tuple[App, Channel]:
    """A new app at the simulator (``mode``: public_key or certificate) and its channel."""
    app = sim.app(mode="cert" if mode == "certificate" else mode)
    data = app.data
    secrets: dict[str, str] = {"app_private_key": data["app_private_key"]}
    if mode == "public_key":
        secrets["alipay_public_key"] = data["alipay_public_key"]
    else:
        secrets.update(
            app_cert=data["app_cert"],
            alipay_cert=data["alipay_cert"],
            alipay_root_cert=data["alipay_root_cert"],
        )
    return app, Channel("alipay", ChannelMode.DIRECT, app.app_id, data["pid"], secrets=secrets)


def pay_request(channel: Channel, code: str, amount: int, trade_no: str) -> PayRequest:
    return PayRequest(channel, trade_no, code, amount, "CNY", "莉莉茶铺 tea, 2 cups", store_id="S1")


def network(url: str, pay: float = PATIENT, **options: Any) -> AlipayNetwork:
    return AlipayNetwork(AlipaySettings(gateway=url, timeouts=patient(pay), **options))
