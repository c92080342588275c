"""Secrets at rest: HKDF, sealing and opening, what a wrong key, purpose or edit does."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.sealing import (
    NONCE_SIZE,
    PREFIX,
    SealError,
    SecretBox,
    hkdf_sha256,
    is_sealed,
)

MASTER = bytes(range(32))
NONCE = bytes(NONCE_SIZE)


def test_hkdf_matches_rfc_5869_test_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = hkdf_sha256(ikm, info, 42, salt)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


@given(st.text(max_size=200), st.binary(min_size=NONCE_SIZE, max_size=NONCE_SIZE))
def test_sealed_values_open_to_what_was_sealed(text: str, nonce: bytes) -> None:
    box = SecretBox(MASTER)
    sealed = box.seal(text, "terminal-key", nonce)
    assert is_sealed(sealed) and sealed.startswith(PREFIX)
    assert box.open(sealed, "terminal-key") == text


def test_the_plaintext_is_not_in_the_sealed_value() -> None:
    secret = "ab" * 32
    sealed = SecretBox(MASTER).seal(secret, "wallet-secret", NONCE)
    assert secret not in sealed and len(sealed) <= 160
    assert SecretBox(MASTER).seal(secret, "wallet-secret", b"\x01" * NONCE_SIZE) != sealed


def test_wrong_key_purpose_or_edit_does_not_open() -> None:
    sealed = SecretBox(MASTER).seal("ab" * 32, "terminal-key", NONCE)
    with pytest.raises(SealError):
        SecretBox(bytes(32)).open(sealed, "terminal-key")
    with pytest.raises(SealError):
        SecretBox(MASTER).open(sealed, "wallet-secret")
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(SealError):
        SecretBox(MASTER).open(flipped, "terminal-key")
    with pytest.raises(SealError):
        SecretBox(MASTER).open(PREFIX + "AAAA", "terminal-key")


def test_legacy_plain_text_passes_through_and_keys_are_checked() -> None:
    assert SecretBox(MASTER).open("cd" * 32, "terminal-key") == "cd" * 32
    with pytest.raises(ValueError):
        SecretBox(b"short")
    with pytest.raises(ValueError):
        SecretBox(MASTER).seal("x", "p", b"short")
    assert "00" not in repr(SecretBox(MASTER))


def test_aes_gcm_with_the_hkdf_key_opens_what_was_sealed() -> None:
    """The format is what the docstring says: base64url(nonce || AES-256-GCM output)
    under HKDF(master, "scanpay enc2 aes-256-gcm"), the purpose as associated data."""
    sealed = SecretBox(MASTER).seal("cd" * 32, "wallet-secret", NONCE)
    text = sealed[len(PREFIX) :]
    blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    key = hkdf_sha256(MASTER, b"scanpay enc2 aes-256-gcm")
    opened = AESGCM(key).decrypt(
        blob[:NONCE_SIZE], blob[NONCE_SIZE:], b"scanpay enc2\x00wallet-secret"
    )
    assert opened == ("cd" * 32).encode()
