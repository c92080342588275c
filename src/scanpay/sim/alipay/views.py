"""How a trade reads in Alipay's answers (pay, query, cancel, refund)."""

from __future__ import annotations

from typing import Any

from scanpay.sim.alipay.notify import mask_logon
from scanpay.sim.alipay.store import Trade, Wallet
from scanpay.sim.common.clock import bill_time
from scanpay.sim.common.money import yuan

__all__ = ["buyer_fields", "query_fields", "trade_fields"]


def buyer_fields(wallet: Wallet | None) -> dict[str, Any]:
    if wallet is None:
        return {}
    return {"buyer_logon_id": mask_logon(wallet.logon_id), "buyer_user_id": wallet.user_id}


def _paid(trade: Trade) -> str:
    return yuan(trade.total) if trade.paid_at is not None else "0.00"


def trade_fields(trade: Trade, wallet: Wallet | None) -> dict[str, Any]:
    """A pay answer's fields: amounts the buyer paid are 0.00 until paid."""
    paid = _paid(trade)
    fields: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        **buyer_fields(wallet),
        "total_amount": yuan(trade.total),
        "receipt_amount": paid,
        "buyer_pay_amount": paid,
        "invoice_amount": paid,
        "point_amount": "0.00",
    }
    if trade.paid_at is not None:
        fields["gmt_payment"] = bill_time(trade.paid_at)
        fields["fund_bill_list"] = [{"fund_channel": "ALIPAYACCOUNT", "amount": paid}]
    if trade.store_id:
        fields["store_id"] = trade.store_id
    return fields


def query_fields(trade: Trade, wallet: Wallet | None) -> dict[str, Any]:
    """alipay.trade.query's fields."""
    paid = _paid(trade)
    fields: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        **buyer_fields(wallet),
        "trade_status": trade.status,
        "total_amount": yuan(trade.total),
        "receipt_amount": paid,
        "buyer_pay_amount": paid,
        "invoice_amount": paid,
        "point_amount": "0.00",
    }
    if trade.paid_at is not None:
        fields["send_pay_date"] = bill_time(trade.paid_at)
        fields["fund_bill_list"] = [{"fund_channel": "ALIPAYACCOUNT", "amount": paid}]
    if trade.store_id:
        fields["store_id"] = trade.store_id
    if trade.terminal_id:
        fields["terminal_id"] = trade.terminal_id
    return fields
