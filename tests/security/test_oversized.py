"""Oversized request bodies and headers, everywhere the host reads them, on SQLite and
PostgreSQL: refused early with a clean status, and nothing changes.

The signed API's own body limit (a 70 kB signed body: 413/30) is proved in
``tests/host/integration/test_security.py``; here: the unsigned routes (activation,
the wallet's JSON and its picture upload, which read whole bodies too), the portal's
forms, bodies sent chunked with no length, and request heads far past any sane size.
"""

from __future__ import annotations

import json
import secrets

import pytest

from host.kit import VERSION, RunningHost, World
from scanpay.protocol import SignedHeaders
from security.attack_kit import RawAnswer, assert_unchanged, raw_request, snapshot

#: Past the host's body limit (``max_body``, 64 KiB) for JSON; past the upload limit
#: (4 MiB and framing) for the wallet page's picture.
JSON_TOO_BIG = 70_000
UPLOAD_TOO_BIG = 5 * 1024 * 1024
#: A request head of a megabyte: the HTTP layer refuses it before any route runs.
HEAD_TOO_BIG = 1024 * 1024


def _json_body(size: int) -> bytes:
    return json.dumps(
        {"payload": "a" * size, "auth_code": "1", "account": "1", "pin": "1"}
    ).encode()


def _too_large(answer: RawAnswer) -> None:
    assert answer.status == 413, (answer.status, answer.text[:200])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/terminals/activate",
        "/wallet/v1/confirm",
        "/wallet/v1/preview",
        "/wallet/v1/pay",
        "/wallet/v1/session",
        "/wallet/v1/me/pay",
    ],
)
def test_oversized_json_bodies_are_413_before_they_are_read(host: RunningHost, path: str) -> None:
    before = snapshot(host)
    answer = raw_request(
        host.url,
        path,
        method="POST",
        headers={"Content-Type": "application/json", "Origin": host.url},
        body=_json_body(JSON_TOO_BIG),
    )
    _too_large(answer)
    body = json.loads(answer.body)
    assert (body["code"], body["name"]) == ("30", "FORMAT")
    assert "larger than 65536 bytes" in body["message"]["en"]
    assert_unchanged(host, before)


def test_an_oversized_picture_upload_is_413(host: RunningHost) -> None:
    boundary = secrets.token_hex(8)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="qr.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG"
        + b"\x00" * UPLOAD_TOO_BIG
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = raw_request(
        host.url,
        "/wallet/v1/me/scan",
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        body=body,
    )
    _too_large(answer)


def test_a_chunked_body_without_a_length_is_bounded_too(host: RunningHost) -> None:
    """No Content-Length to check up front: the host counts what arrives and stops at the
    limit (signed API, wallet: 413), or refuses a form of unknown length (portal: 411)."""
    before = snapshot(host)
    chunk = b"a" * 16_384
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
    answer = raw_request(
        host.url,
        "/v1/payments",
        method="POST",
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        body=chunked,
        content_length=False,
    )
    _too_large(answer)
    answer = raw_request(
        host.url,
        "/wallet/v1/preview",
        method="POST",
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        body=chunked,
        content_length=False,
    )
    _too_large(answer)
    form = b"email=a%40b.example&password=" + b"x" * 1000
    answer = raw_request(
        host.url,
        "/portal/login",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Transfer-Encoding": "chunked",
        },
        body=b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form),
        content_length=False,
    )
    assert answer.status == 411, answer.text[:300]
    assert_unchanged(host, before)


@pytest.mark.parametrize("path", ["/portal/login", "/portal/apply"])
def test_oversized_portal_forms_are_413(host: RunningHost, path: str) -> None:
    before = snapshot(host)
    answer = raw_request(
        host.url,
        path,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"email=a%40b.example&password=" + b"x" * 2_000_000,
    )
    _too_large(answer)
    assert "The form is too large" in answer.text or "表单过大" in answer.text
    assert_unchanged(host, before)


@pytest.mark.parametrize(
    "path", ["/v1/transactions", "/v1/payments", "/portal/login", "/wallet/v1/session", "/healthz"]
)
def test_an_oversized_request_head_is_refused_by_the_http_layer(
    host: RunningHost, world: World, path: str
) -> None:
    """One megabyte of header, as one header or as thousands: 400 before any route runs
    (so before the signature is even looked at), and the host still serves afterwards."""
    before = snapshot(host)
    signed = world.terminal.request("GET", "/v1/terminals/self").request.headers
    headers = {k: v for k, v in signed.items() if k.lower().startswith("x-scanpay")}
    one = raw_request(host.url, path, headers={**headers, "X-Padding": "a" * HEAD_TOO_BIG})
    many = raw_request(
        host.url,
        path,
        headers=headers,
        extra_header_lines=[f"X-Pad-{i}: {'b' * 1000}" for i in range(HEAD_TOO_BIG // 1000)],
    )
    for answer in (one, many):
        assert answer.status == 400, (path, answer.status, answer.text[:200])
        assert "Invalid HTTP request" in answer.text
    assert_unchanged(host, before)
    assert world.terminal.request("GET", "/v1/terminals/self").status_code == 200


def test_oversized_security_headers_are_refused_cheaply(world: World) -> None:
    """Signature, nonce, terminal id and request id far past their shapes (inside the head
    limit): 401/63 naming the header, nothing stored, the request id not echoed."""
    host = world.host
    before = snapshot(host)
    body = b'{"out_trade_no":"HUGE-1","amount":1,"currency":"CNY","auth_code":"1"}'
    signed = SignedHeaders.for_request(
        terminal_id=world.terminal.terminal_id,
        key_hex=world.terminal.key,
        method="POST",
        path="/v1/payments",
        body=body,
        timestamp=int(host.clock.now().timestamp()),
        nonce=secrets.token_hex(16),
    ).as_dict()
    big = "f" * 60_000
    for field in ("X-Scanpay-Signature", "X-Scanpay-Nonce", "X-Scanpay-Timestamp"):
        answer = raw_request(
            host.url,
            "/v1/payments",
            method="POST",
            headers={
                **signed,
                field: big,
                "Content-Type": "application/json",
                "X-Scanpay-Software-Version": VERSION,
            },
            body=body,
        )
        assert answer.status == 401, (field, answer.status, answer.text[:200])
        assert json.loads(answer.body)["field"] == field
    stranger = raw_request(
        host.url,
        "/v1/terminals/self",
        headers={**signed, "X-Scanpay-Terminal": "T" + "9" * 60_000, "X-Request-Id": "r" * 60_000},
    )
    assert stranger.status == 401
    assert 8 <= len(stranger.headers["x-request-id"]) <= 64
    assert_unchanged(host, before)
    assert world.terminal.get("HUGE-1").status_code == 404
