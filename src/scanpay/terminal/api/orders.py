"""``/api/orders``: show-to-pay - the customer scans the merchant's dynamic QR."""

from __future__ import annotations

import io
import time
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Query, Response

from scanpay.terminal.api.deps import AgentDep, SessionDep, charge_of
from scanpay.terminal.api.schemas import OrderIn, order_view
from scanpay.terminal.errors import TerminalError

__all__ = ["router"]

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.post("", status_code=201)
def create_order(
    body: OrderIn, agent: AgentDep, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Ask the host for an order QR with the amount (``POST /v1/orders``) and return
    it once shown: the payload and a QR image URL served by this agent.

    One start, one order: the same request again with the same ``request_key`` while
    its order can still be paid (a double click, a retry) answers that same order,
    with ``X-Scanpay-Replayed: true``. Any other start closes that order on the host
    (no screen shows it any more) and cancels a sale that was never sent."""
    amount, currency = charge_of(agent, body)
    order, replayed = agent.engine.orders.start(
        amount,
        currency,
        session.operator.operator_id,
        note=body.note,
        expires_in=body.expires_in,
        request_key=body.request_key,
    )
    if replayed:
        response.headers["X-Scanpay-Replayed"] = "true"
    if order.state.value == "FAILED" and order.code == "25":
        raise TerminalError("host_feature_missing", path="/v1/orders")
    return order_view(order)


@router.get("/{out_trade_no}")
def get_order(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
    version: int | None = None,
) -> dict[str, Any]:
    """The order; with ``wait`` and ``version``, blocks until it changes."""
    order = agent.engine.orders.get(out_trade_no)
    if wait and version is not None:
        end = agent.clock() + wait
        while order.version == version and agent.clock() < end:
            time.sleep(0.1)
            order = agent.engine.orders.get(out_trade_no)
    return order_view(order)


@router.get("/{out_trade_no}/qr.svg")
def order_qr(out_trade_no: str, agent: AgentDep, session: SessionDep) -> Response:
    """The order's QR as SVG, drawn here (no call to the host, no CDN)."""
    order = agent.engine.orders.get(out_trade_no)
    if not order.payload:
        raise TerminalError("order_not_found", out_trade_no=out_trade_no)
    # A whole SVG document (with its namespace): the screen shows it with <img>.
    out = io.BytesIO()
    segno.make_qr(order.payload, error="M").save(out, kind="svg", scale=8, border=4)
    return Response(out.getvalue(), media_type="image/svg+xml")


@router.post("/{out_trade_no}/cancel")
def cancel_order(out_trade_no: str, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Close the order on the host; a payment arriving later is refunded by the host.
    The screen calls it too when it leaves an order still payable (back, another
    screen, the QR's time up)."""
    return order_view(agent.engine.orders.cancel(out_trade_no, session.operator.operator_id))
