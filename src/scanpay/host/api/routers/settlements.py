"""``/v1/settlements``: the terminal's merchant's settled business days."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.services import settlement
from scanpay.protocol.models import Settlement

__all__ = ["router"]

router = APIRouter(prefix="/v1/settlements", tags=["settlements"])


@router.get(
    "/{business_date}",
    response_model=Settlement,
    operation_id="getSettlement",
    responses=refusals("25"),
)
def get_settlement(business_date: date, ctx: HostDep, terminal: CurrentTerminal) -> Settlement:
    """The merchant's settlement of a business day (YYYY-MM-DD, host timezone):
    totals, fee, net and one line per movement. 404/25 until the day is settled."""
    return settlement.get_settlement(ctx, terminal.merchant_pk, business_date)


@router.get(
    "/{business_date}/file",
    response_class=Response,
    operation_id="getSettlementFile",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The settlement file (CSV, UTF-8)",
        },
        **refusals("25"),
    },
)
def get_settlement_file(business_date: date, ctx: HostDep, terminal: CurrentTerminal) -> Response:
    """The settlement file (CSV): one ``D`` line per movement, ``T`` totals."""
    text = settlement.settlement_csv(ctx, terminal.merchant_pk, business_date)
    name = f"settlement-{terminal.merchant_id}-{business_date.isoformat()}.csv"
    return Response(
        text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
