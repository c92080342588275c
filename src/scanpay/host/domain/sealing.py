"""Secrets at rest: terminal keys and wallet secrets sealed under the host's master key.

The host must read a terminal's HMAC key and a wallet's code secret to verify
them, so it cannot store only a hash; it stores them sealed. A sealed value is
``enc2:`` + base64url(nonce || ciphertext || tag): AES-256-GCM (``cryptography``)
under a key derived from the 32-byte master key with HKDF-SHA256 (RFC 5869),
with a 12-byte random nonce and ``purpose`` ("terminal-key", "wallet-secret")
as associated data, which binds a sealed value to the column it belongs in: a
value copied into another column does not open.

Values without the prefix are legacy plain text (rows from before sealing) and
are read as they are; :func:`scanpay.host.services.secrets.seal_legacy` seals
them. Pure: the caller passes the nonce.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["NONCE_SIZE", "PREFIX", "SealError", "SecretBox", "hkdf_sha256", "is_sealed"]

PREFIX = "enc2:"
#: Bytes of nonce :meth:`SecretBox.seal` takes (AES-GCM's standard 96 bits).
NONCE_SIZE = 12
_TAG = 16


class SealError(ValueError):
    """A sealed value that does not open: wrong master key, wrong purpose, or altered."""


def hkdf_sha256(key: bytes, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract, then expand)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(key)


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed value (rather than legacy plain text)."""
    return value.startswith(PREFIX)


def _aad(purpose: str) -> bytes:
    return b"scanpay enc2\x00" + purpose.encode()


class SecretBox:
    """Seals and opens short secrets under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes")
        self._aead = AESGCM(hkdf_sha256(master_key, b"scanpay enc2 aes-256-gcm"))

    def __repr__(self) -> str:  # never show the key
        return "SecretBox()"

    def seal(self, plaintext: str, purpose: str, nonce: bytes) -> str:
        """``plaintext`` sealed for ``purpose`` with a fresh random ``nonce`` of
        :data:`NONCE_SIZE` bytes (never reuse one under the same master key)."""
        if len(nonce) != NONCE_SIZE:
            raise ValueError(f"the nonce is {NONCE_SIZE} bytes")
        blob = nonce + self._aead.encrypt(nonce, plaintext.encode(), _aad(purpose))
        return PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def open(self, value: str, purpose: str) -> str:
        """The plaintext of a sealed ``value`` (legacy plain text is returned as it is)."""
        if not is_sealed(value):
            return value
        text = value[len(PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise SealError("not a sealed value") from None
        if len(blob) < NONCE_SIZE + _TAG:
            raise SealError("sealed value too short")
        try:
            data = self._aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], _aad(purpose))
        except InvalidTag:
            raise SealError("the sealed value does not open with this master key") from None
        return data.decode()
