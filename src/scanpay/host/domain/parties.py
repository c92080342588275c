"""Merchants and terminals: their states, and the rules for their set-up data.

Pure: statuses, allowed status changes, and validation of what an operator
types (MCC, names, fee rate, activation codes). Storage is the services' job.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "ACTIVATION_ALPHABET",
    "MerchantStatus",
    "TerminalStatus",
    "activation_code",
    "activation_digest",
    "can_transact",
    "fee_rate_ppm",
    "format_fee_rate",
    "key_is_usable",
    "merchant_status_after",
    "normalize_activation_code",
]

#: No 0/O, 1/I/L, 5/S, 2/Z: codes are read aloud and typed by hand.
ACTIVATION_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"


class MerchantStatus(StrEnum):
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class TerminalStatus(StrEnum):
    PENDING = "pending"  # added, not yet activated
    ACTIVE = "active"
    DISABLED = "disabled"


_MERCHANT_MOVES = {
    ("approve", MerchantStatus.IN_REVIEW): MerchantStatus.APPROVED,
    ("approve", MerchantStatus.APPROVED): MerchantStatus.APPROVED,
    # Approving a suspended merchant reinstates it.
    ("approve", MerchantStatus.SUSPENDED): MerchantStatus.APPROVED,
    ("suspend", MerchantStatus.IN_REVIEW): MerchantStatus.SUSPENDED,
    ("suspend", MerchantStatus.APPROVED): MerchantStatus.SUSPENDED,
    ("suspend", MerchantStatus.SUSPENDED): MerchantStatus.SUSPENDED,
}


def merchant_status_after(action: str, status: MerchantStatus) -> MerchantStatus:
    """The status after an operator's ``approve`` or ``suspend``; ValueError otherwise."""
    try:
        return _MERCHANT_MOVES[(action, status)]
    except KeyError:
        raise ValueError(f"cannot {action} a merchant that is {status}") from None


def can_transact(merchant: MerchantStatus, terminal: TerminalStatus) -> bool:
    """Only an active terminal of an approved (and so unsuspended) merchant takes payments."""
    return merchant is MerchantStatus.APPROVED and terminal is TerminalStatus.ACTIVE


def fee_rate_ppm(text: str) -> int:
    """A fee rate such as ``0.0038`` (0.38 %) as parts per million; ValueError if not 0-10 %."""
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"not a fee rate: {text!r}") from None
    ppm = rate * 1_000_000
    if not rate.is_finite() or ppm != ppm.to_integral_value() or not 0 <= rate <= Decimal("0.1"):
        raise ValueError("a fee rate is 0-0.1 with at most 6 decimals (0.0038 = 0.38 %)")
    return int(ppm)


def format_fee_rate(ppm: int) -> str:
    """Parts per million back to decimal text: 3800 -> "0.0038"."""
    return format((Decimal(ppm) / 1_000_000).normalize(), "f")


def activation_code(random_bytes: bytes) -> str:
    """A one-time activation code from 12 random bytes: ``XXXX-XXXX-XXXX``."""
    if len(random_bytes) < 12:
        raise ValueError("need 12 random bytes")
    chars = [ACTIVATION_ALPHABET[b % len(ACTIVATION_ALPHABET)] for b in random_bytes[:12]]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))


def normalize_activation_code(text: str) -> str:
    """Upper case without separators, as typed codes come in every shape."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def activation_digest(text: str) -> str:
    """What the host stores instead of the code: SHA-256 of its normal form.

    A fast hash is enough: the code has ~57 bits of entropy, lives a day and
    is looked up by this digest (the request carries no terminal id).
    """
    return hashlib.sha256(normalize_activation_code(text).encode()).hexdigest()


def key_is_usable(not_after: datetime | None, now: datetime) -> bool:
    """A terminal key is usable until its ``not_after`` (None: the current key)."""
    return not_after is None or now < not_after
