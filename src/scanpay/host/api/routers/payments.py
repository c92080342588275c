"""``/v1/payments``: take, query and reverse payments (merchant scans the customer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.api.openapi import HEADER_REPLAYED, REPLAYED_HEADER
from scanpay.host.services import payments
from scanpay.protocol.models import Payment, PaymentRequest

__all__ = ["router"]

router = APIRouter(prefix="/v1/payments", tags=["payments"])

TradeNoPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.post(
    "",
    response_model=Payment,
    operation_id="createPayment",
    responses={200: {"headers": REPLAYED_HEADER}, **refusals("13", "31", "58", "95")},
)
def create_payment(
    body: PaymentRequest, ctx: HostDep, terminal: CurrentTerminal, response: Response
) -> Payment:
    """Charge the customer's payment code.

    Every outcome is 200 with the payment: SUCCESS (00), USER_PAYING (09: poll
    or wait for the PIN), FAILED with the decline code (14, 51, 54, 57, 75...),
    REVERSED (12: reversed before it arrived). Idempotent on (merchant,
    out_trade_no): the same body again charges nothing and answers the payment's
    current state (reversed or refunded since, included) with ``X-Scanpay-Replayed:
    true``; a different body is 409/95. 400/13 for an amount or currency code that
    is not valid, 400/31 for a currency the merchant does not take.
    """
    created = payments.create_payment(ctx, terminal, body)
    if created.replayed:
        response.headers[HEADER_REPLAYED] = "true"
    return created.payment


@router.get(
    "/{out_trade_no}", response_model=Payment, operation_id="getPayment", responses=refusals("25")
)
def get_payment(out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Payment:
    """The payment's current state (how a terminal resolves a timeout or USER_PAYING).

    404/25 for a trade number this merchant does not have, another merchant's included.
    """
    return payments.get_payment(ctx, terminal, out_trade_no)


@router.post(
    "/{out_trade_no}/reverse",
    response_model=Payment,
    operation_id="reversePayment",
    responses=refusals("58", "95", "12"),
)
def reverse_payment(out_trade_no: TradeNoPath, ctx: HostDep, terminal: CurrentTerminal) -> Payment:
    """Cancel a sale: unpaid becomes REVERSED, paid is returned and REVERSED. Idempotent.

    A reversal that arrives before its payment leaves a mark: the payment,
    when it comes, is refused (REVERSED, code 12) and moves no money. A payment
    refunded in part or whole is not reversed (409/12: refund it); a merchant-presented
    order's number is 409/95 (close the order).
    """
    return payments.reverse_payment(ctx, terminal, out_trade_no)
