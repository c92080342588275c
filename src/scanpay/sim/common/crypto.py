"""The primitives every simulator signs and draws with: SHA256-with-RSA, random ids.

Signatures are PKCS#1 v1.5 over SHA-256, base64 (WeChat Pay's API v3, Alipay's RSA2,
UnionPay's). A payment code is never kept: only its hash.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256

__all__ = ["code_hash", "nonce", "random_digits", "rsa_sign", "rsa_verify"]

_ALPHANUMERIC = string.ascii_letters + string.digits


def nonce(length: int = 32) -> str:
    """A random string of letters and digits."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def random_digits(count: int) -> str:
    """``count`` random decimal digits (ids, payment codes)."""
    return "".join(secrets.choice(string.digits) for _ in range(count))


def code_hash(code: str) -> str:
    """What the state keeps of a payment code: never the code itself."""
    return hashlib.sha256(code.encode()).hexdigest()


def rsa_sign(key: RSAPrivateKey, message: str) -> str:
    """SHA256-with-RSA of ``message``, base64."""
    signature = key.sign(message.encode(), padding.PKCS1v15(), SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(key: RSAPublicKey, message: str, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s SHA256-with-RSA of ``message``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    try:
        key.verify(raw, message.encode(), padding.PKCS1v15(), SHA256())
    except InvalidSignature:
        return False
    return True
