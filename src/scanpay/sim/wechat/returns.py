"""Money going back: reverse (撤销) and refunds (退款), the same for API v2 and API v3.

- Reverse, within 7 days of the order: a paid order is refunded in full (what was not
  refunded yet) and becomes REVOKED; an unpaid one (waiting for the password, stopped
  at a system error, declined) is closed, CLOSED, and can no longer be paid. Reversing
  again answers done. ``recall``: the reverse could not finish, call it again (only
  when a test chose REVERSE_RECALL).
- Refunds, full or partial, of a paid order: never more than was paid, the order's
  total given must be its total; the same out_refund_no again is the same refund.
  A reverse's refund is in the books (and the bill) as a refund too.
- A PROCESSING refund (REFUND_PROCESSING) is SUCCESS from the next refund query on,
  or by itself N seconds later when the outcome named N (:func:`finish_due`).
- A refund that named ``notify_url`` (API v3) is called back there once SUCCESS
  (:mod:`scanpay.sim.wechat.callbacks`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from scanpay.sim.common.clock import BEIJING
from scanpay.sim.common.crypto import random_digits
from scanpay.sim.wechat.callbacks import enqueue
from scanpay.sim.wechat.outcomes import Chosen, Outcome
from scanpay.sim.wechat.payments import Network
from scanpay.sim.wechat.store import Order, Refund
from scanpay.sim.wechat.wire import STATE_DESC, Refusal

__all__ = ["REVERSE_DAYS", "find_refund", "finish_due", "refund", "reverse"]

REVERSE_DAYS = 7


def reverse(network: Network, order: Order, header: Chosen | None = None) -> Order:
    """Reverse ``order``; a :class:`Refusal` with ``recall`` set when it must be called again."""
    store = network.store
    with store.transaction():
        now = network.clock.now()
        current = store.order_by_id(order.transaction_id)
        assert current is not None
        current = network.settle_at(current, now)
        chosen_recall = header is not None and header.outcome is Outcome.REVERSE_RECALL
        first_recall = current.outcome == Outcome.REVERSE_RECALL and current.recalls == 0
        if chosen_recall or first_recall:
            store.update_order(current.transaction_id, recalls=current.recalls + 1)
            result: Order | Refusal = Refusal(
                "RECALL", "撤销未完成（系统超时），请再次调用撤销", recall=True
            )
        elif current.state in ("REVOKED", "CLOSED"):
            result = current
        elif now - current.created_at > timedelta(days=REVERSE_DAYS):
            result = Refusal("REVERSE_EXPIRE", "订单已超过7天，不能撤销，请使用退款")
        elif current.state in ("SUCCESS", "REFUND"):
            left = current.total - current.refunded
            if left > 0:
                _move_back(network, current, left)
                store.add_refund(
                    Refund(
                        refund_id=_refund_id(network),
                        transaction_id=current.transaction_id,
                        mchid=current.mchid,
                        out_refund_no=f"REVERSE{current.transaction_id}",
                        amount=left,
                        reason="撤销",
                        kind="reverse",
                        status="SUCCESS",
                        created_at=now,
                        success_time=now,
                    )
                )
            result = replace(
                current,
                state="REVOKED",
                state_desc=STATE_DESC["REVOKED"],
                refunded=current.total,
                due_at=None,
                ended_at=now,
            )
            store.update_order(
                current.transaction_id,
                state=result.state,
                state_desc=result.state_desc,
                refunded=result.refunded,
                ended_at=now,
            )
        else:  # NOTPAY, USERPAYING, PAYERROR: nothing was charged
            result = replace(
                current, state="CLOSED", state_desc=STATE_DESC["CLOSED"], due_at=None, ended_at=now
            )
            store.update_order(
                current.transaction_id,
                state=result.state,
                state_desc=result.state_desc,
                due_at=None,
                ended_at=now,
            )
    if isinstance(result, Refusal):
        raise result
    return result


def refund(
    network: Network,
    order: Order,
    out_refund_no: str,
    amount: int,
    total: int,
    reason: str | None,
    header: Chosen | None = None,
    notify_url: str | None = None,
) -> tuple[Refund, Order]:
    """Refund ``amount`` of a paid order: the refund and the order after it (its result
    called back to ``notify_url`` once SUCCESS)."""
    store = network.store
    with store.transaction():
        now = network.clock.now()
        current = store.order_by_id(order.transaction_id)
        assert current is not None
        current = network.settle_at(current, now)
        existing = store.refund(current.mchid, out_refund_no)
        if existing is not None:
            if existing.transaction_id != current.transaction_id or existing.amount != amount:
                raise Refusal(
                    "INVALID_REQUEST",
                    "退款单号重复：订单金额或退款金额与之前请求不一致，请核实后再试",
                )
            return existing, current
        if current.state == "REVOKED":
            raise Refusal("INVALID_REQUEST", "订单已撤销，不能退款")
        if current.state not in ("SUCCESS", "REFUND"):
            raise Refusal("INVALID_REQUEST", "订单未支付，不能退款")
        if total != current.total:
            raise Refusal(
                "INVALID_REQUEST", "订单金额与原订单不一致", field="amount.total", value=total
            )
        if current.refunded + amount > current.total:
            raise Refusal(
                "INVALID_REQUEST",
                "申请退款金额超过订单可退金额",
                field="amount.refund",
                value=amount,
            )
        merchant = store.merchant(current.mchid)
        assert merchant is not None
        if merchant.balance < amount:
            raise Refusal("NOT_ENOUGH", "商户可用余额不足")
        earlier = [r for r in store.refunds_of(current.transaction_id) if r.kind == "refund"]
        chosen = header is not None and header.outcome is Outcome.REFUND_PROCESSING
        processing = chosen or (current.outcome == Outcome.REFUND_PROCESSING and not earlier)
        seconds = header.seconds if header is not None and chosen else current.seconds
        finish_at = now + timedelta(seconds=seconds) if processing and seconds is not None else None
        _move_back(network, current, amount)
        made = Refund(
            refund_id=_refund_id(network),
            transaction_id=current.transaction_id,
            mchid=current.mchid,
            out_refund_no=out_refund_no,
            amount=amount,
            reason=reason,
            kind="refund",
            status="PROCESSING" if processing else "SUCCESS",
            created_at=now,
            success_time=None if processing else now,
            notify_url=notify_url,
            finish_at=finish_at,
        )
        store.add_refund(made)
        after = replace(
            current,
            state="REFUND",
            state_desc=STATE_DESC["REFUND"],
            refunded=current.refunded + amount,
        )
        store.update_order(
            current.transaction_id,
            state=after.state,
            state_desc=after.state_desc,
            refunded=after.refunded,
        )
        if not processing:
            enqueue(store, made, after, now)
        return made, after


def find_refund(network: Network, mchid: str, out_refund_no: str) -> tuple[Refund, Order]:
    """A refund by its merchant and out_refund_no (a PROCESSING one is SUCCESS from here on)."""
    store = network.store
    with store.transaction():
        found = store.refund(mchid, out_refund_no)
        if found is None or found.kind != "refund":
            raise Refusal("REFUNDNOTEXIST", "退款单不存在")
        order = store.order_by_id(found.transaction_id)
        assert order is not None
        if found.status == "PROCESSING":
            found = _finish(network, found, order, network.clock.now())
        return found, order


def finish_due(network: Network) -> None:
    """Finish the PROCESSING refunds whose seconds are up (their callbacks queued)."""
    store = network.store
    with store.transaction():
        now = network.clock.now()
        for found in store.finishing_refunds(now):
            order = store.order_by_id(found.transaction_id)
            assert order is not None
            _finish(network, found, order, now)


def _finish(network: Network, found: Refund, order: Order, now: datetime) -> Refund:
    network.store.update_refund(found.refund_id, status="SUCCESS", success_time=now)
    done = replace(found, status="SUCCESS", success_time=now)
    enqueue(network.store, done, order, now)
    return done


def _move_back(network: Network, order: Order, amount: int) -> None:
    assert order.wallet_id is not None  # a paid order has its wallet
    network.store.credit_merchant(order.mchid, -amount)
    network.store.move_wallet(order.wallet_id, amount)


def _refund_id(network: Network) -> str:
    # WeChat's are 29 digits: 50000000382019052709732678859.
    day = network.clock.now().astimezone(BEIJING).strftime("%Y%m%d")
    return "5030" + random_digits(7) + day + random_digits(10)
