"""Secrets at rest: terminal keys and wallet secrets sealed under the host's master key.

The host must read a terminal's HMAC key and a wallet's code secret to verify
them, so it cannot store only a hash; it stores them sealed. A sealed value is
``enc2:`` + base64url(nonce || ciphertext || tag): AES-256-GCM (``cryptography``)
under a key derived from the 32-byte master key with HKDF-SHA256 (RFC 5869),
with a 12-byte random nonce and ``purpose`` ("terminal-key", "wallet-secret")
as associated data, which binds a sealed value to the column it belongs in: a
value copied into another column does not open.

Every format ever written is read, so a database from any earlier release opens:

- ``enc2:`` (since 6780eef): the format above, the only one :meth:`SecretBox.seal` writes;
- ``enc1:`` (bcec4f4 to 9ab61d3): base64url(nonce16 || ciphertext || tag32), HMAC-SHA256
  in counter mode under HKDF(master, "scanpay enc1 encrypt"), encrypt-then-MAC with
  HMAC-SHA256 under HKDF(master, "scanpay enc1 authenticate") over
  "enc1" || purpose || 0 || nonce || ciphertext;
- no prefix: legacy plain text (rows from before sealing, a5a8886), read as it is.

Any other ``encN:`` prefix is refused (:class:`SealError`), never taken for plain
text: a value from a newer release must not become a key. Older formats are
converted to ``enc2`` by :func:`scanpay.host.services.secrets.seal_legacy`
(``scanpay host init`` and every start).

:func:`key_fingerprint` names a master key without revealing it (stored in the
database, so a host started with another key refuses). Pure: the caller passes
the nonce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "LEGACY_PREFIX",
    "NONCE_SIZE",
    "PREFIX",
    "SealError",
    "SecretBox",
    "hkdf_sha256",
    "is_current",
    "is_sealed",
    "key_fingerprint",
    "sealed_format",
    "short_fingerprint",
]

#: The prefix of what :meth:`SecretBox.seal` writes.
PREFIX = "enc2:"
#: The prefix of the HMAC-CTR format of bcec4f4..9ab61d3 (read, never written).
LEGACY_PREFIX = "enc1:"
#: Bytes of nonce :meth:`SecretBox.seal` takes (AES-GCM's standard 96 bits).
NONCE_SIZE = 12
_TAG = 16
_ENC1_NONCE = 16
_ENC1_TAG = 32
_FORMAT = re.compile(r"enc([0-9]+):")
_FINGERPRINT_LABEL = b"scanpay master key fingerprint v1"


class SealError(ValueError):
    """A sealed value that does not open: wrong master key, wrong purpose, altered, or
    of a format this release does not know."""


def hkdf_sha256(key: bytes, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract, then expand)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(key)


def sealed_format(value: str) -> str | None:
    """``"enc1"``, ``"enc2"``... for a sealed value; None for legacy plain text."""
    match = _FORMAT.match(value)
    return f"enc{match.group(1)}" if match else None


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed value of any format (rather than legacy plain text)."""
    return sealed_format(value) is not None


def is_current(value: str) -> bool:
    """Whether ``value`` is sealed in the format written today (nothing to convert)."""
    return value.startswith(PREFIX)


def key_fingerprint(master_key: bytes) -> str:
    """A master key's fingerprint (32 hex characters): HKDF-SHA256 of the key with its
    own label, so it reveals nothing of the key nor of any key derived for sealing."""
    return hkdf_sha256(master_key, _FINGERPRINT_LABEL, 16).hex()


def short_fingerprint(fingerprint: str) -> str:
    """The first 16 hex characters of a fingerprint, in groups of four (for people)."""
    head = fingerprint[:16]
    return "-".join(head[i : i + 4] for i in range(0, len(head), 4))


def _aad(purpose: str) -> bytes:
    return b"scanpay enc2\x00" + purpose.encode()


def _unpack(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealError("not a sealed value") from None


class SecretBox:
    """Seals and opens short secrets under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes")
        self._aead = AESGCM(hkdf_sha256(master_key, b"scanpay enc2 aes-256-gcm"))
        # enc1's two keys (HKDF with a zero salt, as bcec4f4's own HKDF did for no salt).
        self._enc1 = hkdf_sha256(master_key, b"scanpay enc1 encrypt", salt=bytes(32))
        self._mac1 = hkdf_sha256(master_key, b"scanpay enc1 authenticate", salt=bytes(32))
        #: The master key's fingerprint (see :func:`key_fingerprint`).
        self.fingerprint = key_fingerprint(master_key)

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
        """The plaintext of ``value`` in any format ever written (legacy plain text is
        returned as it is); :class:`SealError` if it does not open."""
        kind = sealed_format(value)
        if kind is None:
            return value
        if kind == "enc2":
            return self._open_enc2(_unpack(value[len(PREFIX) :]), purpose)
        if kind == "enc1":
            return self._open_enc1(_unpack(value[len(LEGACY_PREFIX) :]), purpose)
        raise SealError(f"unknown sealed format {kind}: written by a newer release?")

    def _open_enc2(self, blob: bytes, purpose: str) -> str:
        if len(blob) < NONCE_SIZE + _TAG:
            raise SealError("sealed value too short")
        try:
            data = self._aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], _aad(purpose))
        except InvalidTag:
            raise SealError("the sealed value does not open with this master key") from None
        return data.decode()

    def _open_enc1(self, blob: bytes, purpose: str) -> str:
        if len(blob) < _ENC1_NONCE + _ENC1_TAG:
            raise SealError("sealed value too short")
        nonce, ciphertext, tag = blob[:_ENC1_NONCE], blob[_ENC1_NONCE:-_ENC1_TAG], blob[-_ENC1_TAG:]
        message = b"enc1" + purpose.encode() + b"\x00" + nonce + ciphertext
        # Checked in constant time before anything is decrypted (encrypt-then-MAC).
        if not hmac.compare_digest(tag, hmac.new(self._mac1, message, hashlib.sha256).digest()):
            raise SealError("the sealed value does not open with this master key")
        blocks = (
            hmac.new(self._enc1, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
            for i in range((len(ciphertext) + 31) // 32)
        )
        stream = b"".join(blocks)[: len(ciphertext)]
        try:
            return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True)).decode()
        except UnicodeDecodeError:
            raise SealError("the sealed value does not open with this master key") from None
