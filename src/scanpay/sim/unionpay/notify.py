"""``backUrl`` notifications: the asynchronous result of a transaction, and its delivery.

When a consume is done (at once, or once the customer entered the password or it
failed after being accepted) and when a cancel or refund is done, a notification is
queued for the ``backUrl`` its request named. :class:`Deliverer` (the shared
:class:`~scanpay.sim.common.notify.Deliverer`, a task of the app's lifespan) POSTs
each as a URL-encoded form signed as the replies are (the simulator's certificate in
``signPubKeyCert``); the receiver must answer HTTP 200 (any body), or it is sent again
after 1 m, 2 m, 4 m, 8 m, 16 m, 32 m (the simulator's schedule), on the simulator's
clock. Only loopback URLs are called; any
other is recorded unsent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.common import notify as common
from scanpay.sim.common.clock import Clock
from scanpay.sim.common.notify import Post, delivering, first_attempt, form_post
from scanpay.sim.unionpay.keys import UnionPayKeys
from scanpay.sim.unionpay.store import Notice, Order, Store
from scanpay.sim.unionpay.views import TXN_SUB_TYPES, order_fields
from scanpay.sim.unionpay.wire import answer, signed

__all__ = ["RETRY_AFTER", "Deliverer", "delivering", "enqueue", "notice_fields"]

RETRY_AFTER = (60, 120, 240, 480, 960, 1920)


def notice_fields(order: Order) -> dict[str, str]:
    """The notification's fields (unsigned) for ``order`` as it is now."""
    return {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "bizType": "000000",
        "accessType": "0",
        "merId": order.mer_id,
        "orderId": order.order_id,
        "txnType": order.txn_type,
        "txnSubType": TXN_SUB_TYPES[order.txn_type],
        "txnTime": order.txn_time,
        **order_fields(order),
        **answer(order.state),
    }


def enqueue(store: Store, order: Order, now: datetime) -> None:
    """Queue the notification of ``order``'s result (nothing without a backUrl)."""
    if not order.back_url:
        return
    store.add_notice(
        mer_id=order.mer_id,
        order_id=order.order_id,
        url=order.back_url,
        fields=json.dumps(notice_fields(order), ensure_ascii=False),
        created_at=now,
        **first_attempt(order.back_url, now),
    )


class _Outbox(common.StoredOutbox[Notice]):
    """UnionPay's notifications as :class:`~scanpay.sim.common.notify.Deliverer` sends
    them: a form signed at each attempt, taken on HTTP 200 whatever the body."""

    retry_after = RETRY_AFTER

    def __init__(self, store: Store, keys: UnionPayKeys, key: RSAPrivateKey) -> None:
        super().__init__(store)
        self.keys = keys
        self.key = key

    def post(self, item: Notice, now: datetime) -> Post:
        return form_post(signed(json.loads(item.fields), self.keys, self.key))

    def accepted(self, response: httpx.Response) -> bool:
        return response.status_code == 200


class Deliverer(common.Deliverer[Notice]):
    """Sends due notifications; run as a task while the app serves."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        keys: UnionPayKeys,
        key: RSAPrivateKey,
        settle: Callable[[], None] = lambda: None,
        tick: float = 0.05,
    ) -> None:
        # Orders whose password step or deadline fell due are settled first (``settle``),
        # so their notifications leave without waiting for someone to read the order.
        super().__init__(_Outbox(store, keys, key), clock, settle, tick)
