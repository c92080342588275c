"""The signed envelope: every way a request can be wrong is 401/63 and changes nothing."""

from __future__ import annotations

import json
import secrets

import httpx
from sqlalchemy import func, select

from host.kit import RunningHost, SignedClient, World, reply_verifies
from scanpay.host.db.models import Nonce
from scanpay.host.services import terminals
from scanpay.protocol import MAX_SKEW_SECONDS


def _count(world: World) -> int:
    page = world.terminal.request("GET", "/v1/transactions?limit=100").json()
    return len(page["items"])


def _refused(answer: httpx.Response, field: str | None = None) -> dict:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert (body["code"], body["name"]) == ("63", "SECURITY")
    assert set(body["message"]) == {"zh-CN", "en"}
    if field is not None:
        assert body["field"] == field
    return body


def test_replayed_nonce_is_refused_and_changes_nothing(world: World) -> None:
    nonce = secrets.token_hex(16)
    body = {"out_trade_no": "RP-1", "amount": 100, "currency": "CNY", "auth_code": world.code()}
    first = world.terminal.request("POST", "/v1/payments", body, nonce=nonce)
    assert first.json()["status"] == "SUCCESS"
    replay = world.terminal.request("POST", "/v1/payments", body, nonce=nonce)
    assert "replayed" in _refused(replay, "X-Scanpay-Nonce")["message"]["en"]
    # A replay with another trade number under the same nonce is refused before anything runs.
    other = {**body, "out_trade_no": "RP-2", "auth_code": world.code()}
    _refused(world.terminal.request("POST", "/v1/payments", other, nonce=nonce))
    assert world.terminal.get("RP-2").status_code == 404
    assert world.balance() == 50_000 - 100


def test_timestamp_window_is_300_seconds(world: World) -> None:
    now = int(world.host.clock.now().timestamp())
    for off in (-301, 301):
        answer = world.terminal.request("GET", "/v1/terminals/self", timestamp=now + off)
        assert "300 s" in _refused(answer, "X-Scanpay-Timestamp")["message"]["en"]
    for off in (-299, 299):
        assert (
            world.terminal.request("GET", "/v1/terminals/self", timestamp=now + off).status_code
            == 200
        )


def test_tampered_body_is_refused(world: World) -> None:
    signed = json.dumps(
        {"out_trade_no": "TB-1", "amount": 1, "currency": "CNY", "auth_code": world.code()}
    ).encode()
    sent = signed.replace(b'"amount": 1,', b'"amount": 9999,')
    assert sent != signed
    answer = world.terminal.request(
        "POST", "/v1/payments", body=sent, sign_body=signed, check_reply=False
    )
    _refused(answer, "X-Scanpay-Signature")
    assert "x-scanpay-signature" not in answer.headers  # never signed: it did not authenticate
    assert world.terminal.get("TB-1").status_code == 404
    assert world.balance() == 50_000


def test_wrong_key_is_refused_and_the_refusal_is_not_signed(world: World) -> None:
    wrong = secrets.token_hex(32)
    answer = world.terminal.request("GET", "/v1/transactions", key=wrong, check_reply=False)
    _refused(answer, "X-Scanpay-Signature")
    # Signing it with the terminal's real key would hand whoever sent it a signed "no"
    # over the terminal's nonce (issue 13): a request that does not verify gets no signature.
    assert "x-scanpay-signature" not in answer.headers
    assert not reply_verifies(answer, wrong) and not reply_verifies(answer, world.terminal.key)
    assert _count(world) == 0


def test_unknown_terminal_and_unsigned_requests(host: RunningHost, world: World) -> None:
    stranger = SignedClient(host.url, "T999999", secrets.token_hex(32), host.clock)
    answer = stranger.request("GET", "/v1/terminals/self", check_reply=False)
    _refused(answer)
    assert "x-scanpay-signature" not in answer.headers  # no key to sign with
    bare = httpx.get(host.url + "/v1/transactions")
    assert "not signed" in _refused(bare)["message"]["en"]
    bad_nonce = world.terminal.request("GET", "/v1/terminals/self", nonce="XYZ", check_reply=False)
    _refused(bad_nonce, "X-Scanpay-Nonce")
    # Refused for its shape before anything was verified: unsigned.
    assert "x-scanpay-signature" not in bad_nonce.headers


def test_a_forged_reply_is_detectable(world: World) -> None:
    genuine = world.terminal.request("GET", "/v1/terminals/self")
    assert reply_verifies(genuine, world.terminal.key)
    forged_body = httpx.Response(
        200,
        headers=genuine.headers,
        content=genuine.content.replace(b"active", b"ACTIVE"),
        request=genuine.request,
    )
    assert not reply_verifies(forged_body, world.terminal.key)
    forged_status = httpx.Response(
        503, headers=genuine.headers, content=genuine.content, request=genuine.request
    )
    assert not reply_verifies(forged_status, world.terminal.key)
    assert not reply_verifies(genuine, "00" * 32)


def test_too_old_terminal_gets_426(world: World) -> None:
    world.terminal.version = "0.9.9"
    old = world.terminal.pay("OLD-1", 100, world.code())
    assert old.status_code == 426
    body = old.json()
    assert (body["code"], body["name"], body["field"]) == (
        "26",
        "UPGRADE_REQUIRED",
        "software_version",
    )
    assert "1.0.0" in body["message"]["en"]
    # The self-test still answers, so the terminal can say what the minimum is.
    status = world.terminal.request("GET", "/v1/terminals/self")
    assert status.status_code == 200 and status.json()["min_software_version"] == "1.0.0"
    world.terminal.version = None
    assert world.terminal.pay("OLD-2", 100, world.code()).status_code == 426
    world.terminal.version = "1.0.0"
    assert world.terminal.get("OLD-1").status_code == 404
    assert world.balance() == 50_000


def test_malformed_and_oversized_requests(world: World) -> None:
    typo = world.terminal.request(
        "POST",
        "/v1/payments",
        {"out_trade_no": "BAD-1", "amount": 100, "currency": "CNY", "auth_code": "1", "tip": 5},
    )
    assert typo.status_code == 400
    assert (typo.json()["code"], typo.json()["field"]) == ("30", "tip")
    negative = world.terminal.request(
        "POST",
        "/v1/payments",
        {"out_trade_no": "BAD-2", "amount": -1, "currency": "CNY", "auth_code": "1"},
    )
    assert (negative.status_code, negative.json()["field"]) == (400, "amount")
    not_json = world.terminal.request("POST", "/v1/payments", body=b"{not json")
    assert not_json.status_code == 400 and not_json.json()["code"] == "30"
    huge = world.terminal.request("POST", "/v1/payments", body=b" " * 70_000, check_reply=False)
    assert huge.status_code == 413 and huge.json()["code"] == "30"
    assert "x-scanpay-signature" not in huge.headers  # a body not read did not authenticate
    nowhere = world.terminal.request("GET", "/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "25"
    assert _count(world) == 0


def test_openapi_describes_the_api_and_its_errors(host: RunningHost) -> None:
    doc = httpx.get(host.url + "/openapi.json").json()
    for path in (
        "/v1/terminals/activate",
        "/v1/terminals/self",
        "/v1/payments",
        "/v1/payments/{out_trade_no}",
        "/v1/payments/{out_trade_no}/reverse",
        "/v1/transactions",
        "/wallet/v1/confirm",
    ):
        assert path in doc["paths"], path
    pay = doc["paths"]["/v1/payments"]["post"]
    assert {"401", "409", "426"} <= set(pay["responses"])
    assert pay["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    headers = {p["name"] for p in pay["parameters"] if p["in"] == "header"}
    assert {"X-Scanpay-Software-Version", "X-Scanpay-Signature-Version"} <= headers
    # The signature headers are the operation's security requirement (issue 15).
    schemes = doc["components"]["securitySchemes"]
    required = {schemes[name]["name"] for name in pay["security"][0]}
    assert {"X-Scanpay-Signature", "X-Scanpay-Nonce"} <= required


def test_self_reports_the_terminal(world: World) -> None:
    data = world.terminal.request("GET", "/v1/terminals/self").json()
    assert data["terminal_id"] == world.terminal.terminal_id
    assert data["merchant_id"] == world.merchant_id
    assert (data["merchant_status"], data["terminal_status"]) == ("approved", "active")
    assert data["software_version"] == "1.0.0"
    listed = [
        t for t in terminals.list_terminals(world.ctx) if t.terminal_id == data["terminal_id"]
    ]
    assert listed[0].keys == 1


def test_seen_nonces_are_pruned_after_the_window(world: World) -> None:
    world.terminal.request("GET", "/v1/terminals/self")
    with world.ctx.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Nonce)) or 0
    assert before >= 1
    world.host.clock.advance(MAX_SKEW_SECONDS + 61)
    world.terminal.request("GET", "/v1/terminals/self")
    cutoff = int(world.host.clock.now().timestamp()) - MAX_SKEW_SECONDS
    with world.ctx.db.read() as session:
        stale = session.scalar(
            select(func.count()).select_from(Nonce).where(Nonce.request_ts < cutoff)
        )
        left = session.scalar(select(func.count()).select_from(Nonce)) or 0
    assert stale == 0 and left >= 1
