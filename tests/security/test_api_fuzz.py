"""Schemathesis fuzzes the host's HTTP API from its own ``/openapi.json``, on SQLite and
on PostgreSQL: no answer is a 5xx, and every answer (status, content type, headers,
body) is one the schema declares.

Three passes per backend:

- signed: every generated request to a ``/v1/`` operation is signed with a real
  activated terminal's key (:class:`TerminalSigning`, a ``requests`` auth that signs
  the request exactly as it goes on the wire), so the fuzzer reaches the real
  handlers: a 401 there fails the test, and every reply must carry a valid host
  signature;
- unsigned: the same operations without signature headers must all be 401 with
  the one ``ErrorBody`` the schema names; the unsigned operations (activation,
  the wallet's customer side, operations endpoints) are fuzzed as they are;
- wallet session: the wallet page's JSON routes behind a real login (cookie and
  CSRF header), so their handlers are reached too.

Both generation modes run (data that fits the schema and data that does not).
Hypothesis is derandomized with a fixed example budget per operation, so a CI run
is reproducible and bounded.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from host.kit import PIN, VERSION, RunningHost, make_merchant, make_terminal, make_world, remember
from scanpay.host.clock import Clock
from scanpay.host.services import audit, ledger, risk
from scanpay.host.wallet_page.session import CSRF_HEADER
from scanpay.protocol import SignedHeaders, response_message, verify

#: Examples per operation and generation mode (~30 operations, two modes, three passes:
#: about a minute per backend, most of it loopback round trips). A signed route answers
#: every unsigned request at the envelope, so a few probes show it; the wallet session's
#: routes share one handler shape each.
MAX_EXAMPLES = 12
UNSIGNED_PROBES = 3
WALLET_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Longest an order may be valid (``OrderRequest.expires_in``), plus a margin.
ORDER_LIFETIME = 7200 + 60
UNSIGNED_V1 = frozenset({"/v1/terminals/activate"})

#: Examples run per backend and pass, for the report (``-rA`` shows them).
COUNTS: Counter[str] = Counter()


class TerminalSigning(requests.auth.AuthBase):
    """Signs a prepared request (path with query and the body bytes as sent) with a
    terminal's key, like the terminal agent does."""

    def __init__(self, terminal_id: str, key: str, clock: Clock) -> None:
        self.terminal_id = terminal_id
        self.key = key
        self.clock = clock

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        assert r.method is not None
        signed = SignedHeaders.for_request(
            terminal_id=self.terminal_id,
            key_hex=self.key,
            method=r.method,
            path=r.path_url,
            body=body,
            timestamp=int(self.clock.now().timestamp()),
            nonce=secrets.token_hex(16),
        ).as_dict()
        r.headers.update(signed)
        r.headers["X-Scanpay-Software-Version"] = VERSION
        r.headers["X-Scanpay-Signature-Version"] = "2"
        return r


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=True,  # the same examples on every run: CI is reproducible
        database=None,
        deadline=None,
        # No targeting or explain phases: they add examples past the budget.
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    send: Callable[[Any], schemathesis.Response],
    extra: Callable[[Any, schemathesis.Response], None],
    label: str,
    budget: int = 0,
) -> None:
    @_settings(budget or MAX_EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = send(case)
        COUNTS[label] += 1
        case.validate_response(response, checks=CHECKS)
        extra(case, response)

    run()


def _modes(operation: Any) -> list[GenerationMode]:
    """Both modes, but negative only where there is something to negate: an operation
    with only optional free-form headers (``GET /healthz``, ``GET /v1/terminals/self``)
    has no invalid input, and Hypothesis would spend its whole budget finding that out."""
    if operation.body or list(operation.query) or list(operation.path_parameters):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def _operations(host: RunningHost) -> list[Any]:
    schema = schemathesis.openapi.from_url(host.url + "/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 25, [op.label for op in found]
    return found


def _is_signed(operation: Any) -> bool:
    return operation.path.startswith("/v1/") and operation.path not in UNSIGNED_V1


def _fuzz_terminal(host: RunningHost) -> tuple[str, str, str]:
    """A merchant and an activated terminal for the fuzzer, with the brute-force and
    velocity rules off for that terminal only: otherwise after five random codes every
    payment would stop at the lockout and the fuzzer would see nothing deeper."""
    merchant_id = make_merchant(host.ctx, name="Fuzz Shop")
    client = make_terminal(host, merchant_id)
    officer = audit.Actor.operator("fuzz-setup")
    for rule in ("failed_codes", "velocity"):
        risk.set_limit(
            host.ctx,
            officer,
            rule,
            1_000_000,
            scope="terminal",
            key=client.terminal_id,
            action="approve",
            window_seconds=60,
            lock_seconds=60,
        )
    return merchant_id, client.terminal_id, remember(client.key)


def _order_reads(operation: Any) -> bool:
    return operation.method.upper() == "GET" and operation.path.startswith("/v1/orders/{")


def test_signed_requests_reach_the_handlers_and_every_answer_matches_the_schema(
    host: RunningHost,
) -> None:
    _, terminal_id, key = _fuzz_terminal(host)
    signing = TerminalSigning(terminal_id, key, host.clock)
    session = requests.Session()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    label = f"{host.backend} signed"

    def send(case: Any) -> schemathesis.Response:
        response = case.call(base_url=host.url, session=session, auth=signing, timeout=90)
        statuses[response.status_code] += 1
        return response

    def extra(case: Any, response: schemathesis.Response) -> None:
        # Reached the handler: never refused by the envelope...
        assert response.status_code != 401, (case.operation.label, response.text)
        # ...and the answer is the host's, signed with this terminal's key (an event
        # stream's headers are signed over the empty body, its events one by one).
        h = {name: values[0] for name, values in response.headers.items()}
        body = b"" if "x-scanpay-stream" in h else response.content
        # Bound to the request this answers: its own signature (version 2).
        message = response_message(
            response.status_code,
            h["x-scanpay-timestamp"],
            h["x-scanpay-nonce"],
            body,
            response.request.headers["X-Scanpay-Signature"],
        )
        assert verify(key, message, h["x-scanpay-signature"]), case.operation.label

    signed = [op for op in _operations(host) if _is_signed(op)]
    assert len(signed) >= 17, [op.label for op in signed]
    for operation in signed:
        if _order_reads(operation):
            # Every order made so far is past its expiry, so a long-poll or an event
            # stream on one ends at once instead of holding the fuzzer for a minute.
            host.clock.advance(ORDER_LIFETIME)
        for mode in _modes(operation):
            try:
                _fuzz(operation, mode, send, extra, label)
            # Schemathesis reports its findings as a BaseExceptionGroup: collect every
            # operation's, then fail once.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    print(f"\n{label}: {COUNTS[label]} examples, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    # The handlers were reached: successes and business refusals, not only 400s.
    assert statuses[200] > 0 and statuses[404] > 0, statuses
    assert ledger.check(host.ctx).ok
    assert audit.verify(host.ctx).ok


def test_unsigned_requests_are_refused_with_the_schemas_error_body(host: RunningHost) -> None:
    session = requests.Session()
    failures: list[str] = []
    label = f"{host.backend} unsigned"
    statuses: Counter[int] = Counter()

    def send(case: Any) -> schemathesis.Response:
        response = case.call(base_url=host.url, session=session, timeout=90)
        statuses[response.status_code] += 1
        return response

    def extra(case: Any, response: schemathesis.Response) -> None:
        if _is_signed(case.operation):
            assert response.status_code == 401, (case.operation.label, response.text)
            body = response.json()
            assert (body["code"], body["name"]) == ("63", "SECURITY"), body

    for operation in _operations(host):
        budget = UNSIGNED_PROBES if _is_signed(operation) else MAX_EXAMPLES
        for mode in _modes(operation):
            try:
                _fuzz(operation, mode, send, extra, label, budget)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    print(f"\n{label}: {COUNTS[label]} examples, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert statuses[401] > 0, statuses
    assert ledger.check(host.ctx).ok


def test_a_wallet_sessions_requests_reach_the_handlers_and_match_the_schema(
    host: RunningHost,
) -> None:
    """The wallet page's JSON routes behind a real login (session cookie and CSRF header),
    so the fuzzer reaches their handlers (code, confirm, preview, pay, scan) and not only
    the 401 of a request without a session."""
    world = make_world(host)
    session = requests.Session()
    login = session.post(
        host.url + "/wallet/v1/session",
        json={"account": world.wallet.account, "pin": PIN},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    session.headers[CSRF_HEADER] = login.json()["csrf"]
    failures: list[str] = []
    label = f"{host.backend} wallet session"
    statuses: Counter[int] = Counter()

    def send(case: Any) -> schemathesis.Response:
        response = case.call(base_url=host.url, session=session, timeout=90)
        statuses[response.status_code] += 1
        return response

    def extra(case: Any, response: schemathesis.Response) -> None:
        assert response.status_code != 401 or case.path == "/wallet/v1/session", (
            case.operation.label,
            response.content[:300],
        )

    wallet = [
        op
        for op in _operations(host)
        if op.path.startswith("/wallet/v1/")
        # Logging out or in again would end the session the other operations need.
        and op.path != "/wallet/v1/session"
    ]
    assert len(wallet) >= 6, [op.label for op in wallet]
    for operation in wallet:
        for mode in _modes(operation):
            try:
                _fuzz(operation, mode, send, extra, label, WALLET_EXAMPLES)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    print(f"\n{label}: {COUNTS[label]} examples, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] > 0, statuses
    assert ledger.check(host.ctx).ok


@pytest.fixture(autouse=True, scope="module")
def _report() -> Any:
    yield
    if COUNTS:
        print("\nschemathesis examples:", dict(COUNTS))
