"""A fault-injecting HTTP/1.1 proxy for loopback tests and the chaos harness.

It sits between a terminal agent and the host and, request by request, does
what an unreliable network does: drops the request, drops the reply after the
host has acted on it, holds the reply past the client's timeout, resets the
connection, delivers the request twice, lets a later request overtake it, or
(given a header that asks the upstream for one) makes the upstream answer with
an error of its own. A :class:`FaultPlan` decides per request; every decision
is counted, and :attr:`FaultProxy.in_flight` tells how many requests the
upstream has and has not answered to their client yet.

It frames HTTP/1.1 messages (Content-Length bodies; chunked replies such as
server-sent events are passed through until the upstream closes), which is
all the terminal protocol uses. It only ever connects to the upstream it was
given, which callers keep on loopback.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Fault", "FaultPlan", "FaultProxy", "RandomFaults", "RequestInfo"]

_HEAD_LIMIT = 64 * 1024


class Fault(StrEnum):
    """What the proxy does to one request."""

    NONE = "none"
    DROP_REQUEST = "drop_request"
    """Close the client's connection; the upstream never sees the request."""
    DROP_REPLY = "drop_reply"
    """Forward the request, wait for the reply, then close without delivering it."""
    DELAY = "delay"
    """Deliver the reply late (past a client's timeout when the delay is long)."""
    RESET = "reset"
    """Abort the client's connection with a TCP reset, before or after forwarding."""
    DUPLICATE = "duplicate"
    """Send the request upstream twice; the client gets the first reply."""
    REORDER = "reorder"
    """Hold the request briefly so requests sent after it reach the upstream first."""
    UPSTREAM_ERROR = "upstream_error"
    """Forward the request with the proxy's ``error_header`` added: the upstream answers
    with an error of its own (the WeChat Pay simulator's ``Wechatpay-Negative-Test:
    SYSTEMERROR``). Without an ``error_header`` the request passes untouched."""


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a fault plan may look at: method, path and a running request number."""

    method: str
    path: str
    number: int


FaultPlan = Callable[[RequestInfo], Fault]


@dataclass
class RandomFaults:
    """Faults at ``rate`` (0-1), drawn from ``kinds`` with a seeded generator."""

    rate: float
    seed: int = 0
    kinds: tuple[Fault, ...] = (
        Fault.DROP_REQUEST,
        Fault.DROP_REPLY,
        Fault.DELAY,
        Fault.RESET,
        Fault.DUPLICATE,
        Fault.REORDER,
    )
    only_paths: tuple[str, ...] = ()
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __call__(self, info: RequestInfo) -> Fault:
        if self.only_paths and not info.path.startswith(self.only_paths):
            return Fault.NONE
        with self._lock:
            if self._rng.random() >= self.rate:
                return Fault.NONE
            return self._rng.choice(self.kinds)


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes, bool] | None:
    """One HTTP/1.1 message: (head, body, complete). ``None`` at a clean EOF.

    ``complete`` is False for a chunked or close-delimited body, which the
    caller then streams through instead of framing.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ConnectionError("connection closed inside a message head") from None
    except asyncio.LimitOverrunError:
        raise ConnectionError("message head too large") from None
    length: int | None = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        return head, b"", False
    if length is None:
        first = head.split(b"\r\n", 1)[0]
        if not first.startswith(b"HTTP/"):
            return head, b"", True  # a request with no length has no body
        status = first.split(b" ", 2)[1] if first.count(b" ") else b""
        # 1xx, 204 and 304 replies have no body; any other reply runs to close.
        return head, b"", status[:1] == b"1" or status in (b"204", b"304")
    body = await reader.readexactly(length) if length else b""
    return head, body, True


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER with a zero timeout turns close() into a TCP reset.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """A proxy from a loopback port to ``upstream``, injecting faults per request.

    Use as a context manager or call :meth:`start` and :meth:`stop`. It runs
    its own event loop in a background thread, so synchronous tests can use
    it. :meth:`set_down` makes it refuse every connection (the host
    unreachable) until set up again.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        plan: FaultPlan | None = None,
        delay_seconds: float = 3.0,
        reorder_seconds: float = 0.2,
        listen_host: str = "127.0.0.1",
        error_header: tuple[str, str] | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.error_header = error_header
        self.plan: FaultPlan = plan or (lambda _info: Fault.NONE)
        self.delay_seconds = delay_seconds
        self.reorder_seconds = reorder_seconds
        self.listen_host = listen_host
        self.port = 0
        self.stats: Counter[str] = Counter()
        self.in_flight = 0
        """Requests forwarded upstream whose reply has not reached (or been refused to)
        the client yet: the moments a kill of the client lands inside a call."""
        self._down = False
        self._number = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Future[None]] = set()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.listen_host}:{self.port}"

    def set_down(self, down: bool) -> None:
        """Refuse (reset) every new and open connection while ``down``."""
        self._down = down
        loop = self._loop
        if down and loop is not None:
            loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._client, self.listen_host, 0, limit=_HEAD_LIMIT)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        # Let aborted connections and their handlers finish before closing.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        self._abort_all()
        await asyncio.sleep(0.05)

    # -- per connection ------------------------------------------------------

    def _next(self, method: str, path: str) -> RequestInfo:
        with self._lock:
            self._number += 1
            return RequestInfo(method, path, self._number)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            if self._down:
                self.stats["refused"] += 1
                _reset(writer)
                return
            while True:
                request = await _read_message(reader)
                if request is None:
                    break
                head, body, _ = request
                method, _, rest = head.partition(b" ")
                info = self._next(method.decode(errors="replace"), rest.split(b" ", 1)[0].decode())
                fault = Fault.NONE if self._down else self.plan(info)
                self.stats[fault.value] += 1
                if self._down or fault is Fault.DROP_REQUEST:
                    writer.transport.abort()
                    return
                if fault is Fault.RESET and info.number % 2:
                    # Half the resets hit before the upstream sees the request,
                    # half after it has acted on it.
                    _reset(writer)
                    return
                if fault is Fault.REORDER:
                    await asyncio.sleep(self.reorder_seconds)
                if fault is Fault.UPSTREAM_ERROR and self.error_header is not None:
                    name, value = self.error_header
                    head = head[:-2] + f"{name}: {value}\r\n\r\n".encode("latin-1")
                if fault is Fault.DUPLICATE:
                    task = asyncio.ensure_future(self._send_once(head + body))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                if upstream is None:
                    upstream = await asyncio.open_connection(*self.upstream, limit=_HEAD_LIMIT)
                up_reader, up_writer = upstream
                self._count_in_flight(1)
                try:
                    up_writer.write(head + body)
                    await up_writer.drain()
                    reply = await _read_message(up_reader)
                    if reply is None:
                        writer.transport.abort()
                        return
                    reply_head, reply_body, complete = reply
                    if fault in (Fault.DROP_REPLY, Fault.RESET):
                        _reset(writer)
                        return
                    if fault is Fault.DELAY:
                        await asyncio.sleep(self.delay_seconds)
                    writer.write(reply_head + reply_body)
                    await writer.drain()
                finally:
                    self._count_in_flight(-1)
                if not complete:
                    await self._pipe(up_reader, writer)
                    return
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            writer.transport.abort()
        finally:
            self._writers.discard(writer)
            if upstream is not None:
                upstream[1].transport.abort()
            if not writer.transport.is_closing():
                writer.close()

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change

    async def _send_once(self, raw: bytes) -> None:
        try:
            reader, writer = await asyncio.open_connection(*self.upstream)
            writer.write(raw)
            await writer.drain()
            await _read_message(reader)
            writer.close()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        writer.close()
