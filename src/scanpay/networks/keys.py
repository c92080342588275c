"""A channel's keys and certificates read from its secrets' PEM text and checked, for
every adapter: an unusable one is ``channel_secret_bad`` naming the secret, never
repeating its value."""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from scanpay.networks.options import bad_secret

__all__ = ["certificate_blocks", "pkcs8_pem", "rsa_private_key", "rsa_public_key_pem"]

_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def rsa_private_key(text: str, name: str) -> RSAPrivateKey:
    """The RSA private key in ``text`` (PEM, PKCS#1 or PKCS#8, unencrypted)."""
    try:
        loaded = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise bad_secret(name) from None
    if not isinstance(loaded, RSAPrivateKey):
        raise bad_secret(name)
    return loaded


def pkcs8_pem(key: RSAPrivateKey) -> str:
    """``key`` as PKCS#8 PEM: the one form the network packages read as given."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def rsa_public_key_pem(text: str, name: str) -> str:
    """The RSA public key in ``text`` (PEM), as SubjectPublicKeyInfo PEM."""
    try:
        loaded = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError):
        raise bad_secret(name) from None
    if not isinstance(loaded, RSAPublicKey):
        raise bad_secret(name)
    return loaded.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def certificate_blocks(text: str, name: str, *, chain: bool = False) -> list[str]:
    """The PEM certificates in ``text``, each proved readable: exactly one, or with
    ``chain`` one or more."""
    blocks: list[str] = _PEM_CERT.findall(text)
    if not blocks or (len(blocks) > 1 and not chain):
        raise bad_secret(name)
    for block in blocks:
        try:
            x509.load_pem_x509_certificate(block.encode())
        except ValueError:
            raise bad_secret(name) from None
    return blocks
