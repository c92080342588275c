"""Asynchronous notifications leaving a simulator, and their delivery with retries.

Each network queues its notifications in its own table (Alipay's ``trade_status_sync``,
WeChat Pay's refund callbacks) and says how one is posted and what answer takes it
(:class:`Outbox`); :class:`Deliverer`, a task of the app's lifespan, does the rest the
same for every network: it posts each due one, and one not taken is sent again after
the network's intervals, on the simulator's clock (a test moves it to see a retry),
until they run out. Only loopback URLs are ever called (:func:`is_loopback_url`); a
network queues any other unsent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from scanpay.sim.common.clock import Clock

__all__ = ["Deliverer", "Outbox", "Pending", "Post", "delivering", "is_loopback_url"]

_log = logging.getLogger(__name__)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is http(s) to this machine: the only place a simulator posts to."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed "[" of an IPv6 address, a bad port
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
