"""How an order reads in UnionPay's answers: its ids, amount, trace and settle date."""

from __future__ import annotations

from scanpay.sim.common.clock import BEIJING
from scanpay.sim.unionpay.rows import Order

__all__ = ["TXN_SUB_TYPES", "order_fields", "trace_time"]

TXN_SUB_TYPES = {"01": "06", "31": "00", "04": "00"}


def trace_time(order: Order) -> str:
    """``MMDDhhmmss`` (Beijing) of when the order was done (made, while it is not)."""
    when = order.done_at or order.created_at
    return when.astimezone(BEIJING).strftime("%m%d%H%M%S")


def order_fields(order: Order) -> dict[str, str]:
    """What a reply, a query or a notification says of ``order``."""
    fields = {
        "queryId": order.query_id,
        "txnAmt": str(order.amount),
        "currencyCode": "156",
        "traceNo": order.query_id[-6:],
        "traceTime": trace_time(order),
    }
    if order.done_at is not None and order.state == "00":
        fields["settleAmt"] = str(order.amount)
        fields["settleCurrencyCode"] = "156"
        fields["settleDate"] = order.done_at.astimezone(BEIJING).strftime("%m%d")
    if order.orig_query_id:
        fields["origQryId"] = order.orig_query_id
    return fields
