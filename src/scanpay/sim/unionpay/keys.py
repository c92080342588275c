"""The simulator's UnionPay certificates, and the merchants' signing certificates.

UnionPay (through CFCA) issues each merchant its signing certificate, and signs its
own replies and notifications with a key whose certificate it sends along
(``signPubKeyCert``). Here, on first start, the simulator makes its own chain in
``DATA/keys/`` (0600 files in a 0700 folder): a root, an intermediate ("middle") under
it, and the signing certificate under that, whose CN reads
``041@x@<expected_cn>@1`` (the adapter checks the third ``@`` part). A merchant's
signing key is made here when the merchant is, its certificate issued under the
same intermediate; the key is handed back once and never kept.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID

from scanpay.sim.common.keys import certificate_pem, new_key, private_pem, read_key, write_private

__all__ = ["UnionPayKeys", "issue_merchant_cert", "load_or_create", "signer_cn"]

_FILES = ("root_key.pem", "root_cert.pem", "middle_key.pem", "middle_cert.pem")
_SIGN_KEY, _SIGN_CERT = "sign_key.pem", "sign_cert.pem"


def signer_cn(expected_cn: str) -> str:
    """The CN of the simulator's signing certificate, naming ``expected_cn``."""
    return f"041@x@{expected_cn}@1"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CFCA (simulated)"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    subject: x509.Name,
    public_key: RSAPublicKey,
    issuer: x509.Name,
    signer: RSAPrivateKey,
    now: datetime,
    years: int,
    ca: bool,
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(secrets.randbits(62) | (1 << 61))
        # A day back: a client whose clock is a little behind still finds it valid.
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, SHA256())
    )


@dataclass(frozen=True)
class UnionPayKeys:
    """The chain, and the key replies and notifications are signed with."""

    root_cert: x509.Certificate
    middle_key: RSAPrivateKey
    middle_cert: x509.Certificate
    sign_key: RSAPrivateKey
    sign_cert: x509.Certificate

    @property
    def root_pem(self) -> str:
        return certificate_pem(self.root_cert)

    @property
    def middle_pem(self) -> str:
        return certificate_pem(self.middle_cert)

    @property
    def sign_cert_pem(self) -> str:
        return certificate_pem(self.sign_cert)


def issue_merchant_cert(
    keys: UnionPayKeys, public_key: RSAPublicKey, mer_id: str, now: datetime
) -> x509.Certificate:
    """A merchant's signing certificate, issued under the intermediate."""
    subject = _name(f"041@Z@{mer_id}@1")
    return _issue(subject, public_key, keys.middle_cert.subject, keys.middle_key, now, 5, False)


def _cert(folder: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((folder / name).read_bytes())


def load_or_create(folder: Path, now: datetime, expected_cn: str) -> UnionPayKeys:
    """The keys kept in ``folder``, made there first if absent; the signing certificate
    made again (under the same chain) when it names another ``expected_cn``."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if all((folder / name).is_file() for name in _FILES):
        root_cert = _cert(folder, "root_cert.pem")
        middle_key, middle_cert = (
            read_key(folder / "middle_key.pem"),
            _cert(folder, "middle_cert.pem"),
        )
    else:
        root_key, middle_key = new_key(), new_key()
        root_name = _name("CFCA TEST ROOT (simulated)")
        root_cert = _issue(root_name, root_key.public_key(), root_name, root_key, now, 20, True)
        middle_cert = _issue(
            _name("CFCA TEST OCA1 (simulated)"),
            middle_key.public_key(),
            root_name,
            root_key,
            now,
            10,
            True,
        )
        write_private(folder / "root_key.pem", private_pem(root_key))
        write_private(folder / "middle_key.pem", private_pem(middle_key))
        (folder / "root_cert.pem").write_text(certificate_pem(root_cert))
        (folder / "middle_cert.pem").write_text(certificate_pem(middle_cert))
    cn = signer_cn(expected_cn)
    if (folder / _SIGN_KEY).is_file() and (folder / _SIGN_CERT).is_file():
        sign_key, sign_cert = read_key(folder / _SIGN_KEY), _cert(folder, _SIGN_CERT)
        if sign_cert.subject == _name(cn) and sign_cert.issuer == middle_cert.subject:
            return UnionPayKeys(root_cert, middle_key, middle_cert, sign_key, sign_cert)
    sign_key = new_key()
    sign_cert = _issue(
        _name(cn), sign_key.public_key(), middle_cert.subject, middle_key, now, 5, False
    )
    write_private(folder / _SIGN_KEY, private_pem(sign_key))
    (folder / _SIGN_CERT).write_text(certificate_pem(sign_cert))
    return UnionPayKeys(root_cert, middle_key, middle_cert, sign_key, sign_cert)
