"""Helpers for the UnionPay adapter's tests: a certificate chain made here (root,
intermediate, UnionPay's signing certificate, a stranger's chain), the merchant's key
and certificate, channels, and a loopback gateway that answers what a test tells it
to (signed as UnionPay signs, or not) and keeps what it was sent."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from networks.gateway_kit import PATIENT, LoopbackGateway, make_cert, patient, pem, serving_gateway
from scanpay.networks import Channel, ChannelMode, PayRequest
from scanpay.networks.unionpay import UnionPayNetwork, UnionPaySettings
from scanpay.networks.unionpay.acp import SIGN_CERT, reply_text, sign_fields

__all__ = [
    "BACK_URL",
    "MER_ID",
    "PATIENT",
    "QR",
    "Gateway",
    "Pki",
    "channel",
    "gateway",
    "key_pem",
    "network",
    "pay_request",
    "pem",
    "pki",
    "signed",
]

MER_ID = "777290058110048"
QR = "6220000000000000012"
BACK_URL = "https://shop.example.com/unionpay/back"
UNIONPAY_SUBJECT = "041@8310000000083040@中国银联股份有限公司@00016494"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CFCA TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: str,
    signer: rsa.RSAPrivateKey,
    *,
    days: tuple[int, int] = (-1, 365),
    serial: int | None = None,
) -> x509.Certificate:
    return make_cert(_name(subject), key, _name(issuer), signer, days=days, serial=serial)


def key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass(frozen=True)
class Pki:
    """Keys and certificates: ours, UnionPay's chain, and look-alikes that must fail."""

    merchant_key: rsa.RSAPrivateKey
    merchant_cert: x509.Certificate
    root: x509.Certificate
    middle: x509.Certificate
    unionpay_key: rsa.RSAPrivateKey
    unionpay_cert: x509.Certificate
    stranger_key: rsa.RSAPrivateKey
    stranger_cert: x509.Certificate
    """UnionPay's CN, issued under a root nobody configured."""
    other_cn_cert: x509.Certificate
    """Under the right chain, naming another entity (the stranger's key)."""
    expired_cert: x509.Certificate
    """UnionPay's key and CN under the right chain, out of date."""


@functools.cache
def pki() -> Pki:
    """One set for the whole run (RSA keys are slow to make)."""
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(6)]
    merchant, root_key, middle_key, unionpay, stranger, stranger_root = keys
    root = _cert("CFCA TEST ROOT", root_key, "CFCA TEST ROOT", root_key)
    middle = _cert("CFCA TEST OCA1", middle_key, "CFCA TEST ROOT", root_key)
    return Pki(
        merchant_key=merchant,
        merchant_cert=_cert(
            "041@Z@777290058110048@1", merchant, "CFCA TEST OCA1", middle_key, serial=68759529225
        ),
        root=root,
        middle=middle,
        unionpay_key=unionpay,
        unionpay_cert=_cert(UNIONPAY_SUBJECT, unionpay, "CFCA TEST OCA1", middle_key),
        stranger_key=stranger,
        stranger_cert=_cert(UNIONPAY_SUBJECT, stranger, "CFCA TEST OCA1", stranger_root),
        other_cn_cert=_cert("041@1@某某支付公司@1", stranger, "CFCA TEST OCA1", middle_key),
        expired_cert=_cert(
            UNIONPAY_SUBJECT, unionpay, "CFCA TEST OCA1", middle_key, days=(-30, -1)
        ),
    )


def secrets(**overrides: str | None) -> dict[str, str]:
    p = pki()
    made: dict[str, str | None] = {
        "sign_key": key_pem(p.merchant_key),
        "sign_cert": pem(p.merchant_cert),
        "root_cert": pem(p.root),
        "middle_cert": pem(p.middle),
    }
    made.update(overrides)
    return {k: v for k, v in made.items() if v is not None}


def channel(**overrides: str | None) -> Channel:
    """The merchant's channel; ``overrides`` replace (or, as None, drop) secrets."""
    return Channel("unionpay", ChannelMode.DIRECT, MER_ID, MER_ID, secrets=secrets(**overrides))


def signed(
    fields: dict[str, str],
    key: rsa.RSAPrivateKey | None = None,
    cert: x509.Certificate | None = None,
) -> dict[str, str]:
    """``fields`` as UnionPay signs them: its certificate added, then the signature."""
    p = pki()
    with_cert = {**fields, SIGN_CERT: pem(cert or p.unionpay_cert)}
    return sign_fields(with_cert, key or p.unionpay_key)


@dataclass
class Gateway(LoopbackGateway):
    """The loopback gateway (its origin); ``received``: each call's path and form."""

    @property
    def received(self) -> list[tuple[str, dict[str, str]]]:
        return self.calls

    def replying(self, make: Callable[[dict[str, str]], dict[str, str]], **how: Any) -> None:
        """Answer each call with ``make(form)``'s fields, signed (``how``: key, cert)."""
        self.answer = lambda form: (200, reply_text(signed(make(form), **how)).encode())

    @property
    def forms(self) -> list[dict[str, str]]:
        return [form for _, form in self.calls]


@contextmanager
def gateway() -> Iterator[Gateway]:
    """A loopback gateway for one test; ``hold`` set means: answer only when released."""
    with serving_gateway(
        Gateway("", lambda form: (500, b"")), "", "text/plain;charset=UTF-8"
    ) as made:
        yield made


def network(url: str, pay: float = PATIENT, **options: Any) -> UnionPayNetwork:
    return UnionPayNetwork(
        UnionPaySettings(gateway=url, back_url=BACK_URL, timeouts=patient(pay), **options)
    )


def pay_request(trade_no: str = "20261208101500T0001", amount: int = 1230) -> PayRequest:
    return PayRequest(channel(), trade_no, QR, amount, "CNY", "莉莉茶铺 tea, 2 cups")
