"""Recovery: the host unreachable at each step of a sale (real host behind scanpay.chaos's
fault proxy, real agent). Afterwards nothing is in doubt, the journal and the host
agree, money moved once or not at all, and ``scanpay host ledger check`` passes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanpay.chaos import Fault, FaultProxy, RequestInfo
from scanpay.terminal.sale import agrees_with_host
from terminal.harness import AgentHandle, Host, activate, add_operators, start_agent


@dataclass
class Rule:
    method: str
    path: str
    fault: Fault
    times: int = 1
    then: Callable[[], None] | None = None


@dataclass
class Plan:
    """Faults for the first N requests matching (method, path prefix)."""

    rules: list[Rule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: list[str] = field(default_factory=list)

    def add(self, method: str, path: str, fault: Fault, times: int = 1) -> None:
        with self.lock:
            self.rules.append(Rule(method, path, fault, times))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def __call__(self, info: RequestInfo) -> Fault:
        with self.lock:
            self.seen.append(f"{info.method} {info.path}")
            for rule in self.rules:
                if rule.times and info.method == rule.method and info.path.startswith(rule.path):
                    rule.times -= 1
                    return rule.fault
        return Fault.NONE


@dataclass
class Net:
    host: Host
    proxy: FaultProxy
    plan: Plan
    agent: AgentHandle


@pytest.fixture
def net(host: Host, tmp_path: Path) -> Iterator[Net]:
    plan = Plan()
    proxy = FaultProxy("127.0.0.1", host.port, plan=plan, delay_seconds=2.5).start()
    directory = tmp_path / "terminal"
    activate(host, directory, url=proxy.url)  # the terminal knows the host via the proxy
    add_operators(directory)
    handle = start_agent(directory)
    handle.login("s01", "987654")
    handle.login("c01", "1234")
    yield Net(host, proxy, plan, handle)
    handle.stop()
    proxy.stop()


def settle(net: Net, no: str, *states: str, timeout: float = 20.0) -> dict:
    view = net.agent.wait_state(no, *states, timeout=timeout)
    end = time.monotonic() + timeout
    while net.agent.agent.journal.reversals(waiting=True) and time.monotonic() < end:
        time.sleep(0.05)
    return view


def host_status(net: Net, no: str) -> str | None:
    from scanpay.terminal.client import Answer

    net.plan.clear()
    net.proxy.set_down(False)
    reply = net.agent.agent.client.query(no)
    return reply.body.status.value if isinstance(reply, Answer) else None


def agree(net: Net, no: str) -> None:
    """The invariants: nothing in doubt or waiting, journal and host agree, ledger balances."""
    journal = net.agent.agent.journal
    assert journal.count_in_doubt() == 0
    assert journal.reversals(waiting=True) == []
    sale = journal.get_sale(no)
    assert sale is not None
    assert agrees_with_host(sale, host_status(net, no)), (sale.state, host_status(net, no))
    net.host.ledger_check()


def start(net: Net, amount: int = 1234, **wallet: str) -> tuple[str, str]:
    account = net.host.wallet("500.00", **wallet)
    sale = net.agent.sale(amount)
    no = sale["out_trade_no"]
    r = net.agent.scan(no, net.host.code(account))
    assert r.status_code == 200, r.text
    return no, account


def test_request_lost_is_sent_again_with_the_same_trade_number(net: Net) -> None:
    no, account = start(net)
    net.plan.add("POST", "/v1/payments", Fault.DROP_REQUEST)
    net.agent.confirm(no)
    view = settle(net, no, "APPROVED")
    rows = net.agent.http.get(f"/api/sales/{no}/journal").json()
    events = [r["event"] for r in rows]
    assert "no_answer" in events and "not_found" in events
    resend = next(r for r in rows if r["event"] == "not_found")
    assert resend["to_state"] == "UNKNOWN"
    assert view["result"]["code"] == "00"
    assert net.host.balance(account) == 50000 - 1234  # charged once
    agree(net, no)


def test_reply_lost_is_found_by_query(net: Net) -> None:
    no, account = start(net)
    net.plan.add("POST", "/v1/payments", Fault.DROP_REPLY)
    net.agent.confirm(no)
    settle(net, no, "APPROVED")
    assert net.host.balance(account) == 50000 - 1234
    assert any(s.startswith("GET /v1/payments/") for s in net.plan.seen)
    agree(net, no)


def test_reply_late_past_the_client_timeout(net: Net) -> None:
    no, account = start(net)
    net.plan.add("POST", "/v1/payments", Fault.DELAY)  # 2.5 s > the 1.5 s timeout
    net.agent.confirm(no)
    settle(net, no, "APPROVED")
    assert net.host.balance(account) == 50000 - 1234
    agree(net, no)


def test_request_duplicated_on_the_wire_charges_once(net: Net) -> None:
    no, account = start(net)
    net.plan.add("POST", "/v1/payments", Fault.DUPLICATE)
    net.agent.confirm(no)
    settle(net, no, "APPROVED")
    time.sleep(0.3)  # the duplicate copy lands too
    assert net.host.balance(account) == 50000 - 1234
    agree(net, no)


def test_host_down_before_the_send_reverses_and_forwards_later(net: Net) -> None:
    no, account = start(net)
    net.proxy.set_down(True)
    net.agent.confirm(no)
    view = net.agent.wait_state(no, "REVERSING", timeout=15)
    assert view["reversal_reason"] == "timeout" and view["screen"]["id"] == "reversing"
    waiting = net.agent.http.get("/api/reversals").json()
    assert [w["out_trade_no"] for w in waiting] == [no]
    report = net.agent.http.get("/api/selftest", params={"refresh": True}).json()
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["host"]["status"] == "fail" and checks["reversals"]["detail"]["count"] == 1
    time.sleep(1.0)
    assert net.agent.agent.journal.reversal(no).attempts >= 1  # type: ignore[union-attr]
    net.proxy.set_down(False)
    settle(net, no, "REVERSED")
    assert net.host.balance(account) == 50000
    assert host_status(net, no) == "REVERSED"  # a tombstone: a late copy cannot succeed
    agree(net, no)


def test_reply_lost_then_host_unreachable_past_the_deadline_returns_the_money(
    net: Net,
) -> None:
    no, account = start(net)
    net.plan.add("POST", "/v1/payments", Fault.DROP_REPLY)
    net.plan.add("GET", "/v1/payments/", Fault.DROP_REQUEST, times=100)
    net.plan.add("POST", f"/v1/payments/{no}/reverse", Fault.RESET, times=2)
    net.agent.confirm(no)
    assert net.agent.wait_state(no, "REVERSING", timeout=15)["reversal_reason"] == "timeout"
    settle(net, no, "REVERSED")
    # The host had charged the customer; the reversal gave it back.
    assert net.host.balance(account) == 50000
    assert host_status(net, no) == "REVERSED"
    agree(net, no)


def test_host_down_while_the_customer_confirms_is_cancelled_and_refunded(net: Net) -> None:
    no, account = start(net, 2000, pin_above="10.00")
    assert net.agent.confirm(no, wait=5)["state"] == "USER_PAYING"
    net.proxy.set_down(True)
    assert net.host.confirm(account).json()["code"] == "00"  # the phone reaches the host
    net.agent.wait_state(no, "REVERSING", timeout=15)
    net.proxy.set_down(False)
    view = settle(net, no, "CANCELLED")
    assert view["reversal_reason"] == "customer_timeout"
    assert net.host.balance(account) == 50000
    agree(net, no)


def test_host_back_before_the_deadline_approves(net: Net) -> None:
    no, account = start(net, 2000, pin_above="10.00")
    assert net.agent.confirm(no, wait=5)["state"] == "USER_PAYING"
    net.proxy.set_down(True)
    time.sleep(0.6)  # a few polls fail
    net.host.confirm(account)
    net.proxy.set_down(False)
    settle(net, no, "APPROVED")
    assert net.host.balance(account) == 50000 - 2000
    agree(net, no)


def test_reversal_reply_lost_is_sent_again(net: Net) -> None:
    no, _account = start(net, 2000, pin_above="10.00")
    net.plan.add("POST", f"/v1/payments/{no}/reverse", Fault.DROP_REPLY)
    assert net.agent.confirm(no, wait=5)["state"] == "USER_PAYING"
    net.agent.http.post(f"/api/sales/{no}/cancel")
    settle(net, no, "CANCELLED")
    entry = net.agent.agent.journal.reversal(no)
    assert entry is not None and entry.attempts == 2 and entry.host_status == "REVERSED"
    agree(net, no)


def test_reversals_wait_across_an_agent_restart(net: Net, tmp_path: Path) -> None:
    no, account = start(net)
    net.proxy.set_down(True)
    net.agent.confirm(no)
    net.agent.wait_state(no, "REVERSING", timeout=15)
    directory = net.agent.directory
    net.agent.stop()  # the agent stops with the reversal still queued
    net.proxy.set_down(False)
    net.agent = start_agent(directory)
    net.agent.login()
    settle(net, no, "REVERSED")
    assert net.host.balance(account) == 50000
    agree(net, no)


def test_host_process_restarted_mid_sale(net: Net) -> None:
    no, account = start(net, 2000, pin_above="10.00")
    assert net.agent.confirm(no, wait=5)["state"] == "USER_PAYING"
    net.host.restart()  # the host process goes away and comes back, same database
    net.host.confirm(account)
    settle(net, no, "APPROVED")
    assert net.host.balance(account) == 50000 - 2000
    agree(net, no)


def test_replies_not_signed_for_this_terminal_are_not_believed(net: Net, tmp_path: Path) -> None:
    from scanpay.protocol.models import Payment
    from scanpay.terminal.client import HostClient, NoReply

    cfg = net.agent.agent.config
    wrong = HostClient(cfg.host_url, cfg.terminal_id, "ab" * 32, "0.1.0")
    reply = wrong.query("T-NOPE")
    # The host refuses the forged request and does not sign the refusal (it did not
    # authenticate): a reply this client cannot verify is no answer at all.
    assert isinstance(reply, NoReply) and reply.reason == "unsigned reply"
    # /healthz answers at once (the OpenAPI document is built on its first request,
    # which on a busy machine can outlast the client's timeout).
    unsigned = net.agent.agent.client.request("GET", "/healthz", Payment)
    assert isinstance(unsigned, NoReply) and unsigned.reason == "unsigned reply"
    wrong.close()
    report = net.agent.http.get("/api/selftest", params={"refresh": True}).json()
    assert {c["name"]: c["status"] for c in report["checks"]}["host"] == "ok"


def test_refund_answer_lost_is_sent_again_and_refunds_once(net: Net) -> None:
    no, account = start(net, 1000)
    net.agent.confirm(no, wait=10)
    settle(net, no, "APPROVED")
    net.plan.add("POST", "/v1/refunds", Fault.DROP_REPLY)
    net.plan.add("POST", "/v1/refunds", Fault.DROP_REQUEST)
    r = net.agent.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": 400, "supervisor": {"operator_id": "s01", "pin": "987654"}},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refund"]["state"] == "SUCCESS", body
    assert body["sale"]["state"] == "PARTIALLY_REFUNDED"
    rows = net.agent.http.get(f"/api/refunds/{body['refund']['out_refund_no']}").json()
    assert rows["settled"] is True
    assert net.host.balance(account) == 50000 - 1000 + 400  # refunded once
    agree(net, no)
