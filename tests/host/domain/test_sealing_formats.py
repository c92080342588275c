"""Every sealed format ever written opens; an unknown one is refused; fingerprints."""

from __future__ import annotations

import pytest

from scanpay.host.domain.sealing import (
    NONCE_SIZE,
    SealError,
    SecretBox,
    hkdf_sha256,
    is_current,
    is_sealed,
    key_fingerprint,
    sealed_format,
    short_fingerprint,
)

MASTER = bytes(range(32))
# Written by bcec4f4's SecretBox (enc1, HMAC-SHA256 CTR) under MASTER with the nonces
# bytes(range(16)) and bytes(16): the upgrade fixtures hold more of them.
ENC1_TERMINAL = (
    "enc1:AAECAwQFBgcICQoLDA0ODypSEUVrl4lcH1DuA9WIDF5tvTq_Gmo3vGQb_p9VPWvy71541Jc4GgcF6RmUw1ly"
    "a93lxyUbz7MgxqMGIRvclclJ_cXYGIKDfmaqCg7voz69XOc1NDKMR2Yhe5YHlbIFHA"
)
ENC1_WALLET = (
    "enc1:AAAAAAAAAAAAAAAAAAAAAGLrVGunkhXX0tOpf7o9zHd5aI74UvGvP-OEVESaRNCyVGts91qTeHO9UsN3HE6P"
    "Yxr4HI0wro_fqhYcLXDdo8-YdUrGyq6_D4X9j_9dnSN2mujxcuVYmzzlm4v8bLs2Zw"
)


def test_enc1_values_of_earlier_releases_open() -> None:
    box = SecretBox(MASTER)
    assert box.open(ENC1_TERMINAL, "terminal-key") == "ab" * 32
    assert box.open(ENC1_WALLET, "wallet-secret") == "cd" * 32
    assert sealed_format(ENC1_TERMINAL) == "enc1" and is_sealed(ENC1_TERMINAL)
    assert not is_current(ENC1_TERMINAL)


def test_enc1_with_a_wrong_key_purpose_or_edit_does_not_open() -> None:
    with pytest.raises(SealError):
        SecretBox(bytes(32)).open(ENC1_TERMINAL, "terminal-key")
    with pytest.raises(SealError):
        SecretBox(MASTER).open(ENC1_TERMINAL, "wallet-secret")
    edited = ENC1_TERMINAL[:20] + ("A" if ENC1_TERMINAL[20] != "A" else "B") + ENC1_TERMINAL[21:]
    with pytest.raises(SealError):
        SecretBox(MASTER).open(edited, "terminal-key")
    with pytest.raises(SealError):
        SecretBox(MASTER).open("enc1:AAAA", "terminal-key")


def test_an_unknown_format_is_refused_not_taken_for_plain_text() -> None:
    sealed = SecretBox(MASTER).seal("ab" * 32, "terminal-key", bytes(NONCE_SIZE))
    for value in ("enc3:" + sealed[5:], "enc0:AAAA", "enc17:x"):
        with pytest.raises(SealError):
            SecretBox(MASTER).open(value, "terminal-key")
    assert SecretBox(MASTER).open("ab" * 32, "terminal-key") == "ab" * 32
    assert sealed_format("ab" * 32) is None and is_current(sealed)


def test_the_fingerprint_names_the_key_and_reveals_neither_it_nor_its_hash() -> None:
    import hashlib

    fingerprint = key_fingerprint(MASTER)
    assert fingerprint == SecretBox(MASTER).fingerprint and len(fingerprint) == 32
    assert fingerprint != key_fingerprint(bytes(32))
    assert fingerprint not in MASTER.hex() and fingerprint not in hashlib.sha256(MASTER).hexdigest()
    assert fingerprint != hkdf_sha256(MASTER, b"scanpay enc2 aes-256-gcm", 16).hex()
    assert short_fingerprint(fingerprint) == "-".join(
        fingerprint[i : i + 4] for i in range(0, 16, 4)
    )
