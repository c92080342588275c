"""Bugs the chaos run found, each pinned by a test that failed before its fix.

1. A refund refused as a replayed nonce was taken as a definite "no".

   The fault proxy's DUPLICATE sends a request twice; when the copy reaches the
   host first, the host pays the refund and then refuses the original with 63
   (nonce already used). The terminal's refund machine took that refusal as
   FAILED, so the journal said "not refunded" while the customer had the money
   back: the journal, the host and the settlement disagreed, and the supervisor
   could refund the same amount a second time. (The sale machine already knew
   this; the refund machine did not.) A refusal for the nonce or the timestamp
   now leaves the refund UNKNOWN, and it is sent again with the same number:
   the host's stored answer settles it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scanpay.protocol.signing import HEADER_NONCE, HEADER_TIMESTAMP, SignedHeaders
from scanpay.terminal.refund import (
    RefundRecord,
    RefundRefused,
    RefundState,
    RefundTick,
    SendRefund,
    advance_refund,
    open_refund,
)
from scanpay.terminal.sale import CodeScanned as Scanned
from scanpay.terminal.sale import CodeSummary, Confirmed, PaymentReplied, Sale, Submitted, advance
from terminal.harness import AgentHandle, Host, activate, add_operators, start_agent


def _refund_of_a_paid_sale() -> RefundRecord:
    sale = Sale.open("T1-9", 1000, "CNY", operator_id="c01", now=0.0)
    for event in (
        Scanned(1, CodeSummary("wallet", "scanpay", "x")),
        Confirmed(2),
        Submitted(3),
        PaymentReplied(4, "send", "SUCCESS", "00"),
    ):
        sale = advance(sale, event).sale
    return open_refund(sale, "T1-9-R1", 400, operator_id="c01", approved_by="s01", now=10).refund


@pytest.mark.parametrize("field", [HEADER_NONCE, HEADER_TIMESTAMP])
def test_refund_refused_for_nonce_or_timestamp_is_sent_again(field: str) -> None:
    step = advance_refund(_refund_of_a_paid_sale(), RefundRefused(11.0, "63", None, field))
    assert step.refund.state is RefundState.UNKNOWN
    assert not step.refund.settled
    again = advance_refund(step.refund, RefundTick(step.refund.wake_at or 0.0))
    assert again.commands == (SendRefund("T1-9-R1", 2),)


def test_refund_refused_for_anything_else_is_still_definite() -> None:
    step = advance_refund(_refund_of_a_paid_sale(), RefundRefused(11.0, "13", None, "amount"))
    assert step.refund.state is RefundState.FAILED


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[tuple[Host, AgentHandle]]:
    host = Host(tmp_path / "host").start()
    directory = tmp_path / "terminal"
    activate(host, directory)
    add_operators(directory)
    handle = start_agent(directory)
    handle.login("s01", "987654")
    handle.login("c01", "1234")
    yield host, handle
    handle.stop()
    host.stop()


def test_refund_whose_copy_reached_the_host_first_ends_refunded(
    agent: tuple[Host, AgentHandle],
) -> None:
    """The duplicate arrives first (sent here, byte for byte as the agent will send it);
    the agent's own request is refused as a replay; the refund must still end SUCCESS,
    agreeing with the host, and the customer is refunded once."""
    host, handle = agent
    account = host.wallet("500.00")
    sale = handle.sale(10_000)
    no = sale["out_trade_no"]
    assert handle.scan(no, host.code(account)).status_code == 200
    assert handle.confirm(no, wait=10)["state"] == "APPROVED"
    before = host.balance(account)

    config = handle.agent.config
    body = {
        "out_refund_no": f"{no}-R1",
        "out_trade_no": no,
        "amount": 2_500,
        "reason": "copy first",
        "approved_by": "s01",
    }
    raw = json.dumps(body).encode()
    nonce = secrets.token_hex(16)
    headers = SignedHeaders.for_request(
        terminal_id=config.terminal_id,
        key_hex=config.key,
        method="POST",
        path="/v1/refunds",
        body=raw,
        timestamp=int(time.time()),
        nonce=nonce,
    ).as_dict()
    headers["Content-Type"] = "application/json"
    headers["X-Scanpay-Software-Version"] = "1.0.0"
    copy = httpx.post(f"{host.url}/v1/refunds", content=raw, headers=headers, timeout=10)
    assert copy.status_code == 200 and copy.json()["status"] == "SUCCESS"

    # The agent's original carries the same nonce: the host refuses it as a replay.
    fresh = handle.agent.client._nonce
    used = iter([nonce])
    handle.agent.client._nonce = lambda: next(used, None) or fresh()
    supervisor = {"operator_id": "s01", "pin": "987654"}
    r = handle.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": 2_500, "reason": "copy first", "supervisor": supervisor},
    )
    assert r.status_code == 200, r.text
    end = time.monotonic() + 120
    refund = r.json()["refund"]
    while not refund["settled"] and time.monotonic() < end:
        time.sleep(0.1)
        refund = handle.http.get(f"/api/refunds/{no}-R1").json()
    assert refund["state"] == "SUCCESS", refund
    view = handle.get(no)
    assert view["state"] == "PARTIALLY_REFUNDED" and view["refunded_amount"] == 2_500
    assert host.balance(account) == before + 2_500  # refunded once, not twice
    events = [e["event"] for e in handle.http.get(f"/api/sales/{no}/journal").json()]
    assert "refund_applied" in events
    host.ledger_check()
