"""What the adapters' test kits share: certificates made here (a chain of a network's
own, look-alikes that must fail), the adapter's patient timeouts, and a loopback
gateway that answers what a test tells it to (or not at all) and keeps what it was
sent, for the faults a simulator does not stage."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scanpay.networks.options import Timeouts

__all__ = [
    "PATIENT",
    "Answer",
    "LoopbackGateway",
    "make_cert",
    "patient",
    "pem",
    "serving_gateway",
]

PATIENT = 120.0
"""Seconds a call may take: the machine is busy, so none times out unless a test means it."""

Answer = Callable[[dict[str, str]], tuple[int, bytes]]
G = TypeVar("G", bound="LoopbackGateway")


def make_cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    signer: rsa.RSAPrivateKey,
    *,
    days: tuple[int, int] = (-1, 365),
    serial: int | None = None,
) -> x509.Certificate:
    """``key``'s certificate naming ``subject``, issued by ``issuer`` with ``signer``, valid
    from ``days[0]`` to ``days[1]`` days from now."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .sign(signer, hashes.SHA256())
    )


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def patient(pay: float = PATIENT) -> Timeouts:
    """Timeouts none of which a test meets, but ``pay`` if it says so."""
    return Timeouts(
        pay=pay, query=PATIENT, reverse=PATIENT, refund=PATIENT, statement=PATIENT, connect=30
    )


@dataclass
class LoopbackGateway:
    """The loopback gateway: ``answer`` makes each reply from the request's form; every
    call is kept as (path, form); ``hold`` set: the next call is answered only when the
    gateway closes (a reply that never comes in time); ``files``: served on GET by path."""

    url: str
    answer: Answer
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    files: dict[str, bytes] = field(default_factory=dict)


@contextmanager
def serving_gateway(made: G, path: str, content_type: str) -> Iterator[G]:
    """``made`` served on a loopback port for one test, its ``url`` that and ``path``;
    replies are ``content_type``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = made.files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(size).decode(), keep_blank_values=True))
            made.calls.append((self.path, form))
            if made.hold.is_set():
                made.hold.clear()
                release.wait(120)
                return
            status, body = made.answer(form)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    made.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield made
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(60)
