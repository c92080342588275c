"""The built-in wallet's codes: RFC 6238 vectors, lifetime, forms, tampering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.codes import parse_cpm, parse_payment_code
from scanpay.host.domain.wallet_codes import (
    BUILTIN_AID,
    CodeFormat,
    CodeOutcome,
    CpmFields,
    account_number,
    cpm_fields,
    is_account_number,
    make_cpm,
    make_digits,
    otp,
    verify_cpm,
    verify_digits,
)

FMT = CodeFormat()
SECRET = bytes(range(32))
ACCOUNT = account_number(18)
T0 = 1_800_000_000  # a multiple of the 5 s step


def test_rfc6238_sha256_vectors() -> None:
    # RFC 6238 appendix B, HMAC-SHA256, 30 s steps, 8 digits.
    seed = b"12345678901234567890123456789012"
    assert otp(seed, 59 // 30, 8) == "46119246"
    assert otp(seed, 1111111109 // 30, 8) == "68084774"
    assert otp(seed, 20000000000 // 30, 8) == "77737706"


def test_account_numbers_carry_a_luhn_digit() -> None:
    assert account_number(1) == "0000000018"
    assert is_account_number("0000000018") and not is_account_number("0000000017")
    with pytest.raises(ValueError):
        account_number(0)


def test_digits_form_is_eighteen_digits_of_the_builtin_wallet() -> None:
    digits = make_digits(FMT, ACCOUNT, SECRET, FMT.step(T0))
    assert len(digits) == 18 and digits.startswith("88" + ACCOUNT)
    assert parse_payment_code(digits).wallet == "scanpay"


def test_a_code_lives_sixty_seconds() -> None:
    code_otp = make_digits(FMT, ACCOUNT, SECRET, FMT.step(T0))[12:]
    assert verify_digits(FMT, SECRET, code_otp, T0).outcome is CodeOutcome.VALID
    assert verify_digits(FMT, SECRET, code_otp, T0 + 59).outcome is CodeOutcome.VALID
    assert verify_digits(FMT, SECRET, code_otp, T0 + 60).outcome is CodeOutcome.EXPIRED
    assert verify_digits(FMT, SECRET, code_otp, T0 + 3600).outcome is CodeOutcome.INVALID
    # A phone a few seconds fast is fine; a minute fast is not.
    assert verify_digits(FMT, SECRET, code_otp, T0 - 10).outcome is CodeOutcome.VALID
    assert verify_digits(FMT, SECRET, code_otp, T0 - 60).outcome is CodeOutcome.INVALID
    assert verify_digits(FMT, SECRET, code_otp, T0).step == FMT.step(T0)


def test_cpm_form_carries_account_counter_and_cryptogram() -> None:
    text = make_cpm(FMT, ACCOUNT, SECRET, FMT.step(T0), atc=5)
    parsed = parse_cpm(text)
    assert parsed.aids == (BUILTIN_AID,)
    assert parsed.tag("9F36") == b"\x00\x05" and len(parsed.tag("9F26") or b"") == 8
    fields = cpm_fields(FMT, parsed)
    assert fields is not None and (fields.account, fields.atc) == (ACCOUNT, 5)
    assert verify_cpm(FMT, SECRET, fields, T0 + 30).outcome is CodeOutcome.VALID
    assert verify_cpm(FMT, SECRET, fields, T0 + 61).outcome is CodeOutcome.EXPIRED
    forged = CpmFields(fields.account, 6, fields.cryptogram)  # counter changed
    assert verify_cpm(FMT, SECRET, forged, T0).outcome is CodeOutcome.INVALID
    assert verify_cpm(FMT, bytes(32), fields, T0).outcome is CodeOutcome.INVALID


@given(st.integers(0, 10**6), st.integers(0, 17))
def test_a_changed_digit_is_invalid_or_another_step(step_offset: int, at: int) -> None:
    step = FMT.step(T0) + step_offset
    digits = make_digits(FMT, ACCOUNT, SECRET, step)
    now = step * FMT.step_seconds
    pos = 12 + at % 6
    changed = digits[:pos] + str((int(digits[pos]) + 1) % 10) + digits[pos + 1 :]
    check = verify_digits(FMT, SECRET, changed[12:], now)
    assert check.outcome is CodeOutcome.INVALID or check.step != step


def test_format_rules() -> None:
    assert CodeFormat(prefix="9").otp_digits == 7
    assert CodeFormat().window_steps == 12
    with pytest.raises(ValueError):
        CodeFormat(prefix="8888")  # leaves 4 OTP digits
    with pytest.raises(ValueError):
        make_cpm(FMT, ACCOUNT, SECRET, 1, atc=0)
