"""The built-in wallet's one-time payment codes: made offline, checked by the issuer.

A wallet account has a number (10 digits, the last a Luhn check digit) and a
32-byte secret shared by the issuer and the customer's phone. Time is cut
into steps of ``step_seconds``; a code belongs to one step, so a phone needs
no connection to make one, and the issuer accepts it for ``lifetime_seconds``
at most and once only (one code per account and step). Two forms of the
same code:

- **wallet digits** (付款码): ``prefix + account + OTP``, 18 digits by default;
  the OTP is RFC 6238 TOTP with HMAC-SHA256 over the step number;
- **EMV CPM**: an application template with the built-in wallet's AID, the
  token ``prefix + account`` (5A), the application transaction counter 9F36
  (must rise with every code the issuer accepts) and the cryptogram 9F26, an
  8-byte MAC over (account, ATC, step).

Pure: the caller passes the time (unix seconds) and keeps the used steps and
the last counter; this module only computes and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from scanpay.codes import ApplicationSpec, ConsumerPresentedCode, build_cpm

__all__ = [
    "BUILTIN_AID",
    "BUILTIN_LABEL",
    "CodeCheck",
    "CodeFormat",
    "CodeOutcome",
    "CpmFields",
    "account_number",
    "cpm_cryptogram",
    "cpm_fields",
    "is_account_number",
    "luhn_digit",
    "make_cpm",
    "make_digits",
    "otp",
    "verify_cpm",
    "verify_digits",
]

#: Proprietary AID (ISO 7816-5: an "F" RID is unregistered): F0 + ASCII "SCANPAY".
BUILTIN_AID = "F0" + b"SCANPAY".hex().upper()
BUILTIN_LABEL = "SCANPAY"
_MAX_ATC = 0xFFFF


@dataclass(frozen=True, slots=True)
class CodeFormat:
    """The shape and timing of the built-in wallet's codes."""

    prefix: str = "88"
    length: int = 18
    account_digits: int = 10
    step_seconds: int = 5
    lifetime_seconds: int = 60
    #: Steps ahead of the issuer's clock still accepted (a phone's clock runs fast).
    future_steps: int = 2
    #: How far back a matching code is reported as expired rather than invalid.
    expired_lookback_seconds: int = 600

    def __post_init__(self) -> None:
        if not self.prefix.isdigit() or not 1 <= len(self.prefix) <= 4:
            raise ValueError("the wallet prefix is 1-4 digits")
        if self.otp_digits < 6:
            raise ValueError("the code needs at least 6 OTP digits")
        if self.step_seconds < 1 or self.lifetime_seconds < self.step_seconds:
            raise ValueError("the lifetime must cover at least one step")

    @property
    def otp_digits(self) -> int:
        return self.length - len(self.prefix) - self.account_digits

    @property
    def window_steps(self) -> int:
        """Steps a code stays valid, its own included: it expires ``lifetime`` after its step."""
        return self.lifetime_seconds // self.step_seconds

    def step(self, unix_seconds: int) -> int:
        """The time step that contains ``unix_seconds``."""
        return unix_seconds // self.step_seconds


class CodeOutcome(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The issuer's verdict on a code, and the step it belongs to when it matched."""

    outcome: CodeOutcome
    step: int | None = None


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def account_number(serial: int, digits: int = 10) -> str:
    """The account number for a serial: zero-padded serial plus a Luhn check digit."""
    body = str(serial).rjust(digits - 1, "0")
    if serial < 1 or len(body) != digits - 1:
        raise ValueError("serial out of range for the account number length")
    return body + luhn_digit(body)


def is_account_number(text: str, digits: int = 10) -> bool:
    """Right length, digits only, Luhn check digit right."""
    return len(text) == digits and text.isdigit() and luhn_digit(text[:-1]) == text[-1]


def otp(secret: bytes, step: int, digits: int) -> str:
    """RFC 4226 dynamic truncation of HMAC-SHA256(secret, step), as RFC 6238 TOTP."""
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).rjust(digits, "0")


def make_digits(fmt: CodeFormat, account: str, secret: bytes, step: int) -> str:
    """The wallet-digits form of the code for ``step``."""
    return fmt.prefix + account + otp(secret, step, fmt.otp_digits)


def cpm_cryptogram(secret: bytes, account: str, atc: int, step: int) -> bytes:
    """9F26: the first 8 bytes of HMAC-SHA256 over ("CPM", account, ATC, step)."""
    message = b"CPM" + account.encode("ascii") + struct.pack(">HQ", atc, step)
    return hmac.new(secret, message, hashlib.sha256).digest()[:8]


def make_cpm(fmt: CodeFormat, account: str, secret: bytes, step: int, atc: int) -> str:
    """The EMV CPM form (base64 text) of the code for ``step`` with counter ``atc``."""
    if not 1 <= atc <= _MAX_ATC:
        raise ValueError("the application transaction counter is 1-65535")
    spec = ApplicationSpec(
        aid=BUILTIN_AID,
        label=BUILTIN_LABEL,
        pan=fmt.prefix + account,
        transparent=[
            ("9F26", cpm_cryptogram(secret, account, atc, step)),
            ("9F36", struct.pack(">H", atc)),
        ],
    )
    return build_cpm([spec])


@dataclass(frozen=True, slots=True)
class CpmFields:
    """What the issuer reads from a built-in wallet CPM: account, counter, cryptogram."""

    account: str
    atc: int
    cryptogram: bytes


def cpm_fields(fmt: CodeFormat, code: ConsumerPresentedCode) -> CpmFields | None:
    """The built-in wallet's fields of a parsed CPM, or ``None`` when it is not ours or broken."""
    if BUILTIN_AID not in code.aids:
        return None
    app = next(a for a in code.applications if a.aid == BUILTIN_AID)
    token, atc, cryptogram = app.pan, app.tag("9F36"), app.tag("9F26")
    if token is None or atc is None or cryptogram is None:
        return None
    if len(atc) != 2 or len(cryptogram) != 8 or not token.startswith(fmt.prefix):
        return None
    account = token[len(fmt.prefix) :]
    if not is_account_number(account, fmt.account_digits):
        return None
    return CpmFields(account, struct.unpack(">H", atc)[0], cryptogram)


def _candidate_steps(fmt: CodeFormat, now: int) -> tuple[list[int], list[int]]:
    current = fmt.step(now)
    live = list(range(current + fmt.future_steps, current - fmt.window_steps, -1))
    oldest = current - max(fmt.window_steps, fmt.expired_lookback_seconds // fmt.step_seconds)
    old = list(range(current - fmt.window_steps, oldest, -1))
    return live, old


def _search(fmt: CodeFormat, now: int, matches: Callable[[int], bool]) -> CodeCheck:
    live, old = _candidate_steps(fmt, now)
    for step in live:
        if matches(step):
            return CodeCheck(CodeOutcome.VALID, step)
    # Only to tell the cashier "expired" (54) rather than "invalid" (14).
    for step in old:
        if matches(step):
            return CodeCheck(CodeOutcome.EXPIRED, step)
    return CodeCheck(CodeOutcome.INVALID)


def verify_digits(fmt: CodeFormat, secret: bytes, code_otp: str, now: int) -> CodeCheck:
    """Check the OTP part of a wallet-digits code at time ``now`` (unix seconds)."""
    if len(code_otp) != fmt.otp_digits or not code_otp.isdigit():
        return CodeCheck(CodeOutcome.INVALID)
    expected = code_otp.encode()

    def matches(step: int) -> bool:
        return hmac.compare_digest(otp(secret, step, fmt.otp_digits).encode(), expected)

    return _search(fmt, now, matches)


def verify_cpm(fmt: CodeFormat, secret: bytes, fields: CpmFields, now: int) -> CodeCheck:
    """Check a CPM's cryptogram at time ``now``; the counter rule is the caller's."""

    def matches(step: int) -> bool:
        mac = cpm_cryptogram(secret, fields.account, fields.atc, step)
        return hmac.compare_digest(mac, fields.cryptogram)

    return _search(fmt, now, matches)
