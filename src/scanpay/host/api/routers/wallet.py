"""``/wallet/v1``: the built-in wallet's customer side (the phone confirms with its PIN)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.api.errors import ERROR_RESPONSES
from scanpay.host.api.schemas import WalletConfirmRequest, WalletConfirmResponse
from scanpay.host.services import payments

__all__ = ["router"]

router = APIRouter(prefix="/wallet/v1", tags=["wallet"], responses=ERROR_RESPONSES)


@router.post("/confirm", response_model=WalletConfirmResponse)
async def confirm(body: WalletConfirmRequest, ctx: HostDep) -> WalletConfirmResponse:
    """Confirm a payment waiting for this account's PIN.

    200 with code 00 (paid), 55 (wrong PIN, ``tries_left``), 75 (locked after
    too many wrong PINs), 51 (no longer enough money), 12 (closed or reversed).
    """
    done = await run_in_threadpool(
        payments.confirm_with_pin, ctx, body.account, body.pin, body.payment_id
    )
    return WalletConfirmResponse(
        code=done.code,
        message=done.message,
        tries_left=done.tries_left,
        merchant_name=done.merchant_name,
        payment=done.payment,
    )
