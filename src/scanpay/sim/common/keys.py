"""RSA keys and PEM text for a simulator's own keys folder (0600 files in a 0700 folder)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "certificate_pem",
    "new_key",
    "private_pem",
    "public_pem",
    "read_key",
    "write_private",
]


def new_key() -> RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: RSAPrivateKey) -> str:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: RSAPublicKey) -> str:
    """``key`` as SubjectPublicKeyInfo PEM."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def certificate_pem(certificate: x509.Certificate) -> str:
    """``certificate`` as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600 from the start)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def read_key(path: Path) -> RSAPrivateKey:
    """The RSA private key in ``path``; ValueError when it holds another kind."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key
