"""Request fingerprints: how the host tells "the same request again" from "a different one".

Idempotency keys are (merchant, out_trade_no). A retry must carry the same
body; the host compares a SHA-256 over a canonical JSON form of the validated
request (sorted keys, defaults filled in), so field order, spacing and an
omitted default do not make a retry look different.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["fingerprint"]


def fingerprint(fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``fields``."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
