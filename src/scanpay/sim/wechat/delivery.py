"""How a reply leaves: at once, late (SLOW), or never (CHARGED_NO_REPLY).

A reply that must never come is held by :class:`DropReply`, the outermost ASGI
layer: the route has done its work (charged) and marks the request; the layer
swallows the reply and waits until the client hangs up (its timeout: the case a
real client meets when a reply is lost), then returns having sent nothing. A client
that never gives up has its connection closed, not a byte sent, after the outcome's
seconds: the layer returns a value where ASGI wants None, on which uvicorn closes the
connection (and logs an error line saying so).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanpay.sim.wechat.outcomes import Chosen, Outcome

__all__ = ["DropReply", "deliver"]

_DROP = "scanpay.sim.drop_after"


async def deliver(request: Request, response: Response, chosen: Chosen | None) -> Response:
    """``response``, sent as ``chosen`` (SLOW, CHARGED_NO_REPLY) says, or at once."""
    if chosen is not None and chosen.outcome is Outcome.SLOW:
        await asyncio.sleep(chosen.delay)
    elif chosen is not None and chosen.outcome is Outcome.CHARGED_NO_REPLY:
        request.scope[_DROP] = chosen.delay
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
