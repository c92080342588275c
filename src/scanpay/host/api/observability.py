"""The outermost middleware: a request id for every request, an access log, metrics.

The id comes from the client's ``X-Request-Id`` (8-64 letters, digits, ``-``
or ``_``) or is made up; it is echoed in the reply's ``X-Request-Id`` and set
in :data:`scanpay.host.logs.request_id` for every log record written while the
request is served. Each answer is counted in ``scanpay_http_requests_total``
and timed in ``scanpay_http_request_duration_seconds`` by route template
(``/v1/orders/{out_trade_no}``, never the raw path).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanpay.host.logs import request_id

__all__ = ["HEADER_REQUEST_ID", "RequestContext"]

HEADER_REQUEST_ID = "X-Request-Id"
_VALID_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

log = logging.getLogger("scanpay.host.access")


class RequestContext:
    """ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        rid = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            ctx = getattr(scope["app"].state, "ctx", None)
            if ctx is not None:
                ctx.metrics.request(scope["method"], label, status, elapsed)
            log.info(
                "%s %s %s %.1f ms",
                scope["method"],
                scope["path"],
                status,
                elapsed * 1000,
                extra={"route": label, "status": status, "ms": round(elapsed * 1000, 1)},
            )
            request_id.reset(token)
