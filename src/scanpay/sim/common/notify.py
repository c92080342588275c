"""Asynchronous notifications leaving a simulator, and their delivery with retries.

Each network queues its notifications in its own table (Alipay's ``trade_status_sync``,
WeChat Pay's refund callbacks, UnionPay's ``backUrl`` notifications) and says how one
is posted and what answer takes it (:class:`Outbox`); :class:`Deliverer`, a task of the
app's lifespan, does the rest the same for every network: it posts each due one, and
one not taken is sent again after the network's intervals, on the simulator's clock (a
test moves it to see a retry), until they run out. Only loopback URLs are ever called
(:func:`is_loopback_url`); a network queues any other unsent (:func:`first_attempt`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode

import httpx

from scanpay.sim.common.clock import Clock
from scanpay.sim.common.urls import is_loopback_url

__all__ = [
    "Deliverer",
    "NoticeStore",
    "Outbox",
    "Pending",
    "Post",
    "StoredOutbox",
    "delivering",
    "first_attempt",
    "form_post",
    "is_loopback_url",
    "lifespan_delivering",
]

_log = logging.getLogger(__name__)


def first_attempt(url: str, now: datetime) -> dict[str, Any]:
    """A new notification's ``next_at`` and ``last_error``: due at once to a loopback
    ``url``; to any other, recorded unsent."""
    if is_loopback_url(url):
        return {"next_at": now, "last_error": None}
    return {"next_at": None, "last_error": "not a loopback URL: not sent"}


class Pending(Protocol):
    """A queued notification, as the deliverer needs it."""

    @property
    def id(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def attempts(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Post:
    """What one attempt posts: the body and its headers (signed at that moment)."""

    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


N = TypeVar("N", bound=Pending)


class Outbox(Protocol[N]):
    """A network's queue of notifications and its ways with them."""

    @property
    def retry_after(self) -> Sequence[int]:
        """Seconds before each further attempt after a failed one; then it is given up."""
        ...

    def due(self, now: datetime) -> Sequence[N]:
        """The notifications to send at ``now``."""
        ...

    def post(self, item: N, now: datetime) -> Post:
        """How ``item`` is posted at ``now``."""
        ...

    def accepted(self, response: httpx.Response) -> bool:
        """Whether the receiver took it (it is not sent again)."""
        ...

    def record(self, item: N, **changes: Any) -> None:
        """Store an attempt's result: ``attempts``, ``next_at`` (None: no further
        attempt), ``last_error``, and ``delivered_at`` once taken."""
        ...


N_co = TypeVar("N_co", bound=Pending, covariant=True)


class NoticeStore(Protocol[N_co]):
    """A simulator's store, as its ``notices`` table is read and written."""

    def due_notices(self, now: datetime) -> Sequence[N_co]: ...

    def update_notice(self, notice_id: int, **changes: Any) -> None: ...


class StoredOutbox(Generic[N]):
    """The part of an :class:`Outbox` kept in a store's ``notices`` table: what is due,
    and each attempt recorded. A network adds ``retry_after``, ``post`` and ``accepted``."""

    def __init__(self, store: NoticeStore[N]) -> None:
        self.store = store

    def due(self, now: datetime) -> Sequence[N]:
        return self.store.due_notices(now)

    def record(self, item: N, **changes: Any) -> None:
        self.store.update_notice(item.id, **changes)


def form_post(fields: Mapping[str, str]) -> Post:
    """``fields`` posted as a URL-encoded form."""
    return Post(urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


class Deliverer(Generic[N]):
    """Sends due notifications; run as a task while the app serves."""

    def __init__(
        self,
        outbox: Outbox[N],
        clock: Clock,
        settle: Callable[[], None] = lambda: None,
        tick: float = 0.05,
    ) -> None:
        self.outbox = outbox
        self.clock = clock
        # What fell due on the network's clock (a password step, a refund finishing):
        # settled first, so its notifications leave without waiting for a query.
        self.settle = settle
        self.tick = tick

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            while True:
                self.settle()
                for item in self.outbox.due(self.clock.now()):
                    await self._send(client, item)
                await asyncio.sleep(self.tick)

    async def _send(self, client: httpx.AsyncClient, item: N) -> None:
        now = self.clock.now()
        error: str | None = None
        try:
            post = self.outbox.post(item, now)
            response = await client.post(item.url, content=post.content, headers=post.headers)
            if not self.outbox.accepted(response):
                error = f"HTTP {response.status_code}: answered {response.text[:60]!r}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = item.attempts + 1
        if error is None:
            self.outbox.record(
                item, attempts=attempts, next_at=None, delivered_at=now, last_error=None
            )
            return
        waits = self.outbox.retry_after
        later = now + timedelta(seconds=waits[attempts - 1]) if attempts <= len(waits) else None
        _log.info("notification %s to %s failed: %s", item.id, item.url, error)
        self.outbox.record(item, attempts=attempts, next_at=later, last_error=error)


@contextlib.asynccontextmanager
async def delivering(deliverer: Deliverer[Any]) -> AsyncIterator[None]:
    """The deliverer running for the duration of the block."""
    task = asyncio.create_task(deliverer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def lifespan_delivering(
    deliverer: Deliverer[Any], close: Callable[[], None]
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A simulator app's lifespan: ``deliverer`` running while the app serves, then
    ``close()`` (its store)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with delivering(deliverer):
            yield
        close()

    return lifespan
