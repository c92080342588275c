"""The host's OpenAPI document, made exact for integrators (``/openapi.json``).

FastAPI's generated document is refined in three ways a client generator needs:

- the four signature headers are a security requirement (``components.securitySchemes``,
  four ``apiKey`` schemes in the header, required together) on every signed
  operation, not optional per-call parameters;
- every signed reply declares the headers it carries (``X-Scanpay-Signature``...),
  and the idempotent creations ``X-Scanpay-Replayed``;
- no ``422``: the host answers a malformed request ``400`` with an ``ErrorBody``
  (result code 30), which is what the document says instead.

Operation ids are readable (``createPayment``): :func:`operation_id`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from scanpay.protocol.signing import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TERMINAL,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
)

__all__ = [
    "HEADER_REPLAYED",
    "REPLAYED_HEADER",
    "SECURITY_SCHEMES",
    "SIGNED_REPLY_HEADERS",
    "install_openapi",
    "operation_id",
]

HEADER_REPLAYED = "X-Scanpay-Replayed"
_ACTIVATION = "/v1/terminals/activate"
_ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "terminalId": {
        "type": "apiKey",
        "in": "header",
        "name": HEADER_TERMINAL,
        "description": "The terminal's id from activation (T000001).",
    },
    "timestamp": {
        "type": "apiKey",
        "in": "header",
        "name": HEADER_TIMESTAMP,
        "description": f"Unix seconds; within {MAX_SKEW_SECONDS} s of the host's clock.",
    },
    "nonce": {
        "type": "apiKey",
        "in": "header",
        "name": HEADER_NONCE,
        "description": "16-64 lower-case hex characters (`^[0-9a-f]{16,64}$`), new for "
        "every request: a nonce the host has seen is refused (401/63).",
    },
    "signature": {
        "type": "apiKey",
        "in": "header",
        "name": HEADER_SIGNATURE,
        "description": "Lower-case hex HMAC-SHA256, keyed with the terminal key (64 hex "
        "characters, as bytes), over `METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\n"
        "SHA256_HEX(BODY)`: PATH_WITH_QUERY is the request target exactly as sent, "
        "percent-encoding included (`/v1/transactions?from=2026-03-01T00%3A00%3A00%2B08%3A00`); "
        "BODY is the raw body bytes (empty for GET).",
    },
}
_SIGNED: list[dict[str, list[str]]] = [{name: [] for name in SECURITY_SCHEMES}]

_SIGNED_WHEN = (
    "Present when the reply is signed: every reply to a request whose signature "
    "verified. An unsigned reply is no answer (query)."
)
SIGNED_REPLY_HEADERS: dict[str, dict[str, Any]] = {
    HEADER_TERMINAL: {"description": _SIGNED_WHEN, "schema": {"type": "string"}},
    HEADER_TIMESTAMP: {
        "description": "The host's unix seconds. " + _SIGNED_WHEN,
        "schema": {"type": "string"},
    },
    HEADER_NONCE: {
        "description": "The request's nonce, echoed. " + _SIGNED_WHEN,
        "schema": {"type": "string"},
    },
    HEADER_SIGNATURE: {
        "description": "Hex HMAC-SHA256 with the terminal key over `v2\\nSTATUS\\nTIMESTAMP"
        "\\nNONCE\\nSHA256_HEX(BODY)\\nREQUEST_SIGNATURE` (signature version 2). " + _SIGNED_WHEN,
        "schema": {"type": "string"},
    },
}
REPLAYED_HEADER: dict[str, dict[str, Any]] = {
    HEADER_REPLAYED: {
        "description": "`true` when this is a repeat of an earlier request (same key, same "
        "body): nothing was done again, and the body is the current state.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

#: Readable prefixes for routes named alike in different areas.
_AREA = {"wallet page": "walletPage"}


def operation_id(route: APIRoute) -> str:
    """``createPayment`` for ``create_payment``: the route's explicit id, else its
    function name in lower camel case (prefixed by its area where names repeat)."""
    words = [w for w in route.name.split("_") if w]
    tag = str(route.tags[0]) if route.tags else ""
    prefix = _AREA.get(tag)
    if prefix:
        return prefix + "".join(w[:1].upper() + w[1:] for w in words)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def _refine(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None and "400" not in responses:
                responses["400"] = {
                    "description": "ErrorBody with code 30 FORMAT",
                    "content": {"application/json": {"schema": _ERROR_BODY}},
                }
            if not path.startswith("/v1/"):
                continue
            if path == _ACTIVATION:
                # Signed with the key it hands out (bound to an empty request signature).
                ok = responses.get("200", {})
                ok["headers"] = {**SIGNED_REPLY_HEADERS, **ok.get("headers", {})}
                continue
            operation["security"] = _SIGNED
            for answer in responses.values():
                answer["headers"] = {**SIGNED_REPLY_HEADERS, **answer.get("headers", {})}
    schemas: dict[str, Any] = components.get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        ref = f'"#/components/schemas/{name}"'
        if name in schemas and ref not in json.dumps(document):
            del schemas[name]
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the refined document at ``/openapi.json`` (built once, on first ask)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _refine(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                    servers=app.servers,
                )
            )
        return app.openapi_schema

    replace: Callable[[], dict[str, Any]] = openapi
    setattr(app, "openapi", replace)  # noqa: B010 - FastAPI's documented override
