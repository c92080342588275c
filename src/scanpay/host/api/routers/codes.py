"""``/v1/codes/verify``: whom does a scanned merchant QR (a sticker) pay?"""

from __future__ import annotations

from fastapi import APIRouter

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.services import stickers
from scanpay.protocol.models import CodeVerifyRequest, CodeVerifyResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1/codes", tags=["codes"])


@router.post(
    "/verify", response_model=CodeVerifyResponse, operation_id="verifyCode", responses=refusals()
)
def verify_code(
    body: CodeVerifyRequest, ctx: HostDep, terminal: CurrentTerminal
) -> CodeVerifyResponse:
    """The sticker check: ``this_merchant``, ``other_merchant`` (of this host) or
    ``unknown_payee`` (a swapped sticker pays someone else). 400/30 for a payload
    that is not an EMV merchant-presented code."""
    return stickers.verify_sticker(ctx, terminal, body.payload)
