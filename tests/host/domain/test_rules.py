"""PIN lockout, versions, parties, fingerprints (the risk rules: test_risk.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanpay.host.domain.fingerprint import fingerprint
from scanpay.host.domain.parties import (
    MerchantStatus,
    TerminalStatus,
    activation_code,
    activation_digest,
    can_transact,
    fee_rate_ppm,
    format_fee_rate,
    key_is_usable,
    merchant_status_after,
)
from scanpay.host.domain.pin import PinPolicy, PinState, is_valid_pin, needs_pin
from scanpay.host.domain.versions import is_supported, parse_version

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_pin_lockout_arithmetic() -> None:
    policy = PinPolicy(max_tries=3, lock_seconds=900)
    state = PinState()
    state = policy.failure(state, NOW)
    state = policy.failure(state, NOW)
    assert (state.failures, policy.tries_left(state, NOW)) == (2, 1)
    state = policy.failure(state, NOW)
    assert policy.is_locked(state, NOW) and policy.tries_left(state, NOW) == 0
    assert policy.is_locked(state, NOW + timedelta(seconds=899))
    later = NOW + timedelta(seconds=900)
    assert not policy.is_locked(state, later) and policy.tries_left(state, later) == 3
    assert policy.failure(state, later).failures == 1  # a fresh count after the lock
    assert policy.success() == PinState()
    assert needs_pin(100_001, 100_000) and not needs_pin(100_000, 100_000)
    assert is_valid_pin("012345") and not is_valid_pin("12345") and not is_valid_pin("١٢٣٤٥٦")


@pytest.mark.parametrize(
    ("version", "minimum", "ok"),
    [
        ("1.0.0", "1.0.0", True),
        ("1.0", "1.0.0", True),
        ("1.2.10", "1.2.9", True),
        ("1.0.0rc1", "1.0.0", False),
        ("1.0.0", "1.0.0-beta", True),
        ("0.9.9", "1.0.0", False),
        ("v2.0", "1.9.9", True),
    ],
)
def test_versions(version: str, minimum: str, ok: bool) -> None:
    assert is_supported(version, minimum) is ok


def test_bad_versions() -> None:
    for text in ("", "abc", "1..2", "1.2.3.4.5"):
        with pytest.raises(ValueError):
            parse_version(text)


def test_parties() -> None:
    assert merchant_status_after("approve", MerchantStatus.IN_REVIEW) is MerchantStatus.APPROVED
    assert merchant_status_after("suspend", MerchantStatus.APPROVED) is MerchantStatus.SUSPENDED
    with pytest.raises(ValueError):
        merchant_status_after("close", MerchantStatus.APPROVED)
    assert can_transact(MerchantStatus.APPROVED, TerminalStatus.ACTIVE)
    assert not can_transact(MerchantStatus.SUSPENDED, TerminalStatus.ACTIVE)
    assert not can_transact(MerchantStatus.APPROVED, TerminalStatus.PENDING)
    assert fee_rate_ppm("0.0038") == 3800 and format_fee_rate(3800) == "0.0038"
    for bad in ("0.2", "-0.001", "0.00000001", "x", "NaN"):
        with pytest.raises(ValueError):
            fee_rate_ppm(bad)
    code = activation_code(bytes(range(12)))
    assert len(code) == 14 and code.count("-") == 2
    assert activation_digest(code) == activation_digest(code.lower().replace("-", " "))
    assert key_is_usable(None, NOW) and key_is_usable(NOW + timedelta(seconds=1), NOW)
    assert not key_is_usable(NOW, NOW)


def test_fingerprint_ignores_key_order_only() -> None:
    a = fingerprint({"amount": 1, "out_trade_no": "X"})
    assert a == fingerprint({"out_trade_no": "X", "amount": 1})
    assert a != fingerprint({"out_trade_no": "X", "amount": 2})
