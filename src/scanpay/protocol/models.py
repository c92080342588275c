"""The terminal API's bodies: one definition for the host that serves them and
the terminal that sends them (pydantic v2).

Money is always integer minor units plus an ISO 4217 alphabetic currency.
Requests forbid unknown fields, so a typo is an error (code 30), not a
silently ignored value.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActivationRequest",
    "ActivationResponse",
    "BatchCloseRequest",
    "BatchCloseResponse",
    "BatchDifference",
    "BatchItem",
    "CodeVerifyRequest",
    "CodeVerifyResponse",
    "ErrorBody",
    "Message",
    "Order",
    "OrderRequest",
    "OrderStatus",
    "Payment",
    "PaymentRequest",
    "PaymentStatus",
    "Refund",
    "RefundList",
    "RefundRequest",
    "RefundStatus",
    "SelfTestReport",
    "Settlement",
    "SettlementLine",
    "TerminalStatus",
    "TransactionsPage",
]

TradeNo = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]
# Numbers in a request are JSON integers and nothing else: strict, so that ``true``,
# ``"1_000"``, ``" 100"``, ``"+100"`` or ``99.99999999999999999`` (which a JSON parser
# reads as 100.0) are refused rather than read as an amount.
MinorUnits = Annotated[
    int, Field(strict=True, gt=0, le=10**12, description="Integer minor units (a JSON integer)")
]
Count = Annotated[int, Field(strict=True, ge=0, le=10**15)]
CurrencyCode = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")]
# No NUL: PostgreSQL cannot store it in text (the host answered 500 there, SQLite kept it).
FreeText = Annotated[str, Field(max_length=128, pattern=r"^[^\x00]*$")]
OperatorId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-.@]+$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class _Response(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Message(_Response):
    """A user-facing message in both languages."""

    zh_cn: str = Field(alias="zh-CN")
    en: str


class ErrorBody(_Response):
    """Every error answer of the host has this one shape."""

    code: str = Field(description="Stable result code, e.g. '63'")
    name: str = Field(description="Its name, e.g. 'SECURITY'")
    message: Message
    field: str | None = Field(default=None, description="The offending request field")


class PaymentStatus(StrEnum):
    SUCCESS = "SUCCESS"
    USER_PAYING = "USER_PAYING"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class ActivationRequest(_Request):
    activation_code: Annotated[str, Field(min_length=4, max_length=64)]
    software_version: Annotated[str, Field(min_length=1, max_length=32)]


class ActivationResponse(_Response):
    terminal_id: str
    key: str = Field(description="The terminal's secret key, 64 hex characters (32 bytes)")
    merchant_id: str
    merchant_name: str
    merchant_city: str
    mcc: str
    currency: str
    payee: str = Field(description="The merchant's registered payee account for its QR stickers")
    min_software_version: str
    timezone: str | None = Field(
        default=None,
        description="The merchant's business timezone (IANA name): the times its screens show",
    )


class TerminalStatus(_Response):
    """``GET /v1/terminals/self``: what a terminal's self-test checks against."""

    terminal_id: str
    merchant_id: str
    merchant_name: str
    merchant_status: str
    terminal_status: str
    server_time: datetime
    min_software_version: str
    software_version: str | None = None


CheckState = Literal["ok", "warn", "fail"]


class SelfTestReport(_Request):
    """``POST /v1/terminals/self/report``: a terminal's latest self-test, for its
    merchant's portal (reversals still waiting for the host, sales in doubt)."""

    status: CheckState
    pending_reversals: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] = 0
    in_doubt: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] = 0
    checks: Annotated[
        dict[Annotated[str, Field(max_length=32)], CheckState], Field(max_length=32)
    ] = {}
    pending: Annotated[
        list[Annotated[str, Field(max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]],
        Field(max_length=100, description="Trade numbers of the reversals still pending"),
    ] = []


class PaymentRequest(_Request):
    out_trade_no: TradeNo
    amount: MinorUnits
    currency: CurrencyCode
    auth_code: Annotated[str, Field(min_length=1, max_length=512)]
    description: FreeText | None = None
    operator_id: OperatorId | None = None
    training: bool = Field(
        default=False, strict=True, description="Training mode: no real money moves"
    )


class Payment(_Response):
    out_trade_no: str
    payment_id: str
    status: PaymentStatus
    code: str
    message: Message
    amount: int
    currency: str
    wallet: str | None = None
    payer: str | None = Field(default=None, description="Masked payer account or code")
    refunded_amount: int = 0
    training: bool = False
    created_at: datetime
    paid_at: datetime | None = None
    pin_deadline: datetime | None = Field(
        default=None,
        description="USER_PAYING only: when the host stops waiting for the customer's PIN "
        "(the payment then fails with code 12)",
    )
    pin_expires_in: float | None = Field(
        default=None,
        description="USER_PAYING only: seconds from this reply to pin_deadline, for a "
        "terminal whose clock differs from the host's",
    )


class TransactionsPage(_Response):
    items: list[Payment]
    next_cursor: str | None = None


class RefundStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    PROCESSING = "PROCESSING"
    """Sent back through the payment's network, which has not given its final word:
    ask again (the same request, or GET the refund) until SUCCESS or FAILED."""


class RefundRequest(_Request):
    out_refund_no: TradeNo
    out_trade_no: TradeNo
    amount: MinorUnits
    reason: FreeText | None = None
    approved_by: OperatorId | None = None


class Refund(_Response):
    out_refund_no: str
    out_trade_no: str
    refund_id: str
    status: RefundStatus
    code: str
    message: Message
    amount: int
    currency: str
    reason: str | None = None
    approved_by: str | None = None
    created_at: datetime


class RefundList(_Response):
    """``GET /v1/refunds``: the successful refunds a terminal's day close counts - those
    of its own payments, wherever they were made (at the terminal, in the merchant's
    portal, by the acquirer's operator) - oldest first."""

    items: list[Refund]


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CLOSED = "CLOSED"


class OrderRequest(_Request):
    out_trade_no: TradeNo
    amount: MinorUnits
    currency: CurrencyCode
    description: FreeText | None = None
    expires_in: Annotated[int, Field(strict=True, ge=30, le=7200)] = 300


class Order(_Response):
    out_trade_no: str
    order_id: str
    status: OrderStatus
    amount: int
    currency: str
    description: str | None = None
    payload: str = Field(description="The dynamic EMV merchant-presented QR text")
    qr_png_url: str
    qr_svg_url: str
    payer: str | None = None
    wallet: str | None = Field(default=None, description="PAID only: the wallet that paid it")
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None = None


class CodeVerifyRequest(_Request):
    payload: Annotated[str, Field(min_length=1, max_length=1024)]


class CodeVerifyResponse(_Response):
    verdict: Literal["this_merchant", "other_merchant", "unknown_payee"]
    merchant_name: str | None = None
    payee: str | None = None
    scheme: str | None = None
    message: Message


class BatchItem(_Request):
    out_trade_no: TradeNo
    kind: Literal["payment", "refund"] = "payment"
    status: str
    amount: MinorUnits


class BatchCloseRequest(_Request):
    date: date
    currency: CurrencyCode = "CNY"
    count: Count
    total: Count
    refund_count: Count
    refund_total: Count
    items: list[BatchItem] | None = Field(
        default=None, description="The terminal's own lines, so differences can be named"
    )


class BatchDifference(_Response):
    out_trade_no: str
    kind: Literal["payment", "refund"]
    terminal: str | None = Field(description="Status and amount in the terminal's journal")
    host: str | None = Field(description="Status and amount on the host")
    terminal_status: str | None = Field(default=None, description="The terminal's status")
    terminal_amount: int | None = Field(default=None, description="The terminal's amount")
    host_status: str | None = Field(default=None, description="The host's status")
    host_amount: int | None = Field(default=None, description="The host's amount")


class BatchCloseResponse(_Response):
    matched: bool
    count: int
    total: int
    refund_count: int
    refund_total: int
    differences: list[BatchDifference] = []


class SettlementLine(_Response):
    """One movement of a settled day: amounts and fees signed (refunds negative)."""

    kind: Literal["payment", "refund", "reversal"]
    at: datetime
    out_trade_no: str
    out_refund_no: str | None = None
    amount: int
    fee: int


class Settlement(_Response):
    """``GET /v1/settlements/{date}``: a merchant's settled business day.

    Totals are positive; ``gross`` = payments - refunds - reversals; ``fee`` is
    the sum of the lines' fees (each rounded half up in minor units); ``net`` =
    gross - fee, what was moved to the merchant's settlement account.
    """

    merchant_id: str
    business_date: date
    timezone: str
    currency: str
    fee_rate: str = Field(description="e.g. 0.0038 for 0.38 %")
    payment_count: int
    payment_total: int
    refund_count: int
    refund_total: int
    reversal_count: int
    reversal_total: int
    gross: int
    fee: int
    net: int
    created_at: datetime
    lines: list[SettlementLine] = []
