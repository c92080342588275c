"""An attacker on the path between terminal and host cannot make a charged sale show declined.

The attack (issue 13): let the terminal's signed ``POST /v1/payments`` through (the host
charges the customer), then send the host a junk request under the same terminal id,
timestamp and nonce - a bad signature, or a body too large to read - and hand the
terminal the host's answer to *that* in place of the real one. When the host signed
such refusals with the terminal's key, the terminal verified a 401/413 "for its nonce",
took it as a definite decline, and the customer paid again.

Here the real terminal agent (journal, sale machine, signed client) pays through an
httpx transport that plays the attacker, against the real host on SQLite and
PostgreSQL. Each way ends with the terminal and the host agreeing: the sale APPROVED
on both, the customer charged once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from host.kit import VERSION, World, remember, reply_verifies, serve_in_thread
from scanpay.host.services import terminals
from scanpay.protocol import (
    HEADER_SIGNATURE,
    legacy_response_message,
    response_message,
    sign,
)
from scanpay.terminal.agent import Agent, activate_terminal
from scanpay.terminal.client import Answer, HostClient, NoReply, Refusal
from scanpay.terminal.sale import SaleState

#: The agent's deadlines, short so that a sale in doubt settles within the test.
FAST = {
    "unknown_deadline": 20.0,
    "customer_deadline": 20.0,
    "poll_interval": 0.2,
    "request_timeout": 10.0,
    "connect_timeout": 2.0,
    "query_backoff_first": 0.2,
    "query_backoff_cap": 0.5,
    "reversal_backoff_cap": 0.5,
    "camera": "none",
    "language": "en",
}

Forge = Callable[[httpx.Request, httpx.BaseTransport], httpx.Response]


class OnPath(httpx.BaseTransport):
    """Forwards every request; the first payment's answer is swapped for ``forge``'s."""

    def __init__(self, forge: Forge) -> None:
        self.real = httpx.HTTPTransport()
        self.forge = forge
        self.genuine: httpx.Response | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.real.handle_request(request)
        if request.method != "POST" or request.url.path != "/v1/payments" or self.genuine:
            return response
        response.read()
        self.genuine = response
        return self.forge(request, self.real)

    def close(self) -> None:
        self.real.close()


def _junk(request: httpx.Request, body: bytes, signature: str) -> httpx.Request:
    """A request of the attacker's under the terminal's id, timestamp and nonce."""
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-scanpay-")}
    headers[HEADER_SIGNATURE] = signature
    headers["Content-Type"] = "application/json"
    return httpx.Request("POST", request.url, headers=headers, content=body)


def _send(real: httpx.BaseTransport, request: httpx.Request) -> httpx.Response:
    answer = real.handle_request(request)
    answer.read()
    return answer


def bad_signature(request: httpx.Request, real: httpx.BaseTransport) -> httpx.Response:
    return _send(real, _junk(request, b"{}", secrets.token_hex(32)))


def oversized_body(request: httpx.Request, real: httpx.BaseTransport) -> httpx.Response:
    return _send(real, _junk(request, b" " * 70_000, request.headers[HEADER_SIGNATURE]))


def replayed_request(request: httpx.Request, real: httpx.BaseTransport) -> httpx.Response:
    # The terminal's own bytes again: the host refuses the nonce, correctly signed and
    # bound to the request - a refusal that says a copy may have passed, never a "no".
    copy = httpx.Request("POST", request.url, headers=request.headers, content=request.content)
    return _send(real, copy)


@pytest.fixture
def agent_dir(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The security suite's host asks for software 1.0.0 or newer (tests/host/conftest.py).
    monkeypatch.setattr("scanpay.terminal.agent.SOFTWARE_VERSION", VERSION)
    issued = terminals.add_terminal(world.ctx, world.merchant_id)
    config = activate_terminal(
        world.host.url, issued.activation_code, directory=tmp_path / "pos", settings=FAST
    )
    remember(issued.activation_code, config.key)
    return tmp_path / "pos"


@pytest.fixture
def attacked(world: World, agent_dir: Path) -> Iterator[Callable[[Forge], tuple[Agent, OnPath]]]:
    made: list[Agent] = []
    # The session's host runs on a clock the tests move: the agent's runs beside it.
    offset = world.host.clock.now().timestamp() - time.time()

    def start(forge: Forge) -> tuple[Agent, OnPath]:
        transport = OnPath(forge)
        agent = Agent(agent_dir, transport=transport, clock=lambda: time.time() + offset)
        agent.start(selftest=False)
        made.append(agent)
        return agent, transport

    yield start
    for agent in made:
        agent.close()


@pytest.mark.parametrize(
    "forge", [bad_signature, oversized_body, replayed_request], ids=lambda f: f.__name__
)
def test_a_forged_refusal_never_declines_a_charged_sale(
    world: World, attacked: Callable[[Forge], tuple[Agent, OnPath]], forge: Forge
) -> None:
    agent, transport = attacked(forge)
    before = world.balance()
    engine = agent.engine
    sale = engine.open_sale(1234, "CNY", "c01")
    engine.scan(sale.out_trade_no, world.code(), "c01")
    engine.confirm(sale.out_trade_no, "c01")
    settled = engine.wait_answered(sale.out_trade_no, timeout=60)
    if settled.state not in (SaleState.APPROVED, SaleState.DECLINED):
        assert engine.wait_idle(60)
        settled = engine.sale(sale.out_trade_no)

    # The host charged the genuine request; the attacker's forgery was its answer to junk.
    assert transport.genuine is not None
    assert transport.genuine.json()["status"] == "SUCCESS"
    host_view = agent.client.query(sale.out_trade_no)  # verified, through the same path
    # ...which the terminal could not bind to its request: no answer, so it asked again
    # and learnt the truth. Terminal and host agree, and the customer paid once.
    assert settled.state == SaleState.APPROVED, settled
    assert isinstance(host_view, Answer) and host_view.body.status.value == "SUCCESS"
    assert world.balance() == before - 1234
    states = [e.to_state for e in agent.journal.events(sale.out_trade_no)]
    assert "DECLINED" not in states


# ------------------------------------------------------------- each end alone


def test_the_host_signs_no_answer_to_a_request_that_did_not_authenticate(world: World) -> None:
    """The host's half: junk under a terminal's id and nonce gets an unsigned answer."""
    genuine = world.terminal.request("GET", "/v1/terminals/self")
    nonce = secrets.token_hex(16)
    for body, key in ((b"{}", secrets.token_hex(32)), (b" " * 70_000, world.terminal.key)):
        junk = world.terminal.request(
            "POST",
            "/v1/payments",
            body=body,
            sign_body=b"{}",
            key=key,
            nonce=nonce,
            check_reply=False,
        )
        assert junk.status_code in (401, 413)
        assert "x-scanpay-signature" not in junk.headers, junk.headers
    # A request that authenticated is answered signed, bound to that request.
    assert reply_verifies(genuine, world.terminal.key)


def _signed_refusal(key: str, request: httpx.Request, bound_to: str | None) -> httpx.Response:
    """A 401 correctly signed with the terminal's key, as the host signs, but bound to
    ``bound_to`` (another request's signature) or in the unbound legacy form (None)."""
    body = b'{"code":"63","name":"SECURITY","message":{"zh-CN":"x","en":"x"}}'
    stamp, nonce = str(int(time.time())), request.headers["x-scanpay-nonce"]
    message = (
        legacy_response_message(401, stamp, nonce, body)
        if bound_to is None
        else response_message(401, stamp, nonce, body, bound_to)
    )
    headers = {
        "x-scanpay-terminal": request.headers["x-scanpay-terminal"],
        "x-scanpay-timestamp": stamp,
        "x-scanpay-nonce": nonce,
        "x-scanpay-signature": sign(key, message),
        "content-type": "application/json",
    }
    return httpx.Response(401, headers=headers, content=body)


def test_the_terminal_takes_a_refusal_it_cannot_bind_to_its_request_as_no_answer() -> None:
    """The terminal's half, with the key itself in the attacker's hand-made replies: only a
    refusal bound to this very request is a refusal; any other is no answer (query)."""
    key = secrets.token_hex(32)
    other = secrets.token_hex(32)  # the signature of some other request
    replies: dict[str, Callable[[httpx.Request], httpx.Response]] = {
        "legacy": lambda r: _signed_refusal(key, r, None),
        "another request": lambda r: _signed_refusal(key, r, other),
        "this request": lambda r: _signed_refusal(key, r, r.headers[HEADER_SIGNATURE]),
    }
    seen: dict[str, object] = {}
    for name, reply in replies.items():
        client = HostClient(
            "http://127.0.0.1:9", "T1", key, VERSION, transport=httpx.MockTransport(reply)
        )
        try:
            seen[name] = client.query("T1-0001")
        finally:
            client.close()
    assert isinstance(seen["legacy"], NoReply) and isinstance(seen["another request"], NoReply)
    assert isinstance(seen["this request"], Refusal)


def test_version_1_terminals_are_served_until_the_stated_day_then_told_to_upgrade(
    world: World,
) -> None:
    """The transition: a terminal that does not ask for bound replies (version 1) is served
    through ``legacy_signature_until``, then refused with 426 / 26 UPGRADE_REQUIRED, signed
    in the form it can read; a version the host does not speak is refused unsigned."""
    host = world.host
    today = host.ctx.now().astimezone(host.ctx.settings.zone).date()
    answers = {}
    for until in (today, today - timedelta(days=1)):
        settings = replace(host.ctx.settings, legacy_signature_until=until)
        with serve_in_thread(settings, host.clock, host.backend) as other:
            legacy = replace(world.terminal, base_url=other.url, signature_version=None)
            answers[until] = (
                legacy.request("GET", "/v1/terminals/self"),  # verified in the v1 form
                legacy.pay(f"LEGACY-{until}", 100, world.code()),
                replace(legacy, signature_version=3).request(
                    "GET", "/v1/terminals/self", check_reply=False
                ),
            )
    (status, paid, bad), (late_status, refused, _) = answers.values()
    assert status.status_code == 200 and paid.json()["status"] == "SUCCESS"
    assert late_status.status_code == 426
    body = refused.json()
    assert refused.status_code == 426
    assert (body["code"], body["name"]) == ("26", "UPGRADE_REQUIRED")
    assert "signature version 2" in body["message"]["en"] and body["message"]["zh-CN"]
    assert world.terminal.get(f"LEGACY-{today - timedelta(days=1)}").status_code == 404
    assert bad.status_code == 401 and bad.json()["field"] == "X-Scanpay-Signature-Version"
    assert "x-scanpay-signature" not in bad.headers
