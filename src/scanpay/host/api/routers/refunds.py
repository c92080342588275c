"""``/v1/refunds``: refund all or part of a payment, look a refund up, and list the
refunds a terminal's day close counts (its payments' refunds, wherever made)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.api.openapi import HEADER_REPLAYED, REPLAYED_HEADER
from scanpay.host.errors import HostError
from scanpay.host.services import audit, batches, refunds
from scanpay.i18n import Text
from scanpay.protocol.models import Refund, RefundList, RefundRequest

__all__ = ["router"]

router = APIRouter(prefix="/v1/refunds", tags=["refunds"])

RefundNoPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.post(
    "",
    response_model=Refund,
    operation_id="createRefund",
    responses={200: {"headers": REPLAYED_HEADER}, **refusals("13", "25", "58", "95")},
)
def create_refund(
    body: RefundRequest, ctx: HostDep, terminal: CurrentTerminal, response: Response
) -> Refund:
    """Refund ``amount`` of a payment back to the payer (a supervisor in ``approved_by``).

    200 with the refund: SUCCESS (00; the payment becomes PARTIALLY_REFUNDED or
    REFUNDED), or FAILED with 12 (the payment holds no money: failed, reversed)
    or 57 (risk rules). Idempotent on ``out_refund_no``: the same body again
    returns the stored refund (``X-Scanpay-Replayed: true``), another body is
    409/95. More than is left to refund is 400/13 and changes nothing.
    """
    created = refunds.create_refund(
        ctx,
        body,
        merchant_pk=terminal.merchant_pk,
        actor=audit.Actor.terminal(terminal.terminal_id),
        terminal_pk=terminal.terminal_pk,
    )
    if created.replayed:
        response.headers[HEADER_REPLAYED] = "true"
    return created.refund


@router.get("", response_model=RefundList, operation_id="listRefunds", responses=refusals())
def list_refunds(
    ctx: HostDep,
    terminal: CurrentTerminal,
    business_date: Annotated[
        date | None,
        Query(alias="date", description="A business day (YYYY-MM-DD, host timezone)"),
    ] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    out_trade_no: Annotated[
        str | None, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")
    ] = None,
) -> RefundList:
    """The successful refunds of this terminal's payments, wherever they were made (at
    a terminal, in the merchant's portal, by the acquirer), oldest first: of one
    business day (training left out: what the day close counts) and/or of one
    payment. One of ``date`` and ``out_trade_no`` is required (400/30)."""
    if business_date is None and out_trade_no is None:
        text = Text("请给出营业日或交易号", "give a business day (date) or a trade number")
        raise HostError("30", text, field="date")
    return batches.terminal_refunds(
        ctx, terminal, day=business_date, currency=currency, out_trade_no=out_trade_no
    )


@router.get(
    "/{out_refund_no}", response_model=Refund, operation_id="getRefund", responses=refusals("25")
)
def get_refund(out_refund_no: RefundNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Refund:
    """A refund of this merchant (404/25 for any other number)."""
    return refunds.get_refund(ctx, terminal.merchant_pk, out_refund_no)
