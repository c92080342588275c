"""The agent API's bodies (pydantic): requests from the cashier screen, views back.

Every view carries what the screen shows in both languages, so the screen
never has to know a state machine or a result code table.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scanpay.codes.names import masked_number, network_name
from scanpay.money import format_amount
from scanpay.terminal.labels import ORDER_STATE_LABELS, SHOWN_QR_LABEL
from scanpay.terminal.order import OrderRecord
from scanpay.terminal.refund import OutsideRefund, RefundRecord
from scanpay.terminal.sale import FINAL_STATES, IN_DOUBT_STATES, Sale
from scanpay.terminal.texts import screen_for, state_label

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
    "outside_refund_view",
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


#: A language tag ("en", "zh-CN", "de"): how the person who typed an amount writes one.
Locale = Annotated[str, Field(max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")]


class AmountIn(_In):
    """A sale: ``amount`` in minor units, or ``amount_text`` as typed ("12.34"), read in
    ``locale`` (the screen's language; English when not given)."""

    amount: Annotated[int, Field(gt=0, le=10**12)] | None = None
    # Room for anything a person types or pastes: read_amount refuses it with a reason.
    amount_text: Annotated[str, Field(max_length=1024)] | None = None
    locale: Locale | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    note: Annotated[str, Field(max_length=128)] | None = None
    request_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")] | None = None
    """The same start sent again with this key (a double click, a retry) answers the
    sale or order it opened, while that is still open; without one every start is new."""


class OrderIn(AmountIn):
    expires_in: Annotated[int, Field(ge=30, le=7200)] = 300


class ScanIn(_In):
    """A scanned text: from the scanner gun, the camera or typed in."""

    text: Annotated[str, Field(min_length=1, max_length=1024)]
    source: Literal["scanner", "camera", "keyboard", "image"] = "scanner"


class RefundIn(_In):
    amount: Annotated[int, Field(gt=0, le=10**12)] | None = None
    amount_text: Annotated[str, Field(max_length=1024)] | None = None
    locale: Locale | None = None
    reason: Annotated[str, Field(max_length=128)] | None = None
    supervisor: SupervisorIn | None = None


class TrainingIn(_In):
    enabled: bool
    supervisor: SupervisorIn | None = None


class DayCloseIn(_In):
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    supervisor: SupervisorIn | None = None


def _code_view(sale: Sale) -> dict[str, Any]:
    """The scanned code's summary, with its network by name and its masked number
    without the network's identifier (what the screen shows)."""
    assert sale.code is not None
    return {
        **sale.code.to_dict(),
        "scheme_name": network_name(sale.code.scheme).as_dict(),
        "number": masked_number(sale.code.kind, sale.code.masked),
    }


def _wallet_name(sale: Sale) -> dict[str, str] | None:
    """The wallet that paid (the host's word), else the code's network, by name."""
    wallet = sale.wallet or (sale.code.scheme if sale.code else None)
    return network_name(wallet).as_dict() if wallet else None


def sale_view(sale: Sale) -> dict[str, Any]:
    """A sale as the screen needs it: state, amounts, labels and the screen to show."""
    return {
        "kind": "sale",
        "out_trade_no": sale.out_trade_no,
        "state": sale.state.value,
        "state_label": state_label(sale).as_dict(),
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
        "code": _code_view(sale) if sale.code else None,
        "wallet": sale.wallet,
        "wallet_name": _wallet_name(sale),
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


def outside_refund_view(refund: OutsideRefund) -> dict[str, Any]:
    """A refund made elsewhere (the merchant's portal, the acquirer), shaped like
    :func:`refund_view`, with ``outside`` true and nobody at this till as its approver."""
    return {
        "out_refund_no": refund.out_refund_no,
        "out_trade_no": refund.out_trade_no,
        "state": "SUCCESS",
        "amount": refund.amount,
        "amount_text": format_amount(refund.amount, refund.currency),
        "currency": refund.currency,
        "reason": refund.reason,
        "operator_id": None,
        "approved_by": None,
        "created_at": refund.refunded_at,
        "finished_at": refund.refunded_at,
        "result": None,
        "refund_id": refund.refund_id,
        "settled": True,
        "outside": True,
    }


def order_view(order: OrderRecord) -> dict[str, Any]:
    """A show-to-pay order as the screen needs it (the order screen, and a row of the
    recent sales marked ``show_to_pay`` with the wallet that paid)."""
    return {
        "kind": "order",
        "show_to_pay": SHOWN_QR_LABEL.as_dict(),
        "out_trade_no": order.out_trade_no,
        "state": order.state.value,
        "state_label": ORDER_STATE_LABELS[order.state].as_dict(),
        "created_at": order.created_at,
        "operator_id": order.operator_id,
        "training": False,
        "wallet": order.wallet,
        "wallet_name": network_name(order.wallet).as_dict() if order.wallet else None,
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
