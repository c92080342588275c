"""Request and response signatures between a terminal and the host.

A terminal signs every request with its 32-byte key (HMAC-SHA256) over five
lines joined by ``\\n`` (no trailing newline)::

    METHOD
    PATH_WITH_QUERY      (the request target exactly as sent, percent-encoding kept)
    TIMESTAMP            (unix seconds)
    NONCE                (16-64 lower-case hex characters, never reused)
    SHA256_HEX(BODY)

and the host signs every reply with the same key. Since signature version 2
(a request carries ``X-Scanpay-Signature-Version: 2``) the reply is bound to the
request it answers, over six lines::

    v2
    STATUS
    TIMESTAMP
    NONCE                (the request's, echoed)
    SHA256_HEX(BODY)     (the reply's)
    REQUEST_SIGNATURE    (the request's own signature, lower-case hex)

The request's signature covers its method, path, timestamp, nonce and body, so
a reply signed over it answers those very bytes and no other request. The host
signs only requests whose signature it verified: an answer to a request that
did not authenticate goes out unsigned, which a terminal treats as no answer.
Without that, anyone could send a junk request under a terminal's id and nonce
and hand the terminal the host's signed refusal of it in place of the real
answer (issue 13: a charged sale shown as declined).

Version 1 replies (``STATUS\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)``, not bound
to the request) are still answered to older terminals for a stated period
(the host's ``legacy_signature_until``). The module is pure: the
caller passes the clock and the nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = [
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_SIGNATURE_VERSION",
    "HEADER_TERMINAL",
    "HEADER_TIMESTAMP",
    "MAX_SKEW_SECONDS",
    "REFUSED_COPY_MAY_HAVE_PASSED",
    "SIGNATURE_VERSION",
    "SignedHeaders",
    "body_hash",
    "is_valid_nonce",
    "legacy_response_message",
    "request_message",
    "response_message",
    "sign",
    "verify",
]

HEADER_TERMINAL = "X-Scanpay-Terminal"
HEADER_TIMESTAMP = "X-Scanpay-Timestamp"
HEADER_NONCE = "X-Scanpay-Nonce"
HEADER_SIGNATURE = "X-Scanpay-Signature"
HEADER_SIGNATURE_VERSION = "X-Scanpay-Signature-Version"
SIGNATURE_VERSION = 2
"""The version a terminal asks for in :data:`HEADER_SIGNATURE_VERSION`; absent means 1."""
MAX_SKEW_SECONDS = 300

REFUSED_COPY_MAY_HAVE_PASSED = frozenset({HEADER_NONCE, HEADER_TIMESTAMP})
"""Fields whose refusal (a replayed nonce, a stale timestamp) is not a "no".

On a network that duplicates requests, the host may accept one copy and refuse
the other for its nonce; the sender must then treat the refusal as no answer
and ask for the stored result, never as a decline.
"""

_NONCE = re.compile(r"[0-9a-f]{16,64}")


def body_hash(body: bytes) -> str:
    """Lower-case hex SHA-256 of the raw body bytes (empty body included)."""
    return hashlib.sha256(body).hexdigest()


def request_message(method: str, path: str, timestamp: int | str, nonce: str, body: bytes) -> bytes:
    """The bytes a terminal signs for one request. ``path`` includes the query string."""
    return "\n".join((method.upper(), path, str(timestamp), nonce, body_hash(body))).encode()


def response_message(
    status: int, timestamp: int | str, nonce: str, body: bytes, request_signature: str
) -> bytes:
    """The bytes the host signs for one reply (version 2), bound to the request it
    answers by ``request_signature`` (empty for the unsigned activation request)."""
    return "\n".join(
        ("v2", str(status), str(timestamp), nonce, body_hash(body), request_signature.lower())
    ).encode()


def legacy_response_message(status: int, timestamp: int | str, nonce: str, body: bytes) -> bytes:
    """The bytes the host signs for one reply to a version 1 terminal (not bound)."""
    return "\n".join((str(status), str(timestamp), nonce, body_hash(body))).encode()


def sign(key_hex: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` with the key given as 64 hex characters."""
    return hmac.new(bytes.fromhex(key_hex), message, hashlib.sha256).hexdigest()


def verify(key_hex: str, message: bytes, signature: str) -> bool:
    """Constant-time check of a signature; a malformed one is simply wrong."""
    try:
        expected = sign(key_hex, message)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature.strip().lower())


def is_valid_nonce(nonce: str) -> bool:
    """16-64 lower-case hex characters."""
    return bool(_NONCE.fullmatch(nonce))


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The four signature headers of one message."""

    terminal_id: str
    timestamp: int
    nonce: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            HEADER_TERMINAL: self.terminal_id,
            HEADER_TIMESTAMP: str(self.timestamp),
            HEADER_NONCE: self.nonce,
            HEADER_SIGNATURE: self.signature,
        }

    @classmethod
    def for_request(
        cls,
        *,
        terminal_id: str,
        key_hex: str,
        method: str,
        path: str,
        body: bytes,
        timestamp: int,
        nonce: str,
    ) -> SignedHeaders:
        """Headers for a request; ``timestamp`` and ``nonce`` come from the caller."""
        message = request_message(method, path, timestamp, nonce, body)
        return cls(terminal_id, timestamp, nonce, sign(key_hex, message))
