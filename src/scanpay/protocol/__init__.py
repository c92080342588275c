"""The terminal-host protocol: signatures, result codes and message bodies.

Shared by the host (which serves the API) and the terminal agent (which calls
it), so the two can never disagree on a field or a code.
"""

from scanpay.protocol.result_codes import RESULT_CODES, ResultClass, ResultCode, result_code
from scanpay.protocol.signing import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_VERSION,
    HEADER_TERMINAL,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
    REFUSED_COPY_MAY_HAVE_PASSED,
    SIGNATURE_VERSION,
    SignedHeaders,
    body_hash,
    is_valid_nonce,
    legacy_response_message,
    request_message,
    response_message,
    sign,
    verify,
)

__all__ = [
    "HEADER_NONCE",
    "HEADER_SIGNATURE",
    "HEADER_SIGNATURE_VERSION",
    "HEADER_TERMINAL",
    "HEADER_TIMESTAMP",
    "MAX_SKEW_SECONDS",
    "REFUSED_COPY_MAY_HAVE_PASSED",
    "RESULT_CODES",
    "SIGNATURE_VERSION",
    "ResultClass",
    "ResultCode",
    "SignedHeaders",
    "body_hash",
    "is_valid_nonce",
    "legacy_response_message",
    "request_message",
    "response_message",
    "result_code",
    "sign",
    "verify",
]
