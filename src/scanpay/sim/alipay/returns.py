"""Money going back: alipay.trade.cancel, alipay.trade.refund and the refund query.

- cancel: an unpaid trade closes (``action`` close); a paid one is refunded in full
  what is left and closes (``action`` refund); a cancelled trade cancelled again gets
  the same answer. Alipay's rule that a paid trade can only be cancelled on the day it
  was paid is not simulated.
- refund: keyed by ``out_request_no`` (absent: the out_trade_no, and then the amount
  must be the total): the same request again is the same refund (``fund_change`` N),
  never made twice; refunds never exceed what was paid; the seller's balance must
  cover it. A trade refunded in full closes. Each refund gives back its part of the
  service fee (all that is left on the last).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scanpay.sim.alipay.money import fee_of
from scanpay.sim.alipay.outcomes import Chosen, Outcome
from scanpay.sim.alipay.store import App, Refund, Trade
from scanpay.sim.alipay.trades import Network
from scanpay.sim.alipay.views import buyer_fields
from scanpay.sim.alipay.wire import Answer, failed, success
from scanpay.sim.common.clock import bill_time
from scanpay.sim.common.money import yuan

__all__ = ["cancel", "refund", "refund_query"]


def _ids(trade: Trade) -> dict[str, Any]:
    return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}


def cancel(
    network: Network,
    app: App,
    out_trade_no: str | None,
    trade_no: str | None,
    header: Chosen | None,
) -> Answer:
    store = network.store
    with store.transaction():
        found = network.find(app.app_id, out_trade_no, trade_no)
        if isinstance(found, Answer):
            return replace(found, fields={**found.fields, "retry_flag": "N"})
        trade = found
        recall = header is not None and header.outcome is Outcome.CANCEL_RETRY
        if trade.outcome == Outcome.CANCEL_RETRY and trade.cancel_action is None:
            recall = True
            store.save_trade(replace(trade, outcome=None))
        if recall:
            return failed("ACQ.SYSTEM_ERROR", "系统错误", **_ids(trade), retry_flag="Y")
        if trade.status == "TRADE_CLOSED":
            return success(**_ids(trade), retry_flag="N", action=trade.cancel_action or "close")
        now = network.clock.now()
        if trade.status == "WAIT_BUYER_PAY":
            closed = replace(
                trade, status="TRADE_CLOSED", cancel_action="close", due_at=None, closed_at=now
            )
            store.save_trade(closed)
            if closed.wallet_id is not None:
                network.emit(closed)
            return success(**_ids(trade), retry_flag="N", action="close")
        left = trade.total - trade.refunded
        fresh = store.app(app.app_id)
        if fresh is None or fresh.balance < left:
            return failed(
                "ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足", **_ids(trade), retry_flag="N"
            )
        made = _move(network, fresh, trade, left, trade.out_trade_no, "cancel")
        done = store.trade_by_no(trade.trade_no)
        assert done is not None
        store.save_trade(replace(done, cancel_action="refund"))
        return success(
            **_ids(trade),
            retry_flag="N",
            action="refund",
            gmt_refund_pay=bill_time(made.created_at),
        )


def _move(
    network: Network, app: App, trade: Trade, amount: int, out_request_no: str, reason: str | None
) -> Refund:
    """Refund ``amount``: the money back to the wallet, the trade closed when all is back."""
    store = network.store
    now = network.clock.now()
    refunded = trade.refunded + amount
    fees_back = sum(r.fee for r in store.refunds_of(trade.trade_no))
    fee = trade.fee - fees_back if refunded == trade.total else fee_of(amount, app.fee_bp)
    fee = max(0, min(fee, trade.fee - fees_back))
    assert trade.wallet_id is not None  # only paid trades are refunded
    store.move_wallet(trade.wallet_id, amount)
    store.credit_app(app.app_id, -amount)
    made = store.add_refund(
        trade_no=trade.trade_no,
        app_id=app.app_id,
        out_request_no=out_request_no,
        amount=amount,
        fee=fee,
        reason=reason,
        created_at=now,
    )
    after = replace(trade, refunded=refunded)
    if refunded == trade.total:
        after = replace(after, status="TRADE_CLOSED", closed_at=now)
    store.save_trade(after)
    network.emit(after, made)
    return made


def refund(
    network: Network,
    app: App,
    out_trade_no: str | None,
    trade_no: str | None,
    amount: int,
    out_request_no: str | None,
    reason: str | None,
) -> Answer:
    store = network.store
    with store.transaction():
        found = network.find(app.app_id, out_trade_no, trade_no)
        if isinstance(found, Answer):
            return found
        trade = found
        wallet = store.wallet(trade.wallet_id) if trade.wallet_id is not None else None
        key = out_request_no or trade.out_trade_no
        before = store.refund(trade.trade_no, key)
        if before is not None:
            if before.amount != amount:
                return failed("ACQ.INVALID_PARAMETER", "参数无效：同一退款请求号的退款金额不一致")
            return success(
                **_ids(trade),
                **buyer_fields(wallet),
                fund_change="N",
                refund_fee=yuan(trade.refunded),
                gmt_refund_pay=bill_time(before.created_at),
            )
        if trade.paid_at is None:
            return failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法", **_ids(trade))
        if trade.status == "TRADE_CLOSED":
            return failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭", **_ids(trade))
        if out_request_no is None and amount != trade.total:
            return failed(
                "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "撤销或退款金额与订单金额不一致", **_ids(trade)
            )
        if amount > trade.total - trade.refunded:
            return failed("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额无效", **_ids(trade))
        fresh = store.app(app.app_id)
        if fresh is None or fresh.balance < amount:
            return failed("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足", **_ids(trade))
        made = _move(network, fresh, trade, amount, key, reason)
        return success(
            **_ids(trade),
            **buyer_fields(wallet),
            fund_change="Y",
            refund_fee=yuan(trade.refunded + amount),
            gmt_refund_pay=bill_time(made.created_at),
        )


def refund_query(
    network: Network, app: App, out_trade_no: str | None, trade_no: str | None, out_request_no: str
) -> Answer:
    """A refund by its request number; an unknown one answers success with nothing of a
    refund in it, as Alipay does (not refunded)."""
    with network.store.transaction():
        found = network.find(app.app_id, out_trade_no, trade_no)
        if isinstance(found, Answer):
            return found
        made = network.store.refund(found.trade_no, out_request_no)
        if made is None:
            return success(**_ids(found))
        return success(
            **_ids(found),
            out_request_no=made.out_request_no,
            total_amount=yuan(found.total),
            refund_amount=yuan(made.amount),
            refund_status="REFUND_SUCCESS",
            gmt_refund_pay=bill_time(made.created_at),
        )
