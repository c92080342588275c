"""The OpenAPI document a client is generated from (issue 15, item 6): the signature
headers as a security requirement, declared reply headers, readable operation ids,
media types of the non-JSON answers, no 422; and a client generated from the live
document by openapi-python-client pays, queries, refunds and reads typed errors,
signing each request in an httpx hook written from docs/host.md alone."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import importlib.util
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from host.kit import RunningHost, World
from support import require

SIGNED_OPERATIONS = {
    ("post", "/v1/payments"): "createPayment",
    ("get", "/v1/payments/{out_trade_no}"): "getPayment",
    ("post", "/v1/payments/{out_trade_no}/reverse"): "reversePayment",
    ("post", "/v1/refunds"): "createRefund",
    ("get", "/v1/refunds/{out_refund_no}"): "getRefund",
    ("get", "/v1/transactions"): "listTransactions",
    ("post", "/v1/orders"): "createOrder",
    ("get", "/v1/orders/{out_trade_no}/qr.png"): "getOrderQrPng",
    ("get", "/v1/orders/{out_trade_no}/events"): "streamOrderEvents",
    ("get", "/v1/settlements/{business_date}/file"): "getSettlementFile",
}
SIGNATURE_HEADERS = {
    "X-Scanpay-Terminal",
    "X-Scanpay-Timestamp",
    "X-Scanpay-Nonce",
    "X-Scanpay-Signature",
}


@pytest.fixture
def document(host: RunningHost) -> dict[str, Any]:
    answer = httpx.get(host.url + "/openapi.json", timeout=30)
    assert answer.status_code == 200
    data: dict[str, Any] = answer.json()
    return data


def test_the_signature_headers_are_one_required_security_scheme(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == SIGNATURE_HEADERS
    assert all(s["type"] == "apiKey" and s["in"] == "header" for s in schemes.values())
    assert "[0-9a-f]{16,64}" in schemes["nonce"]["description"]
    assert "PATH_WITH_QUERY" in schemes["signature"]["description"]
    for (method, path), name in SIGNED_OPERATIONS.items():
        operation = document["paths"][path][method]
        assert operation["operationId"] == name
        # One requirement naming all four: they are sent together.
        assert operation["security"] == [{key: [] for key in schemes}]
        params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert not params & SIGNATURE_HEADERS
        for answer in operation["responses"].values():
            assert set(answer["headers"]) >= SIGNATURE_HEADERS
    activation = document["paths"]["/v1/terminals/activate"]["post"]
    assert "security" not in activation and activation["operationId"] == "activateTerminal"


def test_no_operation_declares_422_and_every_400_is_an_error_body(
    document: dict[str, Any],
) -> None:
    ids = []
    for operations in document["paths"].values():
        for operation in operations.values():
            ids.append(operation["operationId"])
            assert "422" not in operation["responses"]
            if "400" in operation["responses"]:
                schema = operation["responses"]["400"]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody")
            assert "_v1_" not in operation["operationId"]
    assert len(ids) == len(set(ids))
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_reply_headers_codes_and_media_types_are_declared(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/v1/payments", "/v1/refunds", "/v1/orders"):
        assert "X-Scanpay-Replayed" in paths[path]["post"]["responses"]["200"]["headers"]
    reverse = paths["/v1/payments/{out_trade_no}/reverse"]["post"]["responses"]
    assert "12 ORDER_CLOSED" in reverse["409"]["description"]
    create = paths["/v1/payments"]["post"]["responses"]
    assert "31 CURRENCY_NOT_ACCEPTED" in create["400"]["description"]
    png = paths["/v1/orders/{out_trade_no}/qr.png"]["get"]["responses"]["200"]["content"]
    assert png["image/png"]["schema"] == {"type": "string", "format": "binary"}
    csv = paths["/v1/settlements/{business_date}/file"]["get"]["responses"]["200"]["content"]
    assert csv["text/csv"]["schema"]["type"] == "string"
    events = paths["/v1/orders/{out_trade_no}/events"]["get"]["responses"]["200"]["content"]
    assert events["text/event-stream"]["schema"]["type"] == "string"


# ------------------------------------------------------------------ a generated client

_CONFIG = """\
package_name_override: scanpay_client
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/svg+xml: application/octet-stream
"""


@pytest.fixture
def generated(host: RunningHost, tmp_path: Path) -> Iterator[Any]:
    """The package openapi-python-client writes from the live document (offline: no
    formatter hooks), imported."""
    found = importlib.util.find_spec("openapi_python_client") is not None
    require(found, "openapi-python-client is not installed (make install)")
    config = tmp_path / "config.yaml"
    config.write_text(_CONFIG)
    out = tmp_path / "scanpay_client"
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--url",
        host.url + "/openapi.json",
        "--meta",
        "none",
        "--config",
        str(config),
        "--output-path",
        str(out),
        "--fail-on-warning",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("scanpay_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "scanpay_client"]:
            del sys.modules[name]


def _signing_hooks(terminal_id: str, key: str, now: Any) -> dict[str, list[Any]]:
    """httpx event hooks written from docs/host.md: sign each request, check each reply."""
    sent: dict[int, str] = {}

    def sign(request: httpx.Request) -> None:
        body = request.read()
        stamp, nonce = str(int(now())), secrets.token_hex(16)
        path = request.url.raw_path.decode("ascii")  # path and query exactly as sent
        lines = [request.method, path, stamp, nonce, hashlib.sha256(body).hexdigest()]
        mac = hmac.new(bytes.fromhex(key), "\n".join(lines).encode(), hashlib.sha256)
        request.headers.update(
            {
                "X-Scanpay-Terminal": terminal_id,
                "X-Scanpay-Timestamp": stamp,
                "X-Scanpay-Nonce": nonce,
                "X-Scanpay-Signature": mac.hexdigest(),
                "X-Scanpay-Software-Version": "1.0.0",
                "X-Scanpay-Signature-Version": "2",
            }
        )
        sent[id(request)] = mac.hexdigest()

    def check(response: httpx.Response) -> None:
        h = response.headers
        body = response.read()
        lines = [
            "v2",
            str(response.status_code),
            h["X-Scanpay-Timestamp"],
            h["X-Scanpay-Nonce"],
            hashlib.sha256(body).hexdigest(),
            sent[id(response.request)],
        ]
        mac = hmac.new(bytes.fromhex(key), "\n".join(lines).encode(), hashlib.sha256)
        assert hmac.compare_digest(mac.hexdigest(), h["X-Scanpay-Signature"])
        assert h["X-Scanpay-Nonce"] == response.request.headers["X-Scanpay-Nonce"]

    return {"request": [sign], "response": [check]}


def test_a_generated_client_pays_queries_refunds_and_reads_errors(
    host: RunningHost, world: World, generated: Any
) -> None:
    client_module = importlib.import_module("scanpay_client.client")
    models = importlib.import_module("scanpay_client.models")
    payments = "scanpay_client.api.payments"
    create_payment = importlib.import_module(f"{payments}.create_payment")
    get_payment = importlib.import_module(f"{payments}.get_payment")
    create_refund = importlib.import_module("scanpay_client.api.refunds.create_refund")
    hooks = _signing_hooks(
        world.terminal.terminal_id, world.terminal.key, lambda: host.clock.now().timestamp()
    )
    # The operations require the security scheme, so the generator offers an
    # AuthenticatedClient: its one header carries the terminal id, the hook the rest.
    client = client_module.AuthenticatedClient(
        base_url=host.url,
        token=world.terminal.terminal_id,
        prefix="",
        auth_header_name="X-Scanpay-Terminal",
        httpx_args={"event_hooks": hooks},
    )
    with client:
        request = models.PaymentRequest(
            out_trade_no="GEN-1", amount=1_200, currency="CNY", auth_code=world.code()
        )
        paid = create_payment.sync_detailed(client=client, body=request)
        assert paid.status_code == 200
        assert isinstance(paid.parsed, models.Payment)
        assert (paid.parsed.status, paid.parsed.code) == ("SUCCESS", "00")
        again = create_payment.sync_detailed(client=client, body=request)
        assert again.headers["X-Scanpay-Replayed"] == "true"

        found = get_payment.sync(client=client, out_trade_no="GEN-1")
        assert isinstance(found, models.Payment) and found.amount == 1_200

        body = models.RefundRequest(out_refund_no="GEN-1-R1", out_trade_no="GEN-1", amount=200)
        refund = create_refund.sync(client=client, body=body)
        assert isinstance(refund, models.Refund) and refund.status == "SUCCESS"

        missing = get_payment.sync_detailed(client=client, out_trade_no="GEN-NONE")
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.ErrorBody)
        assert (missing.parsed.code, missing.parsed.name) == ("25", "NOT_FOUND")

        usd = models.PaymentRequest(
            out_trade_no="GEN-2", amount=100, currency="USD", auth_code=world.code()
        )
        refused = create_payment.sync(client=client, body=usd)
        assert isinstance(refused, models.ErrorBody)
        assert (refused.code, refused.field) == ("31", "currency")
