"""One HTTP call to a network held to its own deadline, for the adapters that speak
HTTP themselves (Alipay, UnionPay; WeChat Pay's v3 goes through ``wechatpayv3``).

httpx's timeouts are per operation: a reply trickled in byte by byte would outlast
them, so the whole call is held to its own deadline as it reads (one silent read may
still take up to ``seconds`` past it: at most twice in all), and a reply longer than
the caller allows is no reply.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

__all__ = ["NoReply", "send_within"]


class NoReply(Exception):
    """No reply we may believe: the text says why (a timeout, a reset, a bad signature)."""


def send_within(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    seconds: float,
    connect: float,
    limit: int,
    **request: Any,
) -> tuple[int, bytes]:
    """``method`` ``url`` on ``http`` (``request``: httpx's ``content``, ``data``,
    ``headers``): the reply's status and body within ``seconds``, or :class:`NoReply`."""
    deadline = time.monotonic() + seconds
    timeout = httpx.Timeout(seconds, connect=min(connect, seconds))
    chunks: list[bytes] = []
    size = 0
    try:
        with http.stream(method, url, timeout=timeout, **request) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise NoReply("timeout")
                if size > limit:
                    raise NoReply("reply too long")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)
    except httpx.TimeoutException:
        raise NoReply("timeout") from None
    except httpx.HTTPError as exc:  # refused, reset, closed without a reply...
        raise NoReply(type(exc).__name__) from None
