"""``/v1/orders``: merchant-presented orders (the customer scans the terminal's QR).

A terminal creates an order and shows its QR, then learns the outcome by
long-poll (``GET /v1/orders/{out_trade_no}?wait=25``) or by a signed event
stream (``GET /v1/orders/{out_trade_no}/events``); both end as soon as the
order leaves CREATED (PAID, EXPIRED or CLOSED).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.api.events import HEADER_STREAM, KEEPALIVE, encode_event
from scanpay.host.api.openapi import HEADER_REPLAYED, REPLAYED_HEADER
from scanpay.host.api.waiters import POLL_SECONDS, Waiters
from scanpay.host.services import orders
from scanpay.protocol.models import Order, OrderRequest, OrderStatus
from scanpay.protocol.signing import HEADER_NONCE

__all__ = ["router"]

router = APIRouter(prefix="/v1/orders", tags=["orders"])

TradeNoPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]

#: Longest a long-poll may wait, and an event stream may stay open.
MAX_WAIT = 60
MAX_STREAM_SECONDS = 900
KEEPALIVE_SECONDS = 15.0


def _waiters(request: Request) -> Waiters:
    waiters: Waiters = request.app.state.waiters
    return waiters


@router.post(
    "",
    response_model=Order,
    operation_id="createOrder",
    responses={200: {"headers": REPLAYED_HEADER}, **refusals("13", "31", "58", "95")},
)
def create_order(
    body: OrderRequest, ctx: HostDep, terminal: CurrentTerminal, response: Response
) -> Order:
    """A dynamic EMV merchant-presented QR for ``amount`` (name, city, MCC, the host's
    payee template and the order's reference label in 62/05), valid ``expires_in``
    seconds. Idempotent on ``out_trade_no`` like payments (replay header, 409/95)."""
    created = orders.create_order(ctx, terminal, body)
    if created.replayed:
        response.headers[HEADER_REPLAYED] = "true"
    return created.order


@router.get(
    "/{out_trade_no}", response_model=Order, operation_id="getOrder", responses=refusals("25")
)
async def get_order(
    out_trade_no: TradeNoPath,
    ctx: HostDep,
    terminal: CurrentTerminal,
    request: Request,
    wait: Annotated[
        int, Query(ge=0, le=MAX_WAIT, description="Long-poll: seconds to wait for a change")
    ] = 0,
) -> Order:
    """The order's state. With ``wait``, the answer waits (up to ``wait`` seconds) while
    the order is CREATED, and comes as soon as it is paid, expires or is closed."""
    body = await run_in_threadpool(orders.get_order, ctx, terminal.merchant_pk, out_trade_no)
    if wait == 0 or body.status is not OrderStatus.CREATED:
        return body
    waiters = _waiters(request)
    deadline = time.monotonic() + wait
    with waiters.watch(orders.order_topic(terminal.merchant_pk, out_trade_no)) as event:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await request.is_disconnected():
                return body
            await waiters.wait(event, min(remaining, POLL_SECONDS))
            body = await run_in_threadpool(
                orders.get_order, ctx, terminal.merchant_pk, out_trade_no
            )
            if body.status is not OrderStatus.CREATED:
                return body


@router.get(
    "/{out_trade_no}/events",
    response_class=StreamingResponse,
    operation_id="streamOrderEvents",
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "Server-sent events: `event: order`, `id: <seq>`, "
                        "`data: <Order as JSON>`, `signature: <hex>` (see docs/host.md)",
                    }
                }
            },
            "description": "Signed events",
        },
        **refusals("25"),
    },
)
async def order_events(
    out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal, request: Request
) -> StreamingResponse:
    """Server-sent events: an ``order`` event with the order now, then one per change,
    until it leaves CREATED. Each event is signed (``signature:`` field, see
    ``docs/host.md``); the reply's headers are signed over the empty body."""
    first = await run_in_threadpool(orders.get_order, ctx, terminal.merchant_pk, out_trade_no)
    nonce = request.headers.get(HEADER_NONCE, "")
    waiters = _waiters(request)
    topic = orders.order_topic(terminal.merchant_pk, out_trade_no)

    async def stream() -> AsyncIterator[bytes]:
        seq, body, last = 0, first, None
        end = time.monotonic() + MAX_STREAM_SECONDS
        quiet_since = time.monotonic()
        with waiters.watch(topic) as event:
            while True:
                if body.status != last:
                    seq, last = seq + 1, body.status
                    data = body.model_dump_json(by_alias=True)
                    yield encode_event(terminal.key_hex, nonce, seq, "order", data)
                    quiet_since = time.monotonic()
                if body.status is not OrderStatus.CREATED or time.monotonic() > end:
                    return
                if time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                    yield KEEPALIVE
                    quiet_since = time.monotonic()
                await waiters.wait(event, POLL_SECONDS)
                body = await run_in_threadpool(
                    orders.get_order, ctx, terminal.merchant_pk, out_trade_no
                )

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={HEADER_STREAM: "events", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/{out_trade_no}/close",
    response_model=Order,
    operation_id="closeOrder",
    responses=refusals("25", "95"),
)
def close_order(out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Order:
    """Close the order: CREATED or EXPIRED becomes CLOSED; PAID stays PAID (the answer
    says so). Idempotent. A payment arriving after the close is refunded at once."""
    return orders.close_order(ctx, terminal, out_trade_no)


def _qr(ctx: HostDep, terminal: CurrentTerminal, out_trade_no: str, kind: str) -> Response:
    body = orders.get_order(ctx, terminal.merchant_pk, out_trade_no)
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(orders.render_qr(body.payload, kind), media_type=media)


@router.get(
    "/{out_trade_no}/qr.png",
    response_class=Response,
    operation_id="getOrderQrPng",
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The order's QR",
        },
        **refusals("25"),
    },
)
def order_qr_png(out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Response:
    """The order's QR code as PNG (for the terminal's screen or customer display)."""
    return _qr(ctx, terminal, out_trade_no, "png")


@router.get(
    "/{out_trade_no}/qr.svg",
    response_class=Response,
    operation_id="getOrderQrSvg",
    responses={
        200: {
            "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            "description": "The order's QR",
        },
        **refusals("25"),
    },
)
def order_qr_svg(out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Response:
    """The order's QR code as SVG."""
    return _qr(ctx, terminal, out_trade_no, "svg")
