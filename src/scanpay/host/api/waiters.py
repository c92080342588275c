"""Wake-ups for long-polls and event streams when an order changes in this process.

Services announce committed changes on the host context (from worker
threads); :class:`Waiters` turns them into :class:`asyncio.Event` wake-ups on
the event loop. Changes made by *other* host processes are not announced
here, so waiters also re-read the order every :data:`POLL_SECONDS`: the
announcement makes this process's answer immediate, the poll makes every
process's answer correct.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress

__all__ = ["POLL_SECONDS", "Waiters"]

#: How often a waiting request re-reads the database.
POLL_SECONDS = 0.5


class Waiters:
    """Events by order topic, set from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._events: dict[str, set[asyncio.Event]] = {}

    def announce(self, topic: str, key: str) -> None:
        """A :data:`~scanpay.host.services.context.Listener`: safe from any thread."""
        if topic != "order":
            return
        # The loop closes when the app stops; a late announcement is then moot.
        with suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake, key)

    def _wake(self, key: str) -> None:
        for event in self._events.get(key, ()):
            event.set()

    @contextmanager
    def watch(self, key: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``key`` is announced, while the block runs."""
        event = asyncio.Event()
        self._events.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._events.get(key)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._events[key]

    async def wait(self, event: asyncio.Event, timeout: float) -> None:
        """Until ``event`` is set or ``timeout`` passes; then clear it."""
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0.0))
        event.clear()
