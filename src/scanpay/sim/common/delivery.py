"""How a reply leaves: at once, late (SLOW), or never (CHARGED_NO_REPLY).

A reply that must never come is held by :class:`DropReply`, the outermost ASGI
layer: the route has done its work (charged) and marks the request; the layer
swallows the reply and waits until the client hangs up (its timeout: the case a
real client meets when a reply is lost), then returns having sent nothing. A client
that never gives up has its connection closed, not a byte sent, after the outcome's
seconds: the layer returns a value where ASGI wants None, on which uvicorn closes the
connection (and logs an error line saying so).

Every simulator offers these faults, and a reply signed with the wrong key; their
descriptions and default seconds are here so each network's outcome list shows them
alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanpay.i18n import Text

__all__ = [
    "CHARGED_NO_REPLY_SECONDS",
    "CHARGED_NO_REPLY_TEXT",
    "SLOW_SECONDS",
    "SLOW_TEXT",
    "WRONG_SIGNATURE_TEXT",
    "DropReply",
    "deliver",
]

_DROP = "scanpay.sim.drop_after"

SLOW_SECONDS = 5.0
CHARGED_NO_REPLY_SECONDS = 120.0
SLOW_TEXT = Text(
    "照常处理，N 秒后才回答（默认 5）。",
    "Done as usual, the reply sent N seconds later (default 5).",
)
CHARGED_NO_REPLY_TEXT = Text(
    "照常处理（扣款），但不回答：等到客户端断开，最多 N 秒（默认 120）后断开连接。",
    "Done as usual (charged), no reply: held until the client hangs up, or the"
    " connection is closed after N seconds (default 120).",
)
WRONG_SIGNATURE_TEXT = Text(
    "照常处理，但回答用另一把密钥签名：客户端验签必须失败。",
    "Done as usual, the reply signed with another key: the client's check must fail.",
)


async def deliver(
    request: Request,
    response: Response,
    *,
    late: float | None = None,
    drop_after: float | None = None,
) -> Response:
    """``response``, sent ``late`` seconds from now (SLOW), or never, the connection
    dropped after ``drop_after`` seconds (CHARGED_NO_REPLY), or at once."""
    if late is not None:
        await asyncio.sleep(late)
    elif drop_after is not None:
        request.scope[_DROP] = drop_after
    return response


class DropReply:
    """The simulator's ASGI app: ``app``, with the reply of a request marked by
    :func:`deliver` swallowed. Must be what the server runs (outermost)."""

    def __init__(self, app: FastAPI) -> None:
        self.app: ASGIApp = app
        self.fastapi = app

    @property
    def state(self) -> State:
        return self.fastapi.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return None
        dropped = False

        async def guarded(message: Message) -> None:
            nonlocal dropped
            if _DROP in scope:
                dropped = True
                return
            await send(message)

        await self.app(scope, receive, guarded)
        if not dropped:
            return None
        cap = float(scope[_DROP])
        try:
            async with asyncio.timeout(cap):
                while (await receive())["type"] != "http.disconnect":
                    pass
            return None  # the client gave up: nothing was ever sent
        except TimeoutError:
            # Not None: uvicorn closes the connection without a byte of reply.
            return "connection closed: CHARGED_NO_REPLY"
