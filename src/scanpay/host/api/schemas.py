"""Bodies of the host's own endpoints (the wallet page), not part of the terminal protocol."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from scanpay.protocol.models import Message, Payment

__all__ = [
    "Readiness",
    "WalletConfirmRequest",
    "WalletConfirmResponse",
    "WalletPayRequest",
    "WalletPayResponse",
    "WalletPreviewRequest",
    "WalletPreviewResponse",
]


class WalletConfirmRequest(BaseModel):
    """The customer confirms a payment waiting in USER_PAYING with the wallet PIN."""

    model_config = ConfigDict(extra="forbid")

    account: Annotated[str, Field(min_length=6, max_length=16, pattern=r"^[0-9]+$")]
    pin: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]
    payment_id: Annotated[str | None, Field(max_length=32)] = Field(
        default=None, description="Which payment; the newest one waiting when omitted"
    )


class WalletConfirmResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(description="00 paid, 55 wrong PIN, 75 locked, 51, 12 closed...")
    message: Message
    tries_left: int
    merchant_name: str
    payment: Payment


class WalletPreviewRequest(BaseModel):
    """The customer's wallet scanned a merchant's order QR: what will it pay?"""

    model_config = ConfigDict(extra="forbid")

    payload: Annotated[str, Field(min_length=1, max_length=1024)]
    account: Annotated[str | None, Field(min_length=6, max_length=16, pattern=r"^[0-9]+$")] = Field(
        default=None, description="The wallet account, to say whether it needs the PIN"
    )


class WalletPreviewResponse(BaseModel):
    order_id: str
    merchant_name: str
    merchant_city: str
    mcc: str
    amount: int
    currency: str
    description: str | None = None
    status: str = Field(description="CREATED (payable), PAID, EXPIRED, CLOSED")
    payable: bool
    expires_at: datetime
    pin_required: bool | None = Field(
        default=None, description="Whether this account must give its PIN (when given)"
    )


class WalletPayRequest(BaseModel):
    """The customer pays a scanned order QR with a one-time code of their wallet."""

    model_config = ConfigDict(extra="forbid")

    payload: Annotated[str, Field(min_length=1, max_length=1024)]
    auth_code: Annotated[str, Field(min_length=1, max_length=512)] = Field(
        description="A one-time code of the wallet (digits or EMV CPM): proves the phone"
    )
    pin: Annotated[str | None, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")] = Field(
        default=None, description="Needed above the account's PIN amount"
    )


class WalletPayResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(
        description="00 paid; 12 closed/expired (refunded at once) or already paid; "
        "14/54 code; 51 funds; 55 PIN; 57 not permitted; 75 PIN locked"
    )
    message: Message
    order_id: str
    order_status: str
    merchant_name: str
    amount: int
    currency: str
    payment_id: str | None = None
    refunded: bool = False
    tries_left: int | None = None


class Readiness(BaseModel):
    ok: bool
    database: bool
    revision: str | None
    expected: str
    detail: str = ""
