"""The simulator's Alipay keys and certificates, and merchants' app certificates.

Public-key mode: replies and notifications are signed with the "Alipay private key";
the app is handed its public key. Certificate mode: the same key, its public half in
an "Alipay public-key certificate" issued by the simulator's root, the app's public
key in an "app public-key certificate" issued by the same root, and the root chain
file (an RSA root, and an EC root as Alipay's file carries non-RSA roots too, which
clients skip). Made on first start in ``DATA/keys/`` (0600 files in a 0700 folder).

A certificate's SN is Alipay's: MD5 (hex) of ``CN=…,OU=…,O=…,C=…`` (the issuer's) and
the serial number in decimal; the root's is the SNs of the chain's RSA certificates
joined with ``_``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID

from scanpay.sim.common.keys import (
    certificate_pem,
    new_key,
    private_pem,
    public_pem,
    read_key,
    write_private,
)

__all__ = [
    "AlipayKeys",
    "cert_sn",
    "issue_app_cert",
    "load_or_create",
    "read_public_key",
    "root_sn",
]

_ALIPAY_KEY = "alipay_key.pem"
_ALIPAY_CERT = "alipay_cert.pem"
_ROOT_KEY = "root_key.pem"
_ROOT_CERT = "root_cert.pem"
_EC_ROOT_CERT = "root_ec_cert.pem"
_ROOT_NAME = (
    "Ant Financial Certification Authority R1 (simulated)",
    "Certification Authority",
    "Ant Financial",
    "CN",
)


def _name(cn: str, ou: str, o: str, c: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, c),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _serial() -> int:
    return secrets.randbits(127) | (1 << 126)


def _issue(
    subject: x509.Name,
    public_key: RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    signer: RSAPrivateKey | ec.EllipticCurvePrivateKey,
    now: datetime,
    years: int,
    ca: bool,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(_serial())
        # A day back: a client whose clock is a little behind still finds it valid.
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, SHA256())
    )


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    found = name.get_attributes_for_oid(oid)
    return str(found[0].value) if found else "None"


def cert_sn(certificate: x509.Certificate) -> str:
    """Alipay's SN of a certificate (what ``app_cert_sn`` and ``alipay_cert_sn`` carry)."""
    issuer = certificate.issuer
    cn, ou, o, c = (
        _attribute(issuer, oid)
        for oid in (
            NameOID.COMMON_NAME,
            NameOID.ORGANIZATIONAL_UNIT_NAME,
            NameOID.ORGANIZATION_NAME,
            NameOID.COUNTRY_NAME,
        )
    )
    text = f"CN={cn},OU={ou},O={o},C={c}"
    return hashlib.md5((text + str(certificate.serial_number)).encode()).hexdigest()


def root_sn(chain_pem: str) -> str:
    """``alipay_root_cert_sn``: the SNs of the chain's RSA-signed certificates, joined."""
    certificates = x509.load_pem_x509_certificates(chain_pem.encode())
    return "_".join(cert_sn(c) for c in certificates if isinstance(c.public_key(), RSAPublicKey))


@dataclass(frozen=True)
class AlipayKeys:
    """The network's signing key and certificates."""

    alipay_key: RSAPrivateKey
    alipay_cert: x509.Certificate
    root_key: RSAPrivateKey
    root_cert: x509.Certificate
    ec_root_cert: x509.Certificate

    @property
    def public_key_pem(self) -> str:
        return public_pem(self.alipay_key.public_key())

    @property
    def alipay_cert_pem(self) -> str:
        return certificate_pem(self.alipay_cert)

    @property
    def root_chain_pem(self) -> str:
        # Alipay's root file: certificates separated by an empty line.
        return certificate_pem(self.root_cert) + "\n" + certificate_pem(self.ec_root_cert)

    @property
    def alipay_cert_sn(self) -> str:
        return cert_sn(self.alipay_cert)

    @property
    def root_cert_sn(self) -> str:
        return root_sn(self.root_chain_pem)


def issue_app_cert(
    keys: AlipayKeys, app_public_key: RSAPublicKey, app_id: str, now: datetime
) -> x509.Certificate:
    """The app public-key certificate (``appCertPublicKey_{app_id}.crt``)."""
    subject = _name(app_id, "Alipay Open Platform", "scanpay simulated app", "CN")
    return _issue(subject, app_public_key, keys.root_cert.subject, keys.root_key, now, 5, False)


def read_public_key(text: str) -> RSAPublicKey:
    """An app's RSA public key from PEM (or Alipay's bare base64 form); ValueError otherwise."""
    text = text.strip()
    if not text.startswith("-----"):
        text = "-----BEGIN PUBLIC KEY-----\n" + text + "\n-----END PUBLIC KEY-----\n"
    loaded = serialization.load_pem_public_key(text.encode())
    if not isinstance(loaded, RSAPublicKey):
        raise ValueError("the public key is not RSA")
    return loaded


def load_or_create(folder: Path, now: datetime) -> AlipayKeys:
    """The keys kept in ``folder``, made there first if absent."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    names = (_ALIPAY_KEY, _ALIPAY_CERT, _ROOT_KEY, _ROOT_CERT, _EC_ROOT_CERT)
    if all((folder / name).is_file() for name in names):

        def cert(name: str) -> x509.Certificate:
            return x509.load_pem_x509_certificate((folder / name).read_bytes())

        return AlipayKeys(
            alipay_key=read_key(folder / _ALIPAY_KEY),
            alipay_cert=cert(_ALIPAY_CERT),
            root_key=read_key(folder / _ROOT_KEY),
            root_cert=cert(_ROOT_CERT),
            ec_root_cert=cert(_EC_ROOT_CERT),
        )
    root_key, alipay_key = new_key(), new_key()
    root_name = _name(*_ROOT_NAME)
    root_cert = _issue(root_name, root_key.public_key(), root_name, root_key, now, 20, True)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_name = _name("Ant Financial Certification Authority E1 (simulated)", *_ROOT_NAME[1:])
    ec_root = _issue(ec_name, ec_key.public_key(), ec_name, ec_key, now, 20, True)
    alipay_name = _name("支付宝(中国)网络技术有限公司 (simulated)", "Alipay", "Alipay", "CN")
    alipay_cert = _issue(alipay_name, alipay_key.public_key(), root_name, root_key, now, 5, False)
    write_private(folder / _ALIPAY_KEY, private_pem(alipay_key))
    write_private(folder / _ROOT_KEY, private_pem(root_key))
    (folder / _ALIPAY_CERT).write_text(certificate_pem(alipay_cert))
    (folder / _ROOT_CERT).write_text(certificate_pem(root_cert))
    (folder / _EC_ROOT_CERT).write_text(certificate_pem(ec_root))
    return AlipayKeys(alipay_key, alipay_cert, root_key, root_cert, ec_root)
