"""``/wallet/v1``: the built-in wallet's customer side: confirm a payment with the PIN,
preview and pay a merchant's order QR. Unsigned (no terminal): the wallet proves
itself with the PIN or a one-time code of the account."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.api.errors import ERROR_RESPONSES
from scanpay.host.api.schemas import (
    WalletConfirmRequest,
    WalletConfirmResponse,
    WalletPayRequest,
    WalletPayResponse,
    WalletPreviewRequest,
    WalletPreviewResponse,
)
from scanpay.host.services import orders, payments
from scanpay.protocol.models import Message

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


@router.post("/preview", response_model=WalletPreviewResponse)
async def preview(body: WalletPreviewRequest, ctx: HostDep) -> WalletPreviewResponse:
    """What a scanned order QR pays: merchant, amount, whether it can still be paid, and
    (with ``account``) whether that account must give its PIN. 404/25 unknown order,
    400/30 a code that is not this host's order (or was altered)."""
    seen = await run_in_threadpool(orders.preview, ctx, body.payload, body.account)
    return WalletPreviewResponse(
        order_id=seen.order_id,
        merchant_name=seen.merchant_name,
        merchant_city=seen.merchant_city,
        mcc=seen.mcc,
        amount=seen.amount,
        currency=seen.currency,
        description=seen.description,
        status=seen.status,
        payable=seen.payable,
        expires_at=seen.expires_at,
        pin_required=seen.pin_required,
    )


@router.post("/pay", response_model=WalletPayResponse)
async def pay(body: WalletPayRequest, ctx: HostDep) -> WalletPayResponse:
    """Pay a scanned order QR with a one-time code of the wallet (and the PIN above the
    account's PIN amount, the same rule as payments). 200 with ``code``: 00 paid; 12
    the order was already paid (nothing taken) or had closed or expired (taken and
    refunded at once, ``refunded``); 14/54 code; 51 funds; 55 wrong or missing PIN;
    57 risk rules; 75 PIN locked."""
    done = await run_in_threadpool(orders.pay, ctx, body.payload, body.auth_code, body.pin)
    return WalletPayResponse(
        code=done.code,
        message=Message.model_validate(done.message.as_dict()),
        order_id=done.order_id,
        order_status=done.order_status,
        merchant_name=done.merchant_name,
        amount=done.amount,
        currency=done.currency,
        payment_id=done.payment_id,
        refunded=done.refunded,
        tries_left=done.tries_left,
    )
