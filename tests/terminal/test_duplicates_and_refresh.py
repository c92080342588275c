"""Integration (issue 14, items 6-9): one start is one sale or one order, an order no
screen shows is closed on the host, refunds made in the merchant's portal reach the
terminal (the sale's view and the day close), and show-to-pay sales are listed and
counted under the wallet that paid. The real host and a real agent on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from scanpay.host.db.models import Order, parse_public_id
from scanpay.host.services import audit, refunds
from scanpay.host.services.context import HostContext
from scanpay.protocol.models import PaymentRequest, RefundRequest
from scanpay.terminal.client import Answer, NoReply
from terminal.harness import AgentHandle, Host


@pytest.fixture(scope="module")
def ctx(host: Host) -> Iterator[HostContext]:
    """The host's own services on its database (what the merchant portal calls)."""
    opened = HostContext.open(host.settings)
    yield opened
    opened.close()


def portal_refund(ctx: HostContext, host: Host, out_trade_no: str, amount: int, no: str) -> None:
    """A refund made in the merchant's portal: the host's refund service, a portal user as
    the actor, no terminal (as ``routes_merchant.refund`` does it)."""
    request = RefundRequest(
        out_refund_no=no, out_trade_no=out_trade_no, amount=amount, approved_by="owner"
    )
    done = refunds.create_refund(
        ctx,
        request,
        merchant_pk=parse_public_id(host.merchant_id, "M"),
        actor=audit.Actor("portal", "owner@shop.example"),
    )
    assert done.refund.status == "SUCCESS"


def pay(agent: AgentHandle, code: str, amount: int) -> dict[str, Any]:
    sale = agent.sale(amount)
    assert agent.scan(sale["out_trade_no"], code).status_code == 200
    return agent.confirm(sale["out_trade_no"], wait=10)


def at_once(call: Callable[[], httpx.Response], times: int = 2) -> list[httpx.Response]:
    """``call`` from ``times`` threads released together (a double click's two requests)."""
    gate = threading.Barrier(times)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def run() -> None:
        gate.wait()
        answer = call()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == times
    return answers


def client_of(agent: AgentHandle) -> Callable[[str, dict[str, Any]], httpx.Response]:
    """A POST on a fresh connection per call (two requests truly in flight together)."""
    token = agent.http.headers["Authorization"]

    def post(path: str, body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=agent.url, timeout=30, trust_env=False) as http:
            return http.post(path, json=body, headers={"Authorization": token})

    return post


def host_orders(ctx: HostContext, host: Host) -> list[Order]:
    with ctx.db.read() as session:
        merchant_pk = parse_public_id(host.merchant_id, "M")
        return list(session.scalars(select(Order).where(Order.merchant_id == merchant_pk)))


def host_order(ctx: HostContext, host: Host, out_trade_no: str) -> Order:
    found = [o for o in host_orders(ctx, host) if o.out_trade_no == out_trade_no]
    assert len(found) == 1
    return found[0]


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "still not so"
        time.sleep(0.05)


def wallet_pays(host: Host, payload: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{host.url}/wallet/v1/pay",
        json={"payload": payload, "auth_code": host.code(host.wallet())},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# ------------------------------------------------------------ item 6: one start, one


def test_the_same_sale_started_twice_at_once_is_one_sale(agent: AgentHandle) -> None:
    post = client_of(agent)
    body = {"amount_text": "12.34", "note": "two teas", "request_key": "press-0001"}
    answers = at_once(lambda: post("/api/sales", body))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    numbers = {a.json()["out_trade_no"] for a in answers}
    assert len(numbers) == 1, numbers
    assert sorted(a.headers.get("X-Scanpay-Replayed", "") for a in answers) == ["", "true"]
    listed = agent.http.get("/api/sales").json()
    assert [(s["out_trade_no"], s["state"]) for s in listed] == [(numbers.pop(), "NEW")]
    # Another sale (another amount) is another start: the one never sent is cancelled.
    other = agent.sale(500)
    assert [s["state"] for s in agent.http.get("/api/sales").json()] == ["NEW", "CANCELLED"]
    assert agent.http.get("/api/sales/current").json()["out_trade_no"] == other["out_trade_no"]


def test_without_a_key_the_same_amount_twice_is_two_sales(agent: AgentHandle) -> None:
    """Two cashiers' intents that happen to ask for the same amount are not merged: only
    a start sent again with its own key is the same start."""
    first = agent.http.post("/api/sales", json={"amount": 700})
    second = agent.http.post("/api/sales", json={"amount": 700})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["out_trade_no"] != second.json()["out_trade_no"]
    assert "X-Scanpay-Replayed" not in second.headers
    states = {s["out_trade_no"]: s["state"] for s in agent.http.get("/api/sales").json()}
    assert states[first.json()["out_trade_no"]] == "CANCELLED"  # superseded, never sent
    assert states[second.json()["out_trade_no"]] == "NEW"
    # A key already used for another amount is not a replay either.
    keyed = agent.http.post("/api/sales", json={"amount": 800, "request_key": "press-0002"})
    other = agent.http.post("/api/sales", json={"amount": 900, "request_key": "press-0002"})
    assert keyed.json()["out_trade_no"] != other.json()["out_trade_no"]


def test_the_same_order_started_twice_at_once_is_one_host_order(
    host: Host, agent: AgentHandle, ctx: HostContext
) -> None:
    before = len(host_orders(ctx, host))
    post = client_of(agent)
    answers = at_once(
        lambda: post("/api/orders", {"amount_text": "9.90", "request_key": "qr-00001"})
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    numbers = {a.json()["out_trade_no"] for a in answers}
    assert len(numbers) == 1, numbers
    assert {a.json()["state"] for a in answers} == {"SHOWN"}
    assert len(host_orders(ctx, host)) == before + 1


def test_an_order_walked_away_from_is_closed_on_the_host(
    host: Host, agent: AgentHandle, ctx: HostContext
) -> None:
    shown = agent.http.post("/api/orders", json={"amount": 660}).json()
    no = shown["out_trade_no"]
    assert host_order(ctx, host, no).status == "CREATED"
    # The cashier goes on to scan a customer's code instead: the QR is shown nowhere.
    agent.sale(1200)
    wait_for(lambda: host_order(ctx, host, no).status == "CLOSED")
    wait_for(lambda: agent.http.get(f"/api/orders/{no}").json()["state"] == "CLOSED")
    late = wallet_pays(host, shown["payload"])
    assert late["code"] != "00" or late["refunded"] is True
    host.ledger_check()

    # Logging out leaves no order payable either.
    again = agent.http.post("/api/orders", json={"amount": 770}).json()
    assert agent.http.delete("/api/session").status_code == 204
    wait_for(lambda: host_order(ctx, host, again["out_trade_no"]).status == "CLOSED")


# --------------------------------------------------- item 8: the sale learns portal refunds


def test_a_portal_refund_reaches_the_sale_when_it_is_opened(
    host: Host, agent: AgentHandle, ctx: HostContext
) -> None:
    done = pay(agent, host.code(host.wallet()), 1234)
    no = done["out_trade_no"]
    assert done["state"] == "APPROVED"
    portal_refund(ctx, host, no, 800, "PRSALE1")
    # The journal alone does not know...
    assert agent.get(no)["refundable"] == 1234
    # ...opening the sale asks the host.
    view = agent.http.get(f"/api/sales/{no}", params={"refresh": "true"}).json()
    assert view["host_checked"] is True
    assert (view["state"], view["refunded_amount"], view["refundable"]) == (
        "PARTIALLY_REFUNDED",
        800,
        434,
    )
    listed = agent.http.get("/api/refunds", params={"out_trade_no": no}).json()
    assert [(r["out_refund_no"], r["amount"], r.get("outside")) for r in listed] == [
        ("PRSALE1", 800, True)
    ]
    # What is left can be refunded at the till, and no more.
    supervisor = {"operator_id": "s01", "pin": "987654"}
    too_much = agent.http.post(
        f"/api/sales/{no}/refunds", json={"amount": 435, "supervisor": supervisor}
    )
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "refund_too_much"
    rest = agent.http.post(
        f"/api/sales/{no}/refunds", json={"amount": 434, "supervisor": supervisor}
    )
    assert rest.status_code == 200, rest.text
    assert rest.json()["refund"]["state"] == "SUCCESS"
    assert (rest.json()["sale"]["state"], rest.json()["sale"]["refundable"]) == ("REFUNDED", 0)
    # Opened again: nothing new, nothing counted twice.
    again = agent.http.get(f"/api/sales/{no}", params={"refresh": "true"}).json()
    assert (again["state"], again["refunded_amount"]) == ("REFUNDED", 1234)
    host.ledger_check()


def test_a_sale_opened_while_the_host_is_away_says_so(
    host: Host, agent: AgentHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = pay(agent, host.code(host.wallet()), 300)
    no = done["out_trade_no"]
    away: Any = lambda *args, **kwargs: NoReply("network: ConnectError")  # noqa: E731
    monkeypatch.setattr(agent.agent.client, "query", away)
    view = agent.http.get(f"/api/sales/{no}", params={"refresh": "true"}).json()
    assert view["host_checked"] is False and view["refundable"] == 300
    monkeypatch.setattr(agent.agent.client, "list_refunds", away)
    totals = agent.http.get("/api/day/totals").json()
    assert totals["host_checked"] is False and totals["total"] == 300
    # A sale that took no money has nothing to ask.
    open_sale = agent.sale(100)
    view = agent.http.get(f"/api/sales/{open_sale['out_trade_no']}?refresh=true").json()
    assert view["host_checked"] is None


# ------------------------------------------- item 7: the day close counts portal refunds


def test_the_day_close_counts_refunds_made_in_the_portal(
    host: Host, agent: AgentHandle, ctx: HostContext
) -> None:
    first = pay(agent, host.code(host.wallet()), 1234)["out_trade_no"]
    assert pay(agent, host.code(host.wallet()), 2000)["state"] == "APPROVED"
    portal_refund(ctx, host, first, 800, "PRDAY1")
    # The day screen's totals already count it (the sale itself was never opened).
    totals = agent.http.get("/api/day/totals").json()
    assert totals["host_checked"] is True
    assert (totals["refund_count"], totals["refund_total"], totals["net"]) == (1, 800, 2434)
    agent.as_("s01")
    body = agent.http.post("/api/day/close", json={}).json()
    assert body["matched"] is True, body["differences"]
    assert (body["totals"]["count"], body["totals"]["total"]) == (2, 3234)
    assert (body["totals"]["refund_count"], body["totals"]["refund_total"]) == (1, 800)
    assert agent.get(first)["state"] == "PARTIALLY_REFUNDED"


def test_a_difference_is_a_sentence_with_the_amount(host: Host, agent: AgentHandle) -> None:
    assert pay(agent, host.code(host.wallet()), 500)["state"] == "APPROVED"
    stray = PaymentRequest(
        out_trade_no="STRAY-0777", amount=777, currency="CNY", auth_code=host.code(host.wallet())
    )
    assert isinstance(agent.agent.client.pay(stray), Answer)
    agent.as_("s01")
    body = agent.http.post("/api/day/close", json={}).json()
    assert body["matched"] is False
    [difference] = body["differences"]
    assert difference["message"] == {
        "zh-CN": "付款 STRAY-0777：主机有 CNY 7.77（已支付），本终端没有记录",
        "en": "Payment STRAY-0777: the host has CNY 7.77 (paid); this terminal has no record",
    }
    for lang, sentence in difference["message"].items():
        z = agent.http.get(body["zreport_url"], params={"lang": lang}).text
        assert sentence in z and "SUCCESS 777" not in z


# ------------------------------------- item 9: show-to-pay in the sales and the day close


def test_show_to_pay_is_in_recent_sales_and_counted_under_the_wallet_that_paid(
    host: Host, agent: AgentHandle
) -> None:
    order = agent.http.post("/api/orders", json={"amount": 1500}).json()
    assert wallet_pays(host, order["payload"])["code"] == "00"
    no = order["out_trade_no"]
    wait_for(lambda: agent.http.get(f"/api/orders/{no}").json()["state"] == "PAID")
    rows = [r for r in agent.http.get("/api/sales").json() if r["out_trade_no"] == no]
    assert len(rows) == 1
    row = rows[0]
    assert (row["kind"], row["state"], row["wallet"]) == ("order", "PAID", "scanpay")
    assert row["state_label"] == {"zh-CN": "已收款", "en": "Paid"}
    assert row["show_to_pay"] == {"zh-CN": "出示收款码", "en": "Shown QR"}
    assert row["wallet_name"] == {"zh-CN": "scanpay 钱包", "en": "scanpay wallet"}
    totals = agent.http.get("/api/day/totals").json()
    assert [(w["wallet"], w["label"]["en"], w["count"]) for w in totals["by_wallet"]] == [
        ("scanpay", "scanpay wallet", 1)
    ]
