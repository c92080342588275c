"""The load generator: terminals paying with fresh wallet codes, in a process of its own.

Each load process runs its share of the terminals as asyncio tasks, one
keep-alive HTTP/1.1 connection each and one request at a time (a terminal
waits for its answer, as a real one does). The HTTP client is a few lines
over asyncio streams rather than a full client library, so that a
generator process costs little CPU next to the host it measures (both share
the machine); the process reports its own CPU time so that it can be seen
not to be the bottleneck.

Every request is a real one: a signed ``POST /v1/payments`` with a new
``out_trade_no`` and a valid one-time code of one of the process's own
wallets (made from the wallet's secret with the host's code functions, one
per wallet and 5-second step, like a phone makes them); every answer's
signature is checked.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import Counter
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any

from scanpay.host.domain.wallet_codes import CodeFormat, make_digits
from scanpay.protocol.signing import request_message, response_message, sign, verify

__all__ = ["CodeSupply", "LoadResult", "LoadSlice", "run_load"]

PATH = "/v1/payments"


@dataclass(frozen=True, slots=True)
class LoadSlice:
    """One load process's share of the work (picklable: it crosses a process boundary)."""

    index: int
    host: str
    port: int
    #: (terminal id, key as 64 hex)
    terminals: tuple[tuple[str, str], ...]
    #: (account number, secret as 64 hex)
    wallets: tuple[tuple[str, str], ...]
    wallet_prefix: str
    #: unix times: count from ``measure_from`` to ``stop_at``, then stop
    measure_from: float
    stop_at: float
    amount_min: int = 1
    amount_max: int = 200
    timeout: float = 30.0
    software_version: str = "1.0.0"
    seed: int = 0


@dataclass
class LoadResult:
    """What one load process saw. ``window_*`` counts answers received inside the measured
    window; ``total_*`` counts every request of the run (warm-up included)."""

    index: int
    latencies_ms: list[float] = field(default_factory=list)
    window_outcomes: Counter[str] = field(default_factory=Counter)
    total_outcomes: Counter[str] = field(default_factory=Counter)
    code_waits: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    failure: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "requests": len(self.latencies_ms),
            "window_outcomes": dict(self.window_outcomes),
            "total_outcomes": dict(self.total_outcomes),
            "code_waits": self.code_waits,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "failure": self.failure,
        }


class CodeSupply:
    """Fresh one-time codes from a set of wallets: one per wallet and time step.

    A code is made for the current step, or the step before it when that one
    was not used yet (both are well inside the code's 60-second life), taking
    the wallets in turn. ``None`` means every wallet has used the current
    step: wait for the next one.
    """

    def __init__(self, fmt: CodeFormat, wallets: tuple[tuple[str, str], ...]) -> None:
        if not wallets:
            raise ValueError("a load process needs at least one wallet")
        self._fmt = fmt
        self._wallets = [(number, bytes.fromhex(secret)) for number, secret in wallets]
        self._last = [-(2**62)] * len(self._wallets)
        self._next = 0

    def take(self, unix: float) -> str | None:
        """A code valid at ``unix``, never handed out before; ``None`` when none is left."""
        current = self._fmt.step(int(unix))
        count = len(self._wallets)
        for _ in range(count):
            i = self._next
            self._next = (i + 1) % count
            step = max(self._last[i] + 1, current - 1)
            if step <= current:
                self._last[i] = step
                number, secret = self._wallets[i]
                return make_digits(self._fmt, number, secret, step)
        return None

    def seconds_to_next_step(self, unix: float) -> float:
        step = self._fmt.step_seconds
        return step - (unix % step) + 0.01


class _ProtocolError(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the host closed the connection")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise _ProtocolError(f"bad status line {status_line[:40]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    else:
        raise _ProtocolError("an answer without a length")
    return status, headers, body


class _Terminal:
    """One terminal: a connection, a key, a counter for its trade numbers."""

    def __init__(
        self, job: LoadSlice, number: int, terminal_id: str, key: str, result: LoadResult
    ) -> None:
        self.job = job
        self.number = number
        self.terminal_id = terminal_id
        self.key = key
        self.result = result
        self.sequence = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.prefix = f"B{job.index}x{number}x"
        self.head = (
            f"POST {PATH} HTTP/1.1\r\nHost: {job.host}:{job.port}\r\n"
            "Content-Type: application/json\r\n"
            f"X-Scanpay-Terminal: {terminal_id}\r\n"
            f"X-Scanpay-Software-Version: {job.software_version}\r\n"
            "X-Scanpay-Signature-Version: 2\r\n"
        )

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.job.host, self.job.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    def request(self, code: str, amount: int) -> tuple[bytes, str, str]:
        self.sequence += 1
        body = json.dumps(
            {
                "out_trade_no": f"{self.prefix}{self.sequence}",
                "amount": amount,
                "currency": "CNY",
                "auth_code": code,
            },
            separators=(",", ":"),
        ).encode()
        stamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        signature = sign(self.key, request_message("POST", PATH, stamp, nonce, body))
        head = (
            f"{self.head}Content-Length: {len(body)}\r\nX-Scanpay-Timestamp: {stamp}\r\n"
            f"X-Scanpay-Nonce: {nonce}\r\nX-Scanpay-Signature: {signature}\r\n\r\n"
        )
        return head.encode() + body, nonce, signature

    async def exchange(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None or self.reader is None:
            await self.connect()
        assert self.writer is not None and self.reader is not None
        self.writer.write(raw)
        return await _read_response(self.reader)

    def judge(
        self, status: int, headers: dict[str, str], body: bytes, nonce: str, sent_signature: str
    ) -> str:
        """The outcome's name: ``approved``, or the kind of error."""
        signature = headers.get("x-scanpay-signature")
        if signature is None or headers.get("x-scanpay-nonce") != nonce:
            return f"unsigned_{status}"
        stamp = headers.get("x-scanpay-timestamp", "")
        message = response_message(status, stamp, nonce, body, sent_signature)
        if not verify(self.key, message, signature):
            return "forged_reply"
        try:
            data = json.loads(body)
        except ValueError:
            return f"bad_json_{status}"
        if status != 200:
            return f"http_{status}_{data.get('code', '')}"
        if data.get("status") == "SUCCESS":
            return "approved"
        return f"{str(data.get('status', '')).lower()}_{data.get('code', '')}"


async def _drive(
    term: _Terminal,
    supply: CodeSupply,
    rng: random.Random,
    counters: MutableSequence[int] | None,
) -> None:
    job, result = term.job, term.result
    while time.time() < job.stop_at:
        code = supply.take(time.time())
        if code is None:
            result.code_waits += 1
            await asyncio.sleep(supply.seconds_to_next_step(time.time()))
            continue
        raw, nonce, sent = term.request(code, rng.randint(job.amount_min, job.amount_max))
        started = time.perf_counter()
        try:
            status, headers, body = await asyncio.wait_for(term.exchange(raw), job.timeout)
            outcome = term.judge(status, headers, body, nonce, sent)
        except TimeoutError:
            outcome = "timeout"
            term.close()
        except (OSError, asyncio.IncompleteReadError, _ProtocolError) as exc:
            outcome = f"transport_{type(exc).__name__}"
            term.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        now = time.time()
        result.total_outcomes[outcome] += 1
        if counters is not None:  # read by the parent for its progress bar
            counters[0] += 1
            if outcome == "approved":
                counters[1] += 1
        if job.measure_from <= now <= job.stop_at:
            result.window_outcomes[outcome] += 1
            result.latencies_ms.append(elapsed_ms)
        if outcome.startswith("transport_"):
            await asyncio.sleep(0.05)  # do not spin on a refused connection
    term.close()


async def _run(job: LoadSlice, result: LoadResult, counters: MutableSequence[int] | None) -> None:
    fmt = CodeFormat(prefix=job.wallet_prefix)
    supply = CodeSupply(fmt, job.wallets)
    rng = random.Random(job.seed)
    terms = [
        _Terminal(job, number, terminal_id, key, result)
        for number, (terminal_id, key) in enumerate(job.terminals)
    ]
    await asyncio.gather(*(_drive(term, supply, rng, counters) for term in terms))


def run_load(job: LoadSlice, counters: MutableSequence[int] | None = None) -> LoadResult:
    """Run one load process's terminals until ``job.stop_at``; its counts and latencies.

    ``counters`` (e.g. a shared ``RawArray``) gets [requests, approved] as they happen.
    """
    result = LoadResult(job.index)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        asyncio.run(_run(job, result, counters))
    except Exception as exc:  # reported, not raised: the parent collects every process
        result.failure = f"{type(exc).__name__}: {exc}"
    result.cpu_seconds = time.process_time() - cpu0
    result.wall_seconds = time.perf_counter() - wall0
    return result
