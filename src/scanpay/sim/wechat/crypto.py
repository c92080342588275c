"""The primitives WeChat Pay alone signs and seals with.

- API v3: SHA256-with-RSA over newline-joined lines (:mod:`scanpay.sim.common.crypto`); the
  platform certificates sealed with AEAD_AES_256_GCM under the merchant's APIv3 key
  (the key's 32 characters are the AES-256 key, the nonce is 12 characters).
- API v2: MD5 or HMAC-SHA256 over the sorted non-empty parameters but ``sign``, as
  ``k=v&...&key=API_KEY``, in upper-case hex.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scanpay.sim.common.crypto import nonce

__all__ = ["SIGN_TYPES", "aead_decrypt", "aead_encrypt", "random_key", "v2_sign"]

SIGN_TYPES = ("MD5", "HMAC-SHA256")


def random_key() -> str:
    """An API v2 key or an APIv3 key: 32 letters and digits, as WeChat's are."""
    return nonce(32)


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
