"""The primitives WeChat Pay signs and seals with.

- API v3: SHA256-with-RSA (PKCS#1 v1.5) over newline-joined lines, base64; the
  platform certificates sealed with AEAD_AES_256_GCM under the merchant's APIv3 key
  (the key's 32 characters are the AES-256 key, the nonce is 12 characters).
- API v2: MD5 or HMAC-SHA256 over the sorted non-empty parameters but ``sign``, as
  ``k=v&...&key=API_KEY``, in upper-case hex.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256

__all__ = [
    "SIGN_TYPES",
    "aead_decrypt",
    "aead_encrypt",
    "code_hash",
    "nonce",
    "random_digits",
    "random_key",
    "rsa_sign",
    "rsa_verify",
    "v2_sign",
]

SIGN_TYPES = ("MD5", "HMAC-SHA256")
_ALPHANUMERIC = string.ascii_letters + string.digits


def nonce(length: int = 32) -> str:
    """A random string of letters and digits (WeChat's ``nonce_str``)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def random_key() -> str:
    """An API v2 key or an APIv3 key: 32 letters and digits, as WeChat's are."""
    return nonce(32)


def random_digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def code_hash(code: str) -> str:
    """What the state keeps of a payment code: never the code itself."""
    return hashlib.sha256(code.encode()).hexdigest()


def rsa_sign(key: RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(key: RSAPublicKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    try:
        key.verify(raw, message.encode(), padding.PKCS1v15(), SHA256())
    except InvalidSignature:
        return False
    return True


def aead_encrypt(key: str, nonce_text: str, plaintext: str, associated: str) -> str:
    sealed = AESGCM(key.encode()).encrypt(
        nonce_text.encode(), plaintext.encode(), associated.encode()
    )
    return base64.b64encode(sealed).decode()


def aead_decrypt(key: str, nonce_text: str, ciphertext: str, associated: str) -> str | None:
    try:
        opened = AESGCM(key.encode()).decrypt(
            nonce_text.encode(), base64.b64decode(ciphertext), associated.encode()
        )
    except (InvalidTag, ValueError):
        return None
    return opened.decode()


def v2_sign(params: Mapping[str, str], key: str, sign_type: str = "MD5") -> str:
    """The API v2 signature of ``params`` (``sign`` itself and empty values left out)."""
    pairs = [f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != ""]
    text = "&".join([*pairs, f"key={key}"])
    if sign_type == "MD5":
        return hashlib.md5(text.encode()).hexdigest().upper()
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown sign_type {sign_type!r}")
