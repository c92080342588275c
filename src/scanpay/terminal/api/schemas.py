"""The agent API's bodies (pydantic): requests from the cashier screen, views back.

Every view carries what the screen shows in both languages, so the screen
never has to know a state machine or a result code table.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scanpay.money import format_amount
from scanpay.terminal.order import OrderRecord
from scanpay.terminal.refund import RefundRecord
from scanpay.terminal.sale import FINAL_STATES, IN_DOUBT_STATES, Sale
from scanpay.terminal.texts import STATE_LABELS, screen_for

__all__ = [
    "AmountIn",
    "DayCloseIn",
    "LoginIn",
    "OrderIn",
    "RefundIn",
    "ScanIn",
    "SupervisorIn",
    "TrainingIn",
    "order_view",
    "refund_view",
    "sale_view",
]

Pin = Annotated[str, Field(min_length=4, max_length=8, pattern=r"^[0-9]+$")]
OperatorId = Annotated[str, Field(min_length=1, max_length=32)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    operator_id: OperatorId
    pin: Pin


class SupervisorIn(_In):
    """A supervisor approving on the spot (not needed when one is logged in)."""

    operator_id: OperatorId
    pin: Pin


class AmountIn(_In):
    """A sale: ``amount`` in minor units, or ``amount_text`` as typed ("12.34")."""

    amount: Annotated[int, Field(gt=0, le=10**12)] | None = None
    amount_text: Annotated[str, Field(max_length=20)] | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    note: Annotated[str, Field(max_length=128)] | None = None


class OrderIn(AmountIn):
    expires_in: Annotated[int, Field(ge=30, le=7200)] = 300


class ScanIn(_In):
    """A scanned text: from the scanner gun, the camera or typed in."""

    text: Annotated[str, Field(min_length=1, max_length=1024)]
    source: Literal["scanner", "camera", "keyboard", "image"] = "scanner"


class RefundIn(_In):
    amount: Annotated[int, Field(gt=0, le=10**12)] | None = None
    amount_text: Annotated[str, Field(max_length=20)] | None = None
    reason: Annotated[str, Field(max_length=128)] | None = None
    supervisor: SupervisorIn | None = None


class TrainingIn(_In):
    enabled: bool
    supervisor: SupervisorIn | None = None


class DayCloseIn(_In):
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    supervisor: SupervisorIn | None = None


def sale_view(sale: Sale) -> dict[str, Any]:
    """A sale as the screen needs it: state, amounts, labels and the screen to show."""
    return {
        "out_trade_no": sale.out_trade_no,
        "state": sale.state.value,
        "state_label": STATE_LABELS[sale.state].as_dict(),
        "amount": sale.amount,
        "amount_text": format_amount(sale.amount, sale.currency),
        "currency": sale.currency,
        "note": sale.note,
        "training": sale.training,
        "operator_id": sale.operator_id,
        "created_at": sale.created_at,
        "submitted_at": sale.submitted_at,
        "deadline_at": sale.deadline_at,
        "customer_deadline_at": sale.customer_deadline_at,
        "finished_at": sale.finished_at,
        "code": sale.code.to_dict() if sale.code else None,
        "wallet": sale.wallet,
        "payer": sale.payer,
        "payment_id": sale.payment_id,
        "result": sale.result.to_dict() if sale.result else None,
        "reversal_reason": sale.reversal_reason.value if sale.reversal_reason else None,
        "refunded_amount": sale.refunded_amount,
        "refundable": sale.refundable,
        "in_doubt": sale.state in IN_DOUBT_STATES,
        "final": sale.state in FINAL_STATES,
        "version": sale.version,
        "screen": screen_for(sale).to_dict(),
        "receipt_url": f"/api/sales/{sale.out_trade_no}/receipt",
    }


def refund_view(refund: RefundRecord) -> dict[str, Any]:
    return {
        "out_refund_no": refund.out_refund_no,
        "out_trade_no": refund.out_trade_no,
        "state": refund.state.value,
        "amount": refund.amount,
        "amount_text": format_amount(refund.amount, refund.currency),
        "currency": refund.currency,
        "reason": refund.reason,
        "operator_id": refund.operator_id,
        "approved_by": refund.approved_by,
        "created_at": refund.created_at,
        "finished_at": refund.finished_at,
        "result": refund.result.to_dict() if refund.result else None,
        "refund_id": refund.refund_id,
        "settled": refund.settled,
    }


def order_view(order: OrderRecord) -> dict[str, Any]:
    return {
        "out_trade_no": order.out_trade_no,
        "state": order.state.value,
        "amount": order.amount,
        "amount_text": format_amount(order.amount, order.currency),
        "currency": order.currency,
        "note": order.note,
        "payload": order.payload,
        "qr_svg_url": f"/api/orders/{order.out_trade_no}/qr.svg" if order.payload else None,
        "expires_at": order.expires_at,
        "payer": order.payer,
        "paid_at": order.paid_at,
        "code": order.code,
        "settled": order.settled,
        "version": order.version,
    }
