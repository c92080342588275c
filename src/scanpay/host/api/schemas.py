"""Bodies of the host's own endpoints (the wallet page), not part of the terminal protocol."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from scanpay.protocol.models import Message, Payment

__all__ = ["WalletConfirmRequest", "WalletConfirmResponse"]


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
