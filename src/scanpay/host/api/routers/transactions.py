"""``/v1/transactions``: the merchant's own payments, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.services import transactions
from scanpay.protocol.models import PaymentStatus, TransactionsPage

__all__ = ["router"]

router = APIRouter(prefix="/v1/transactions", tags=["transactions"])


@router.get(
    "", response_model=TransactionsPage, operation_id="listTransactions", responses=refusals()
)
def list_transactions(
    ctx: HostDep,
    terminal: CurrentTerminal,
    start: Annotated[
        datetime | None,
        Query(
            alias="from",
            description="ISO 8601, inclusive (no offset: host timezone); 1970-01-01 .. 9998-12-31",
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        Query(alias="to", description="ISO 8601, exclusive; 1970-01-01 .. 9998-12-31"),
    ] = None,
    status: PaymentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TransactionsPage:
    """One page of the merchant's payments; pass ``next_cursor`` back for the next page.

    A date outside 1970-01-01 .. 9998-12-31 is refused with 400/30 naming the filter."""
    return transactions.list_transactions(
        ctx, terminal, start=start, end=end, status=status, limit=limit, cursor=cursor
    )
