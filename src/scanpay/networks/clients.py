"""What every network adapter holds: its HTTP connections and a client per channel.

A channel's client (what signs and verifies for its keys) is built on first use and
cached; a channel whose secrets changed (a rotated key) gets a new one, and the one
it replaces is left to finish what another thread does with it. Building sends
nothing, so it runs outside the lock. ``close()`` drops the clients and closes every
connection; an adapter is a context manager that does so on leaving.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, Self, TypeVar

import httpx

from scanpay.networks.options import Timeouts
from scanpay.networks.port import Channel

__all__ = ["ClientCache", "HoldsClients"]

C = TypeVar("C")


class ClientCache(Generic[C]):
    """Clients by a key naming a channel's accounts, each kept with the secrets it was
    built from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[Hashable, tuple[frozenset[tuple[str, str]], C]] = {}

    def get(self, key: Hashable, channel: Channel, build: Callable[[], C]) -> C:
        """The client for ``key``, built by ``build`` unless one was, from the same
        secrets; whatever ``build`` raises (``NetworkError`` for unusable keys) passes."""
        secrets = frozenset(channel.secrets.items())
        with self._lock:
            found = self._made.get(key)
            if found is not None and found[0] == secrets:
                return found[1]
        made = build()
        with self._lock:
            self._made[key] = (secrets, made)
        return made

    def clear(self) -> None:
        with self._lock:
            self._made.clear()


class HoldsClients:
    """The base of an adapter: its connection pool (``_http``: no redirects, since a
    reply comes from the gateway or it is no reply), pools of its own for a channel's
    client certificate (:meth:`_own_http`), and caches of channels' clients
    (:meth:`_cache`). ``close()`` when done."""

    def __init__(self, timeouts: Timeouts) -> None:
        self._timeouts = httpx.Timeout(timeouts.pay, connect=timeouts.connect)
        self._http = httpx.Client(timeout=self._timeouts, follow_redirects=False)
        self._pools_lock = threading.Lock()
        self._pools: list[httpx.Client] = []
        self._caches: list[ClientCache[Any]] = []

    def _cache(self) -> ClientCache[C]:
        """A new cache of clients, cleared by :meth:`close`."""
        cache: ClientCache[C] = ClientCache()
        self._caches.append(cache)
        return cache

    def _own_http(self, verify: ssl.SSLContext) -> httpx.Client:
        """A pool of its own, with ``verify`` (a client certificate), closed by :meth:`close`."""
        http = httpx.Client(verify=verify, timeout=self._timeouts, follow_redirects=False)
        with self._pools_lock:
            self._pools.append(http)
        return http

    def close(self) -> None:
        """Drop the clients and close every connection."""
        for cache in self._caches:
            cache.clear()
        with self._pools_lock:
            for http in [self._http, *self._pools]:
                http.close()
            self._pools.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
