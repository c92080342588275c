"""One-time payment codes: drawn fresh for a wallet, kept only as hashes, short-lived.

A network's codes are digits after one of its prefixes (WeChat Pay's 10 to 15, Alipay's
25 to 30, UnionPay's 62); what a test attached to a code (an outcome and its
seconds...) is kept in the network's own columns of the ``codes`` table.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from scanpay.sim.common.crypto import code_hash, random_digits
from scanpay.sim.common.store import SimStore

__all__ = ["issue_code"]


def issue_code(
    store: SimStore[Any, Any],
    now: datetime,
    ttl: float,
    prefixes: Sequence[str],
    wallet_id: int,
    *,
    digits: int = 16,
    **attached: Any,
) -> tuple[str, datetime]:
    """A fresh code for ``wallet_id`` (a prefix and ``digits`` digits, none in use),
    good for ``ttl`` seconds from ``now``, with ``attached`` kept beside it; and its
    expiry."""
    expires = now + timedelta(seconds=ttl)
    with store.transaction():
        while True:
            code = secrets.choice(prefixes) + random_digits(digits)
            if store.code(code_hash(code)) is None:
                break
        store.add_code(
            hash=code_hash(code),
            wallet_id=wallet_id,
            issued_at=now,
            expires_at=expires,
            **attached,
        )
    return code, expires
