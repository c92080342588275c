"""Amounts the cashier types (issue 14, items 3-5): the agent reads ``amount_text`` as
typed, in the screen's language, with :func:`scanpay.money.read_amount`; anything it
cannot read exactly is a typed 422 with a code, the field and a message in both
languages, and nothing is opened, sent or refunded. A sale above the terminal's
``max_amount`` is refused before it reaches the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal.harness import AgentHandle, Host, activate, add_operators, start_agent


def _pay(agent: AgentHandle, host: Host, account: str, amount: int) -> str:
    sale = agent.sale(amount)
    no = str(sale["out_trade_no"])
    assert agent.scan(no, host.code(account)).status_code == 200
    assert agent.confirm(no, wait=10)["state"] == "APPROVED"
    return no


def _refused(answer: Any, code: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    error = dict(answer.json()["error"])
    assert error["code"] == code and error["field"] == "amount", error
    assert error["message"]["en"] and error["message"]["zh-CN"] != error["message"]["en"]
    return error


@pytest.mark.parametrize(
    ("typed", "locale", "code", "english"),
    [
        ("-5", "en", "amount_negative", "An amount cannot be negative"),
        ("99999999999", "en", "amount_too_large", "The amount can be at most CNY 50,000.00"),
        ("1,00", "en", "amount_bad_grouping", None),
        ("1,00", "zh-CN", "amount_bad_grouping", None),
        (
            "abc",
            "en",
            "amount_not_a_number",
            "“a” cannot be in an amount: type digits, as in 12.34",
        ),
        ("0", "zh-CN", "amount_zero", "The amount must be more than 0"),
        ("1.2.3", "en", "amount_two_decimal_points", None),
        ("12.345", "en", "amount_too_many_decimals", None),
        ("", "en", "amount_empty", "Enter an amount"),
    ],
)
def test_a_sale_or_order_amount_typed_wrong_is_refused(
    agent: AgentHandle, typed: str, locale: str, code: str, english: str | None
) -> None:
    before = agent.http.get("/api/sales").json()
    for path in ("/api/sales", "/api/orders"):
        error = _refused(agent.http.post(path, json={"amount_text": typed, "locale": locale}), code)
        if english is not None:
            assert error["message"]["en"] == english
    assert agent.http.get("/api/sales").json() == before  # nothing opened


def test_a_sale_amount_is_read_as_typed_in_the_screens_language(agent: AgentHandle) -> None:
    assert agent.sale(None, amount_text=" 1,234.50 ", locale="en")["amount"] == 123450
    assert agent.sale(None, amount_text="１２.５", locale="zh-CN")["amount"] == 1250
    assert agent.sale(None, amount_text="50,000.00", locale="en")["amount"] == 5_000_000
    assert agent.sale(None, amount_text="12.30")["amount"] == 1230  # no locale: English


def test_the_maximum_comes_from_the_terminals_configuration(host: Host, tmp_path: Path) -> None:
    directory = tmp_path / "small"
    activate(host, directory, max_amount=1000)
    add_operators(directory)
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        assert agent.http.get("/api/terminal").json()["config"]["max_amount"] == 1000
        assert agent.sale(None, amount_text="10.00")["amount"] == 1000
        error = _refused(
            agent.http.post("/api/sales", json={"amount_text": "10.01"}), "amount_too_large"
        )
        assert error["message"] == {
            "zh-CN": "金额不能超过 CNY 10.00",
            "en": "The amount can be at most CNY 10.00",
        }
        # an amount in minor units is held to the same maximum, with the same words
        error = _refused(agent.http.post("/api/orders", json={"amount": 1001}), "amount_too_large")
        assert error["message"]["en"] == "The amount can be at most CNY 10.00"
    finally:
        agent.stop()


@pytest.fixture
def paid(host: Host, agent: AgentHandle) -> Iterator[tuple[str, str]]:
    account = host.wallet()
    yield account, _pay(agent, host, account, 1000)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("abc", "amount_not_a_number"),  # was "refund everything" on the screen
        ("", "amount_empty"),  # so was empty: refunding all is its own button now
        ("-1", "amount_negative"),  # was 1
        ("1,00", "amount_bad_grouping"),  # was 100
        ("0.001", "amount_too_many_decimals"),
    ],
)
def test_a_refund_amount_typed_wrong_is_refused_and_refunds_nothing(
    host: Host, agent: AgentHandle, paid: tuple[str, str], typed: str, code: str
) -> None:
    account, no = paid
    balance = host.balance(account)
    body = {"amount_text": typed, "locale": "en"}
    _refused(agent.http.post(f"/api/sales/{no}/refunds/check", json=body), code)
    approved = {**body, "supervisor": {"operator_id": "s01", "pin": "987654"}}
    _refused(agent.http.post(f"/api/sales/{no}/refunds", json=approved), code)
    assert agent.http.get("/api/refunds", params={"out_trade_no": no}).json() == []
    assert agent.get(no)["refundable"] == 1000 and host.balance(account) == balance


def test_the_refund_check_says_what_would_be_refunded(
    host: Host, agent: AgentHandle, paid: tuple[str, str]
) -> None:
    account, no = paid
    check = f"/api/sales/{no}/refunds/check"
    everything = agent.http.post(check, json={})
    assert everything.status_code == 200
    assert everything.json() == {"amount": 1000, "amount_text": "10.00", "currency": "CNY"}
    part = agent.http.post(check, json={"amount_text": "1.00", "locale": "zh-CN"}).json()
    assert part == {"amount": 100, "amount_text": "1.00", "currency": "CNY"}
    too_much = agent.http.post(check, json={"amount_text": "10.01"})
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "refund_too_much"
    assert "CNY 10.00" in too_much.json()["error"]["message"]["en"]  # money, not 1000
    # checking is not refunding: no approval asked, nothing written, the money stays
    assert agent.http.get("/api/refunds", params={"out_trade_no": no}).json() == []
    balance = host.balance(account)
    done = agent.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": part["amount"], "supervisor": {"operator_id": "s01", "pin": "987654"}},
    )
    assert done.status_code == 200 and done.json()["refund"]["amount"] == 100
    assert host.balance(account) == balance + 100
