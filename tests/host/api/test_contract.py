"""The integrator's contract as docs/host.md states it, checked on a real host over HTTP:
the nonce's format, the query string signed as sent, which answers are signed, what a
repeated request answers, and the codes of refusals (issue 15, item 5)."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import select, update

from host.kit import (
    RunningHost,
    SignedClient,
    World,
    activate,
    remember,
)
from scanpay.host import HostSettings, create_app
from scanpay.host.db.models import TerminalKey, parse_public_id
from scanpay.host.services import terminals
from scanpay.protocol.signing import is_valid_nonce
from support import app_in_thread

SIGNATURE = "x-scanpay-signature"


def _unsigned_refusal(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert SIGNATURE not in response.headers
    assert "x-scanpay-nonce" not in response.headers
    body: dict[str, object] = response.json()
    assert body["code"] == code
    return body


# ------------------------------------------------------------------ the nonce


def test_the_nonce_is_16_to_64_lower_case_hex(world: World) -> None:
    client = world.terminal
    for good in ("0" * 16, "a" * 64, "0123456789abcdef"):
        answer = client.request("GET", "/v1/terminals/self", nonce=good)
        assert answer.status_code == 200 and answer.headers["x-scanpay-nonce"] == good
    for bad in ("0" * 15, "a" * 65, "ABCDEF0123456789", "0123456789abcdeg"):
        answer = client.request("GET", "/v1/terminals/self", nonce=bad, check_reply=False)
        body = _unsigned_refusal(answer, 401, "63")
        assert body["field"] == "X-Scanpay-Nonce"


def test_an_activation_with_a_malformed_nonce_is_refused_unsigned_and_keeps_its_code(
    host: RunningHost, world: World
) -> None:
    issued = terminals.add_terminal(host.ctx, world.merchant_id)
    code = remember(issued.activation_code)
    url = host.url + "/v1/terminals/activate"
    body = {"activation_code": code, "software_version": "1.0.0"}
    refused = httpx.post(url, json=body, headers={"X-Scanpay-Nonce": "NOT-A-NONCE"}, timeout=30)
    assert _unsigned_refusal(refused, 400, "30")["field"] == "X-Scanpay-Nonce"
    # The code was not spent; a valid nonce is echoed by the reply signed with the new key.
    nonce = "ab" * 16
    done = httpx.post(url, json=body, headers={"X-Scanpay-Nonce": nonce}, timeout=30)
    assert done.status_code == 200, done.text
    remember(done.json()["key"])
    assert done.headers["x-scanpay-nonce"] == nonce and SIGNATURE in done.headers
    # Without a nonce (the terminal agent sends none) the host picks one of the same form.
    again = terminals.add_terminal(host.ctx, world.merchant_id)
    fresh = activate(host.url, remember(again.activation_code))
    remember(fresh.json()["key"])
    assert fresh.status_code == 200 and is_valid_nonce(fresh.headers["x-scanpay-nonce"])


# ------------------------------------------------------------------ the query string


def test_the_query_string_is_signed_exactly_as_sent(host: RunningHost, world: World) -> None:
    paid = world.pay("QS-1", 700)
    assert paid["status"] == "SUCCESS"
    china = timezone(timedelta(hours=8))
    start = (host.clock.now() - timedelta(hours=1)).astimezone(china).isoformat()
    assert start.endswith("+08:00")
    sent = "/v1/transactions?from=" + quote(start, safe="")  # "+" travels as %2B
    answer = world.terminal.request("GET", sent)  # signed over the same encoded bytes
    assert answer.status_code == 200, answer.text
    assert "QS-1" in [p["out_trade_no"] for p in answer.json()["items"]]
    # Signing the decoded text while sending the encoded one is a different message.
    client = world.terminal
    stamp = int(host.clock.now().timestamp())
    from scanpay.protocol.signing import SignedHeaders

    headers = SignedHeaders.for_request(
        terminal_id=client.terminal_id,
        key_hex=client.key,
        method="GET",
        path="/v1/transactions?from=" + start,
        body=b"",
        timestamp=stamp,
        nonce="cd" * 16,
    ).as_dict()
    headers.update({"X-Scanpay-Software-Version": "1.0.0", "X-Scanpay-Signature-Version": "2"})
    wrong = httpx.get(host.url + sent, headers=headers, timeout=30)
    _unsigned_refusal(wrong, 401, "63")


# ------------------------------------------------------------------ signed or not


def test_answers_to_requests_that_did_not_authenticate_are_unsigned(
    host: RunningHost, world: World
) -> None:
    client = world.terminal
    stranger = SignedClient(host.url, "T999999", client.key, host.clock)
    _unsigned_refusal(stranger.request("GET", "/v1/terminals/self", check_reply=False), 401, "63")
    bare = httpx.get(host.url + "/v1/terminals/self", timeout=30)
    _unsigned_refusal(bare, 401, "63")
    forged = SignedClient(host.url, client.terminal_id, "00" * 32, host.clock)
    _unsigned_refusal(forged.request("GET", "/v1/terminals/self", check_reply=False), 401, "63")
    # A request that did authenticate is answered signed, its refusals too.
    missing = client.request("GET", "/v1/payments/NO-SUCH-SALE")
    assert missing.status_code == 404 and missing.json()["code"] == "25"


def test_a_crash_after_authentication_is_signed_and_before_it_unsigned(
    host: RunningHost, world: World, data_dir: Path
) -> None:
    settings = HostSettings(
        database_url=host.ctx.settings.database_url,
        min_terminal_version="1.0.0",
        data_dir=str(data_dir),
    )
    app = create_app(settings, clock=host.clock, migrate=False, sweep=False)

    def crash() -> None:
        raise RuntimeError("a bug in a route")

    # A real route with a real bug: the only way to reach "after authentication, then
    # nothing answered" without replacing part of the host.
    app.add_api_route("/v1/crash", crash, methods=["GET"])
    with app_in_thread(app, "the second host") as url:
        client = SignedClient(url, world.terminal.terminal_id, world.terminal.key, host.clock)
        crashed = client.request("GET", "/v1/crash")  # raises ForgedReply unless signed
        assert (crashed.status_code, crashed.json()["code"]) == (500, "96")
        # Before the key is known: a terminal key that does not open (it crashes the
        # authentication) is answered 500 / 96 in the ErrorBody shape, unsigned.
        pk = parse_public_id(client.terminal_id, "T")
        with host.ctx.db.write() as session:
            rows = session.execute(
                select(TerminalKey.id, TerminalKey.key_sealed).where(TerminalKey.terminal_id == pk)
            ).all()
            session.execute(
                update(TerminalKey)
                .where(TerminalKey.terminal_id == pk)
                .values(key_sealed="enc2:not-a-sealed-key")
            )
        try:
            broken = client.request("GET", "/v1/terminals/self", check_reply=False)
        finally:
            with host.ctx.db.write() as session:
                for key_id, sealed in rows:
                    session.execute(
                        update(TerminalKey)
                        .where(TerminalKey.id == key_id)
                        .values(key_sealed=sealed)
                    )
        _unsigned_refusal(broken, 500, "96")


# ------------------------------------------------------------------ repeats and refusals


def test_a_repeated_payment_answers_its_current_state(world: World) -> None:
    body = {"out_trade_no": "RP-1", "amount": 1_000, "currency": "CNY", "auth_code": world.code()}
    first = world.terminal.request("POST", "/v1/payments", body)
    assert first.json()["status"] == "SUCCESS" and "x-scanpay-replayed" not in first.headers
    refunded = world.terminal.refund("RP-1-R1", "RP-1", 300)
    assert refunded.json()["status"] == "SUCCESS"
    again = world.terminal.request("POST", "/v1/payments", body)
    assert again.status_code == 200 and again.headers["x-scanpay-replayed"] == "true"
    # Not a stored copy of the first answer: the payment as it is now.
    assert again.json()["status"] == "PARTIALLY_REFUNDED"
    assert again.json()["refunded_amount"] == 300
    assert again.json()["payment_id"] == first.json()["payment_id"]
    # A partly refunded payment is not reversed: 409 / 12, signed (refund the rest instead).
    reversed_ = world.terminal.reverse("RP-1")
    assert (reversed_.status_code, reversed_.json()["code"]) == (409, "12")
    assert reversed_.json()["field"] == "out_trade_no"


def test_a_body_that_is_not_json_names_the_body(world: World) -> None:
    answer = world.terminal.request("POST", "/v1/payments", body=b"{not json")
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["field"]) == ("30", "body")
