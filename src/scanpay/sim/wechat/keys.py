"""The simulator's own keys, and merchants' API client keys made for convenience.

WeChat Pay signs its replies one of two ways, chosen per merchant:

- platform certificate: a certificate whose serial (40 hex digits) is sent in
  ``Wechatpay-Serial``; clients fetch it from ``GET /v3/certificates``;
- WeChat Pay public key: a bare public key named ``PUB_KEY_ID_...``, handed to the
  merchant out of band (here: by the admin endpoints and ``demo.json``).

Both key pairs are made on first start and kept in ``DATA/keys/`` (0600 files in a
0700 folder), so a restarted simulator signs as before and clients keep working.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID

from scanpay.sim.common.crypto import random_digits
from scanpay.sim.common.keys import (
    certificate_pem,
    new_key,
    private_pem,
    public_pem,
    read_key,
    write_private,
)

__all__ = [
    "ClientIdentity",
    "NetworkKeys",
    "load_or_create",
    "new_client_identity",
    "read_client_key",
]

_PLATFORM_KEY = "platform_key.pem"
_PLATFORM_CERT = "platform_cert.pem"
_PUBLIC_KEY = "public_key_key.pem"
_PUBLIC_KEY_ID = "public_key_id.txt"


def _serial() -> int:
    # 159 bits with the top one set: always 40 hex digits, as WeChat's serials are,
    # and under X.509's 20-octet positive limit.
    return secrets.randbits(159) | (1 << 158)


def serial_hex(serial: int) -> str:
    return f"{serial:040X}"


def _certificate(
    key: RSAPrivateKey, common_name: str, serial: int, now: datetime, years: int
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "scanpay WeChat Pay simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        # A day back: a client whose clock is a little behind still finds it valid.
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .sign(key, SHA256())
    )


@dataclass(frozen=True)
class NetworkKeys:
    """The simulator's two signing identities."""

    certificate_key: RSAPrivateKey
    certificate: x509.Certificate
    public_key_key: RSAPrivateKey
    public_key_id: str

    @property
    def certificate_serial(self) -> str:
        return serial_hex(self.certificate.serial_number)

    @property
    def certificate_pem(self) -> str:
        return certificate_pem(self.certificate)

    @property
    def public_key_pem(self) -> str:
        return public_pem(self.public_key_key.public_key())

    def signer(self, mode: str) -> tuple[str, RSAPrivateKey]:
        """The ``Wechatpay-Serial`` and the key a reply to a merchant in ``mode`` is signed with."""
        if mode == "public_key":
            return self.public_key_id, self.public_key_key
        return self.certificate_serial, self.certificate_key


def load_or_create(folder: Path, now: datetime) -> tuple[NetworkKeys, bool]:
    """The keys kept in ``folder``, made there first if absent; and whether they were made."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    paths = [folder / name for name in (_PLATFORM_KEY, _PLATFORM_CERT, _PUBLIC_KEY, _PUBLIC_KEY_ID)]
    if all(path.is_file() for path in paths):
        certificate = x509.load_pem_x509_certificate((folder / _PLATFORM_CERT).read_bytes())
        keys = NetworkKeys(
            certificate_key=read_key(folder / _PLATFORM_KEY),
            certificate=certificate,
            public_key_key=read_key(folder / _PUBLIC_KEY),
            public_key_id=(folder / _PUBLIC_KEY_ID).read_text().strip(),
        )
        return keys, False
    platform_key = new_key()
    keys = NetworkKeys(
        certificate_key=platform_key,
        certificate=_certificate(platform_key, "Tenpay.com Root CA (simulated)", _serial(), now, 5),
        public_key_key=new_key(),
        # WeChat's look like PUB_KEY_ID_0114232134912410000000000000: 28 digits.
        public_key_id="PUB_KEY_ID_01" + random_digits(26),
    )
    write_private(folder / _PLATFORM_KEY, private_pem(keys.certificate_key))
    (folder / _PLATFORM_CERT).write_text(keys.certificate_pem)
    write_private(folder / _PUBLIC_KEY, private_pem(keys.public_key_key))
    (folder / _PUBLIC_KEY_ID).write_text(keys.public_key_id + "\n")
    return keys, True


@dataclass(frozen=True)
class ClientIdentity:
    """A merchant's API client certificate (``apiclient_cert.pem``) and its key."""

    private_key_pem: str
    certificate_pem: str
    serial: str
    public_key_pem: str


def new_client_identity(mchid: str, now: datetime) -> ClientIdentity:
    """A key pair and certificate for a merchant that brings none (the simulator keeps
    only the public half; the private key is handed back once)."""
    key = new_key()
    certificate = _certificate(key, f"{mchid} API client (simulated)", _serial(), now, 5)
    return ClientIdentity(
        private_key_pem=private_pem(key),
        certificate_pem=certificate_pem(certificate),
        serial=serial_hex(certificate.serial_number),
        public_key_pem=public_pem(key.public_key()),
    )


def read_client_key(
    certificate_text: str | None, public_key_text: str | None, serial: str | None
) -> tuple[str, str]:
    """A merchant's own client key: from its certificate (serial read from it), or a
    public key with the serial given. Returns (public key PEM, serial in upper-case hex)."""
    if certificate_text:
        certificate = x509.load_pem_x509_certificate(certificate_text.encode())
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise ValueError("the certificate's key is not RSA")
        return public_pem(key), serial_hex(certificate.serial_number)
    if public_key_text and serial:
        loaded = serialization.load_pem_public_key(public_key_text.encode())
        if not isinstance(loaded, RSAPublicKey):
            raise ValueError("the public key is not RSA")
        return public_pem(loaded), f"{int(serial, 16):040X}"
    raise ValueError("give a certificate, or a public key and its serial")
