"""Recovery: the agent process SIGKILLed at each step of a sale, then restarted.

``scanpay terminal serve`` runs in a subprocess. Failpoints make it SIGKILL
itself right after a state is journaled and before it acts on it (the most
awkward moment); other tests kill it from outside while a request is in
flight or a reversal waits. Afterwards nothing is in doubt, the journal and
the host agree, money moved once or not at all, and the ledger balances.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scanpay.chaos import Fault, FaultProxy
from scanpay.terminal.client import Answer, HostClient
from scanpay.terminal.config import load_config
from scanpay.terminal.journal import JOURNAL_FILE, Journal
from scanpay.terminal.sale import Sale, agrees_with_host
from terminal.harness import AgentProcess, Host, activate, add_operators, agent_process
from terminal.test_recovery_network import Plan

SLOW = {"unknown_deadline": 6.0, "customer_deadline": 6.0, "request_timeout": 4.0}


@dataclass
class Rig:
    host: Host
    proxy: FaultProxy
    plan: Plan
    proc: AgentProcess
    directory: Path
    http: httpx.Client | None = None

    def start(self, failpoints: str = "") -> None:
        self.proc.start(failpoints)
        self.http = self.proc.client()
        r = self.http.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
        assert r.status_code == 200, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['token']}"

    def call(self, method: str, path: str, **kw: object) -> httpx.Response | None:
        """A call the agent may die during (then None)."""
        assert self.http is not None
        try:
            return self.http.request(method, path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError:
            return None

    def died(self) -> None:
        assert self.proc.wait_dead(30) == -9  # SIGKILL, not a clean exit

    def restart(self) -> None:
        if self.http is not None:
            self.http.close()
        self.start()

    def journal_sale(self, no: str) -> Sale:
        journal = Journal(self.directory / JOURNAL_FILE)
        try:
            sale = journal.get_sale(no)
        finally:
            journal.close()
        assert sale is not None
        return sale

    def settled(self, no: str, *states: str, timeout: float = 30.0) -> dict:
        """Wait until the sale is in ``states`` and nothing is in doubt or waiting."""
        assert self.http is not None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            info = self.http.get("/api/terminal").json()
            sale = self.http.get(f"/api/sales/{no}").json()
            if sale["state"] in states and info["in_doubt"] == 0 and info["reversals_waiting"] == 0:
                return dict(sale)
            time.sleep(0.1)
        raise AssertionError(f"{no}: {sale['state']}, terminal {info}")

    def paid_once_or_reversed(self, no: str, account: str, amount: int) -> None:
        """The two safe endings of a payment whose answer the agent never heard.

        Recovery asks the host; on a busy machine its queries can outlast the
        deadline, and then the agent reverses. Either way money moved once or
        not at all, and terminal and host agree. Only silence may end in a
        reversal: one for any other reason would be a bug.
        """
        view = self.settled(no, "APPROVED", "REVERSED", timeout=60)
        if view["state"] == "APPROVED":
            assert self.host.balance(account) == 50000 - amount  # once
        else:
            assert view["reversal_reason"] == "timeout", view
            assert self.host_status(no) == "REVERSED" and self.host.balance(account) == 50000
        self.agree(no)

    def host_status(self, no: str) -> str | None:
        cfg = load_config(self.directory)
        client = HostClient(self.host.url, cfg.terminal_id, cfg.key, "0.1.0")
        reply = client.query(no)
        client.close()
        return reply.body.status.value if isinstance(reply, Answer) else None

    def agree(self, no: str) -> None:
        sale = self.journal_sale(no)
        status = self.host_status(no)
        assert agrees_with_host(sale, status), (sale.state, status)
        self.host.ledger_check()
        journal = Journal(self.directory / JOURNAL_FILE)
        assert journal.verify_chain() is None
        journal.close()


@pytest.fixture
def rig(host: Host, tmp_path: Path) -> Iterator[Rig]:
    plan = Plan()
    proxy = FaultProxy("127.0.0.1", host.port, plan=plan, delay_seconds=3.0).start()
    directory = tmp_path / "terminal"
    activate(host, directory, url=proxy.url, **SLOW)
    add_operators(directory)
    with agent_process(directory) as proc:
        r = Rig(host, proxy, plan, proc, directory)
        yield r
        if r.http is not None:
            r.http.close()
    proxy.stop()


def begin(rig: Rig, amount: int = 1234, **wallet: str) -> tuple[str, str, str]:
    account = rig.host.wallet("500.00", **wallet)
    r = rig.call("POST", "/api/sales", json={"amount": amount})
    assert r is not None and r.status_code == 201, r
    return r.json()["out_trade_no"], account, rig.host.code(account)


def test_killed_right_after_the_sale_was_opened(rig: Rig) -> None:
    rig.start("after:NEW")
    account = rig.host.wallet()
    assert rig.call("POST", "/api/sales", json={"amount": 1234}) is None
    rig.died()
    rig.restart()
    sales = rig.http.get("/api/sales").json()  # type: ignore[union-attr]
    assert [s["state"] for s in sales] == ["NEW"]
    no = sales[0]["out_trade_no"]
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": rig.host.code(account)})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 10})
    rig.paid_once_or_reversed(no, account, 1234)


def test_killed_after_code_read_the_cashier_scans_again(rig: Rig) -> None:
    rig.start("after:CODE_READ")
    no, account, code = begin(rig)
    assert rig.call("POST", f"/api/sales/{no}/scan", json={"text": code}) is None
    rig.died()
    rig.restart()
    # The code lived only in the dead process: the sale is back to NEW.
    assert rig.settled(no, "NEW")["code"] is None
    assert rig.host_status(no) is None
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 10})
    rig.paid_once_or_reversed(no, account, 1234)


def test_killed_after_confirmed_nothing_was_sent(rig: Rig) -> None:
    rig.start("after:CONFIRMED")
    no, account, code = begin(rig)
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    assert rig.call("POST", f"/api/sales/{no}/confirm") is None
    rig.died()
    rig.restart()
    rig.settled(no, "CANCELLED")
    assert rig.host_status(no) is None and rig.host.balance(account) == 50000
    rig.agree(no)


def test_killed_after_submitted_before_the_first_byte(rig: Rig) -> None:
    rig.start("after:SUBMITTED")
    no, account, code = begin(rig)
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    assert rig.call("POST", f"/api/sales/{no}/confirm") is None
    rig.died()
    rig.restart()
    # Recovery queries; the host never saw it and the code is gone: reversed, with
    # a tombstone so that no late copy can succeed.
    view = rig.settled(no, "REVERSED", timeout=60)
    # On a busy machine the query itself may outlast the deadline: reversed all the same.
    assert view["reversal_reason"] in ("not_found", "timeout"), view
    assert rig.host_status(no) == "REVERSED" and rig.host.balance(account) == 50000
    rig.agree(no)


def test_killed_while_the_outcome_is_unknown(rig: Rig) -> None:
    rig.start("after:UNKNOWN")
    no, account, code = begin(rig)
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.plan.add("POST", "/v1/payments", Fault.DROP_REPLY)  # charged, answer lost
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    rig.died()
    rig.restart()
    rig.paid_once_or_reversed(no, account, 1234)


def test_killed_while_the_customer_confirms(rig: Rig) -> None:
    rig.start("after:USER_PAYING")
    no, account, code = begin(rig, 2000, pin_above="10.00")
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    rig.died()
    assert rig.host.confirm(account).json()["code"] == "00"  # while the agent is dead
    rig.restart()
    rig.paid_once_or_reversed(no, account, 2000)


def test_killed_while_waiting_and_the_customer_walks_away(rig: Rig) -> None:
    rig.start("after:USER_PAYING")
    no, account, code = begin(rig, 2000, pin_above="10.00")
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    rig.died()
    rig.restart()
    # The host's PIN deadline passes; the recovered agent asks and says "timed out".
    view = rig.settled(no, "DECLINED")
    assert view["screen"]["id"] == "timed_out" and view["result"]["code"] == "12"
    assert rig.host_status(no) == "FAILED" and rig.host.balance(account) == 50000
    rig.agree(no)


def test_killed_after_reversing_before_the_reversal_was_queued(rig: Rig) -> None:
    rig.start("after:REVERSING")
    no, account, code = begin(rig, 2000, pin_above="10.00")
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    assert rig.call("POST", f"/api/sales/{no}/cancel") is None
    rig.died()
    rig.restart()
    rig.settled(no, "CANCELLED")
    assert rig.host_status(no) == "REVERSED" and rig.host.balance(account) == 50000
    rig.agree(no)


def test_killed_after_approved_before_printing(rig: Rig) -> None:
    rig.start("after:APPROVED")
    no, account, code = begin(rig)
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    rig.died()
    rig.restart()
    rig.settled(no, "APPROVED")
    assert rig.host.balance(account) == 50000 - 1234
    rig.agree(no)


def test_sigkill_while_the_payment_is_in_flight(rig: Rig) -> None:
    rig.start()
    no, account, code = begin(rig)
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.plan.add("POST", "/v1/payments", Fault.DELAY)  # host acts, the answer dawdles
    rig.call("POST", f"/api/sales/{no}/confirm")
    time.sleep(0.8)
    assert rig.journal_sale(no).state.value == "SUBMITTED"
    rig.proc.kill()
    rig.restart()
    rig.paid_once_or_reversed(no, account, 1234)


def test_sigkill_with_a_reversal_waiting_for_the_host(rig: Rig) -> None:
    rig.start()
    no, account, code = begin(rig, 2000, pin_above="10.00")
    rig.call("POST", f"/api/sales/{no}/scan", json={"text": code})
    rig.call("POST", f"/api/sales/{no}/confirm", params={"wait": 5})
    rig.proxy.set_down(True)
    rig.call("POST", f"/api/sales/{no}/cancel")
    time.sleep(0.5)
    assert rig.journal_sale(no).state.value == "REVERSING"
    rig.proc.kill()
    rig.proxy.set_down(False)
    rig.restart()
    rig.settled(no, "CANCELLED")
    assert rig.host_status(no) == "REVERSED" and rig.host.balance(account) == 50000
    rig.agree(no)
