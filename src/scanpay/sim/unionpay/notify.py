"""``backUrl`` notifications: the asynchronous result of a transaction, and its delivery.

When a consume is done (at once, or once the customer entered the password or it
failed after being accepted) and when a cancel or refund is done, a notification is
queued for the ``backUrl`` its request named. :class:`Deliverer` (a task of the app's
lifespan) POSTs each as a URL-encoded form signed as the replies are (the
simulator's certificate in ``signPubKeyCert``); the receiver must answer HTTP 200
(any body), or it is sent again after 1 m, 2 m, 4 m, 8 m, 16 m, 32 m (the
simulator's schedule), on the simulator's clock. Only loopback URLs are called; any
other is recorded unsent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.common.clock import Clock
from scanpay.sim.common.urls import is_loopback_url
from scanpay.sim.unionpay.keys import UnionPayKeys
from scanpay.sim.unionpay.store import Notice, Order, Store
from scanpay.sim.unionpay.views import TXN_SUB_TYPES, order_fields
from scanpay.sim.unionpay.wire import answer, signed

__all__ = ["RETRY_AFTER", "Deliverer", "delivering", "enqueue", "notice_fields"]

RETRY_AFTER = (60, 120, 240, 480, 960, 1920)
_log = logging.getLogger(__name__)


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
    loopback = is_loopback_url(order.back_url)
    store.add_notice(
        mer_id=order.mer_id,
        order_id=order.order_id,
        url=order.back_url,
        fields=json.dumps(notice_fields(order), ensure_ascii=False),
        next_at=now if loopback else None,
        last_error=None if loopback else "not a loopback URL: not sent",
        created_at=now,
    )


class Deliverer:
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
        self.store = store
        self.clock = clock
        self.keys = keys
        self.key = key
        # Orders whose password step or deadline fell due: settled first, so their
        # notifications leave without waiting for someone to read the order.
        self.settle = settle
        self.tick = tick

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            while True:
                self.settle()
                for notice in self.store.due_notices(self.clock.now()):
                    await self._send(client, notice)
                await asyncio.sleep(self.tick)

    async def _send(self, client: httpx.AsyncClient, notice: Notice) -> None:
        now = self.clock.now()
        error: str | None = None
        form = signed(json.loads(notice.fields), self.keys, self.key)
        try:
            response = await client.post(notice.url, data=form)
            if response.status_code != 200:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = notice.attempts + 1
        if error is None:
            self.store.update_notice(
                notice.id, attempts=attempts, next_at=None, delivered_at=now, last_error=None
            )
            return
        later = (
            now + timedelta(seconds=RETRY_AFTER[attempts - 1])
            if attempts <= len(RETRY_AFTER)
            else None
        )
        _log.info("notification %s to %s failed: %s", notice.id, notice.url, error)
        self.store.update_notice(notice.id, attempts=attempts, next_at=later, last_error=error)


@contextlib.asynccontextmanager
async def delivering(deliverer: Deliverer) -> AsyncIterator[None]:
    """The deliverer running for the duration of the block."""
    task = asyncio.create_task(deliverer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
