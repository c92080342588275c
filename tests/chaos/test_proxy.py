"""The fault proxy does to real HTTP traffic what it says it does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from scanpay.chaos import Fault, FaultPlan, FaultProxy, RandomFaults, RequestInfo


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[str] = []
        self.asked: list[str | None] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Upstream

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.seen.append(body.decode())
            self.server.asked.append(self.headers.get("Wechatpay-Negative-Test"))
            count = len(self.server.seen)
        reply = f"ok {body.decode()} #{count}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _plan(*faults: Fault) -> FaultPlan:
    queue = list(faults)

    def plan(_info: RequestInfo) -> Fault:
        return queue.pop(0) if queue else Fault.NONE

    return plan


def test_passes_traffic_through_on_keep_alive(upstream: _Upstream) -> None:
    with (
        FaultProxy(*upstream.server_address[:2]) as proxy,
        httpx.Client(base_url=proxy.url) as client,
    ):
        assert client.post("/x", content=b"a").text == "ok a #1"
        assert client.post("/x", content=b"b").text == "ok b #2"
    assert upstream.seen == ["a", "b"]
    assert proxy.stats["none"] == 2


def test_drop_request_never_reaches_the_host(upstream: _Upstream) -> None:
    with FaultProxy(*upstream.server_address[:2], plan=_plan(Fault.DROP_REQUEST)) as proxy:
        with pytest.raises(httpx.TransportError):
            httpx.post(proxy.url + "/x", content=b"lost")
        assert httpx.post(proxy.url + "/x", content=b"next").text == "ok next #1"
    assert upstream.seen == ["next"]


def test_drop_reply_after_the_host_acted(upstream: _Upstream) -> None:
    plan = _plan(Fault.DROP_REPLY)
    with (
        FaultProxy(*upstream.server_address[:2], plan=plan) as proxy,
        pytest.raises(httpx.TransportError),
    ):
        httpx.post(proxy.url + "/x", content=b"done")
    assert upstream.seen == ["done"]


def test_delay_past_the_client_timeout(upstream: _Upstream) -> None:
    plan = _plan(Fault.DELAY)
    with (
        FaultProxy(*upstream.server_address[:2], plan=plan, delay_seconds=1.0) as proxy,
        pytest.raises(httpx.ReadTimeout),
    ):
        httpx.post(proxy.url + "/x", content=b"slow", timeout=0.2)
    assert upstream.seen == ["slow"]


def test_duplicate_delivers_twice(upstream: _Upstream) -> None:
    with FaultProxy(*upstream.server_address[:2], plan=_plan(Fault.DUPLICATE)) as proxy:
        reply = httpx.post(proxy.url + "/x", content=b"twice")
        assert reply.status_code == 200
        for _ in range(100):
            if len(upstream.seen) == 2:
                break
            threading.Event().wait(0.02)
    assert upstream.seen == ["twice", "twice"]


def test_reset_and_down(upstream: _Upstream) -> None:
    with FaultProxy(*upstream.server_address[:2], plan=_plan(Fault.RESET, Fault.RESET)) as proxy:
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                httpx.post(proxy.url + "/x", content=b"r")
        proxy.set_down(True)
        with pytest.raises(httpx.TransportError):
            httpx.post(proxy.url + "/x", content=b"down")
        proxy.set_down(False)
        assert httpx.post(proxy.url + "/x", content=b"up").status_code == 200
    # One reset hit before forwarding, one after; "down" never arrived.
    assert upstream.seen == ["r", "up"]
    assert proxy.stats["refused"] == 1


def test_random_faults_are_seeded() -> None:
    infos = [RequestInfo("POST", "/v1/payments", i) for i in range(200)]
    plan, replay = RandomFaults(0.3, seed=7), RandomFaults(0.3, seed=7)
    first = [plan(i) for i in infos]
    again = [replay(i) for i in infos]
    assert first == again
    share = sum(f is not Fault.NONE for f in first) / len(first)
    assert 0.15 < share < 0.45
    only = RandomFaults(1.0, seed=1, only_paths=("/v1/payments",))
    assert only(RequestInfo("GET", "/healthz", 1)) is Fault.NONE
    assert only(RequestInfo("POST", "/v1/payments", 2)) is not Fault.NONE


def test_upstream_error_asks_the_upstream_for_its_error(upstream: _Upstream) -> None:
    plan = _plan(Fault.UPSTREAM_ERROR, Fault.NONE)
    header = ("Wechatpay-Negative-Test", "SYSTEMERROR")
    with FaultProxy(*upstream.server_address[:2], plan=plan, error_header=header) as proxy:
        assert httpx.post(proxy.url + "/x", content=b"one").text == "ok one #1"
        assert httpx.post(proxy.url + "/x", content=b"two").text == "ok two #2"
    # Only the faulted request carries the header; the body is forwarded untouched.
    assert upstream.asked == ["SYSTEMERROR", None]
    assert upstream.seen == ["one", "two"]
    assert proxy.stats["upstream_error"] == 1


def test_upstream_error_without_a_header_passes_untouched(upstream: _Upstream) -> None:
    with FaultProxy(*upstream.server_address[:2], plan=_plan(Fault.UPSTREAM_ERROR)) as proxy:
        assert httpx.post(proxy.url + "/x", content=b"plain").status_code == 200
    assert upstream.asked == [None]


def test_in_flight_counts_a_call_until_its_reply_is_handed_over(upstream: _Upstream) -> None:
    plan = _plan(Fault.DELAY)
    replies: list[int] = []
    # Held for 3 s, watched until the caller is done: a busy machine may start the
    # caller late or pause this thread, and neither may read as "never in flight".
    with FaultProxy(*upstream.server_address[:2], plan=plan, delay_seconds=3.0) as proxy:
        assert proxy.in_flight == 0
        caller = threading.Thread(
            target=lambda: replies.append(
                httpx.post(proxy.url + "/x", content=b"held", timeout=60).status_code
            )
        )
        caller.start()
        seen_in_flight = False
        while caller.is_alive() and not seen_in_flight:
            seen_in_flight = proxy.in_flight == 1
            threading.Event().wait(0.002)
        caller.join(60)
        assert seen_in_flight
        assert replies == [200]
        assert proxy.in_flight == 0
