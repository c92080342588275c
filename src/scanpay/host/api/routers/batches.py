"""``/v1/batches/close``: a terminal's day close, reconciled with the host's records."""

from __future__ import annotations

from fastapi import APIRouter

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.services import batches
from scanpay.protocol.models import BatchCloseRequest, BatchCloseResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post(
    "/close", response_model=BatchCloseResponse, operation_id="closeBatch", responses=refusals("13")
)
def close_batch(
    body: BatchCloseRequest, ctx: HostDep, terminal: CurrentTerminal
) -> BatchCloseResponse:
    """Compare the terminal's totals (and lines, when sent) for a business day with
    the host's: ``matched``, or the differences by trade number. The counts and
    totals in the answer are the host's."""
    return batches.close_batch(ctx, terminal, body)
