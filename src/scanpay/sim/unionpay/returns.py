"""Money going back: the cancel (``txnType=31``) and the refund (``txnType=04``), both
naming the consume by ``origQryId`` and made under an ``orderId`` of their own.

- cancel: the same Beijing day only, for the whole amount (36 otherwise); a consume
  still waiting for the password is closed (origRespCode 01, nothing moved); a paid
  one is given back in full. Cancelled already: 45; refunded in part, declined or
  another day's: 35.
- refund: never more than is left of the consume (30); a cancelled consume: 45;
  one not paid: 35. Refunds are done at once (respCode 00 with origRespCode 00).
- Either with an orderId already used is 12 and changes nothing: the query of that
  orderId says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scanpay.sim.common.clock import beijing_day
from scanpay.sim.unionpay.orders import Network
from scanpay.sim.unionpay.outcomes import Chosen, Outcome
from scanpay.sim.unionpay.store import Merchant, Order
from scanpay.sim.unionpay.views import order_fields
from scanpay.sim.unionpay.wire import answer

__all__ = ["Return", "cancel", "refund"]


@dataclass(frozen=True)
class Return:
    """A cancel or refund as asked."""

    merchant: Merchant
    order_id: str
    txn_time: str
    orig_query_id: str
    amount: int
    back_url: str | None


def _consume(network: Network, asked: Return) -> Order | None:
    found = network.store.order_by_query_id(asked.orig_query_id)
    if found is None or found.mer_id != asked.merchant.mer_id or found.txn_type != "01":
        return None
    return network.settle_at(found, network.clock.now())


def _give_back(network: Network, consume: Order, asked: Return, txn_type: str) -> Order:
    """``asked.amount`` of ``consume`` back to its wallet; the new order, done."""
    store = network.store
    now = network.clock.now()
    moved = asked.amount if consume.state == "00" else 0
    if moved:
        assert consume.wallet_id is not None  # only paid consumes give money back
        store.move_wallet(consume.wallet_id, moved)
        store.credit_merchant(consume.mer_id, -moved)
    made = network.new_order(
        asked.merchant,
        asked.order_id,
        asked.txn_time,
        txn_type=txn_type,
        amount=asked.amount,
        orig_query_id=consume.query_id,
        wallet_id=consume.wallet_id,
        back_url=asked.back_url,
        state="00",
        moved=moved,
        done_at=now,
    )
    store.add_order(made)
    network.emit(made)
    return made


def cancel(network: Network, asked: Return, header: Chosen | None) -> dict[str, str]:
    store = network.store
    with store.transaction():
        if store.order(asked.merchant.mer_id, asked.order_id) is not None:
            return answer("12")
        consume = _consume(network, asked)
        if consume is None:
            return answer("35")
        recall = header is not None and header.outcome is Outcome.CANCEL_RETRY
        if consume.outcome == Outcome.CANCEL_RETRY and not consume.cancelled:
            recall = True
            store.save_order(replace(consume, outcome=None))
        if recall:
            return answer("03")
        if consume.cancelled:
            return answer("45")
        if asked.amount != consume.amount:
            return answer("36")
        now = network.clock.now()
        if consume.pending:
            closed = replace(consume, state="01", cancelled=True, due_at=None, done_at=now)
            store.save_order(closed)
            made = _give_back(network, consume, asked, "31")
            return answer("00", **order_fields(made))
        if consume.state != "00" or consume.refunded:
            return answer("35")
        assert consume.done_at is not None
        if beijing_day(consume.done_at) != beijing_day(now):
            return answer("35")
        made = _give_back(network, consume, asked, "31")
        store.save_order(replace(consume, refunded=consume.amount, cancelled=True))
        return answer("00", **order_fields(made))


def refund(network: Network, asked: Return) -> dict[str, str]:
    store = network.store
    with store.transaction():
        if store.order(asked.merchant.mer_id, asked.order_id) is not None:
            return answer("12")
        consume = _consume(network, asked)
        if consume is None:
            return answer("35")
        if consume.cancelled:
            return answer("45")
        if consume.state != "00":
            return answer("35")
        if asked.amount > consume.amount - consume.refunded:
            return answer("30")
        made = _give_back(network, consume, asked, "04")
        store.save_order(replace(consume, refunded=consume.refunded + asked.amount))
        return answer("00", origRespCode="00", **order_fields(made))
