"""``/wallet/v1``: the built-in wallet's customer side: confirm a payment with the PIN,
preview and pay a merchant's order QR. Unsigned (no terminal): the wallet proves
itself with a one-time code of the account (pay), or with its wallet page session
and the PIN (confirm: a PIN alone would let anyone with the account number read the
payment waiting for it and fail it with wrong PINs)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.api.errors import ERROR_RESPONSES, error_response
from scanpay.host.api.schemas import (
    WalletConfirmRequest,
    WalletConfirmResponse,
    WalletPayRequest,
    WalletPayResponse,
    WalletPreviewRequest,
    WalletPreviewResponse,
)
from scanpay.host.services import orders, pin_waits
from scanpay.host.services.hashing import HashBusy
from scanpay.host.wallet_page.api import Refused, WalletDep, busy_response
from scanpay.i18n import Text
from scanpay.protocol.models import Message

__all__ = ["router"]

router = APIRouter(prefix="/wallet/v1", tags=["wallet"], responses=ERROR_RESPONSES)


@router.post("/confirm", response_model=WalletConfirmResponse, operation_id="walletConfirm")
async def confirm(body: WalletConfirmRequest, wallet: WalletDep) -> WalletConfirmResponse:
    """Confirm a payment waiting for this account's PIN, from the account's wallet page
    session (its cookie and ``X-Wallet-CSRF`` header; 401/63 without, 403/63 for another
    account's).

    200 with code 00 (paid), 55 (wrong PIN, ``tries_left``), 75 (locked after
    too many wrong PINs), 51 (no longer enough money), 12 (closed or reversed);
    503/91 with ``Retry-After`` when the host checks all the PINs it can.
    """
    if body.account != wallet.account:
        raise Refused(
            error_response(
                "63",
                Text(
                    "只能确认已登录账户的支付",
                    "Only the logged-in account's payments can be confirmed",
                ),
                field="account",
                status=403,
            )
        )
    try:
        done = await run_in_threadpool(
            pin_waits.confirm_with_pin, wallet.ctx, wallet.account, body.pin, body.payment_id
        )
    except HashBusy as busy:
        raise Refused(busy_response(busy)) from None
    return WalletConfirmResponse(
        code=done.code,
        message=done.message,
        tries_left=done.tries_left,
        merchant_name=done.merchant_name,
        payment=done.payment,
    )


@router.post("/preview", response_model=WalletPreviewResponse, operation_id="walletPreview")
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


@router.post("/pay", response_model=WalletPayResponse, operation_id="walletPay")
async def pay(body: WalletPayRequest, ctx: HostDep) -> WalletPayResponse:
    """Pay a scanned order QR with a one-time code of the wallet (and the PIN above the
    account's PIN amount, the same rule as payments). 200 with ``code``: 00 paid; 12
    the order was already paid (nothing taken) or had closed or expired (taken and
    refunded at once, ``refunded``); 14/54 code; 51 funds; 55 wrong or missing PIN;
    57 risk rules; 75 PIN locked. 503/91 with ``Retry-After`` when the host checks all
    the PINs it can (nothing was paid)."""
    try:
        done = await run_in_threadpool(orders.pay, ctx, body.payload, body.auth_code, body.pin)
    except HashBusy as busy:
        raise Refused(busy_response(busy)) from None
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
