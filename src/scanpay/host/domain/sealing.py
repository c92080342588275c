"""Secrets at rest: terminal keys and wallet secrets sealed under the host's master key.

The host must read a terminal's HMAC key and a wallet's code secret to verify
them, so it cannot store only a hash; it stores them sealed. A sealed value is
``enc1:`` + base64url(nonce || ciphertext || tag):

- two keys are derived from the 32-byte master key with HKDF-SHA256 (RFC 5869),
  one to encrypt, one to authenticate;
- encryption is HMAC-SHA256 in counter mode (the keystream block *i* is
  HMAC(enc_key, nonce || i), XORed with the plaintext) - a PRF in counter mode;
- the tag is HMAC-SHA256(mac_key, "enc1" || purpose || nonce || ciphertext)
  over the ciphertext (encrypt-then-MAC), checked in constant time before
  anything is decrypted. ``purpose`` ("terminal-key", "wallet-secret") binds
  a sealed value to the column it belongs in.

This is a standard composition of the only primitives the standard library
has (the project ships no AES); the ``enc1`` version prefix leaves room for an
AES-GCM ``enc2`` when a crypto library becomes a dependency. Values without
the prefix are legacy plain text and are read as they are. Pure: the caller
passes the nonce (16 random bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["PREFIX", "SealError", "SecretBox", "hkdf_sha256", "is_sealed"]

PREFIX = "enc1:"
_NONCE = 16
_TAG = 32


class SealError(ValueError):
    """A sealed value that does not open: wrong master key, or altered."""


def hkdf_sha256(key: bytes, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract, then expand)."""
    prk = hmac.new(salt or bytes(32), key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed value (rather than legacy plain text)."""
    return value.startswith(PREFIX)


class SecretBox:
    """Seals and opens short secrets under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes")
        self._enc = hkdf_sha256(master_key, b"scanpay enc1 encrypt")
        self._mac = hkdf_sha256(master_key, b"scanpay enc1 authenticate")

    def __repr__(self) -> str:  # never show the keys
        return "SecretBox()"

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = [
            hmac.new(self._enc, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
            for i in range((length + 31) // 32)
        ]
        return b"".join(blocks)[:length]

    def _tag(self, purpose: str, nonce: bytes, ciphertext: bytes) -> bytes:
        message = b"enc1" + purpose.encode() + b"\x00" + nonce + ciphertext
        return hmac.new(self._mac, message, hashlib.sha256).digest()

    def seal(self, plaintext: str, purpose: str, nonce: bytes) -> str:
        """``plaintext`` sealed for ``purpose`` with a fresh 16-byte ``nonce``."""
        if len(nonce) != _NONCE:
            raise ValueError("the nonce is 16 bytes")
        data = plaintext.encode()
        ciphertext = bytes(a ^ b for a, b in zip(data, self._stream(nonce, len(data)), strict=True))
        blob = nonce + ciphertext + self._tag(purpose, nonce, ciphertext)
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
        if len(blob) < _NONCE + _TAG:
            raise SealError("sealed value too short")
        nonce, ciphertext, tag = blob[:_NONCE], blob[_NONCE:-_TAG], blob[-_TAG:]
        if not hmac.compare_digest(tag, self._tag(purpose, nonce, ciphertext)):
            raise SealError("the sealed value does not open with this master key")
        stream = self._stream(nonce, len(ciphertext))
        return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True)).decode()
