"""A refund whose request provably never left - the host refused the connection, so
not one byte was written - is not left in doubt: it fails at once with the reason, and
the cashier refunds again once the host is back (a real host on a loopback port,
stopped and served again; the certificate case is in test_tls.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scanpay.protocol.models import RefundRequest
from scanpay.terminal.client import HostClient, NoReply
from terminal.harness import Host, activate, add_operators, free_port, start_agent

SUPERVISOR = {"operator_id": "s01", "pin": "987654"}


def refunds_for(host: Host, out_refund_no: str) -> int:
    with sqlite3.connect(host.db_file) as db:
        row = db.execute(
            "SELECT count(*) FROM refunds WHERE out_refund_no = ?", (out_refund_no,)
        ).fetchone()
    return int(row[0])


def test_the_client_says_a_refused_connection_was_not_sent() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = HostClient(url, "T1", "00" * 32, "0")
    try:
        reply = client.refund(RefundRequest(out_refund_no="T1-1-R1", out_trade_no="T1-1", amount=1))
    finally:
        client.close()
    assert isinstance(reply, NoReply), reply
    assert reply.sent is False and reply.error is not None
    assert reply.error.code == "host_connection_refused"
    assert "nothing was sent" in reply.error.message("en")
    assert "未发送任何数据" in reply.error.message("zh-CN")


def test_a_refund_the_host_refuses_to_connect_for_fails_then_succeeds(tmp_path: Path) -> None:
    host = Host(tmp_path / "host").start()
    directory = tmp_path / "terminal"
    activate(host, directory)
    add_operators(directory)
    account = host.wallet("500.00")
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        no = agent.sale(1000)["out_trade_no"]
        assert agent.scan(no, host.code(account)).status_code == 200
        assert agent.confirm(no, wait=10)["state"] == "APPROVED"

        host.stop()  # nothing listens on its port: connections are refused
        r = agent.http.post(
            f"/api/sales/{no}/refunds", json={"amount": 400, "supervisor": SUPERVISOR}
        )
        assert r.status_code == 200, r.text
        refund = r.json()["refund"]
        failed = refund["out_refund_no"]
        assert (refund["state"], refund["settled"]) == ("FAILED", True), refund
        assert refund["result"]["code"] == "host_connection_refused"
        assert "nothing was sent" in refund["result"]["message"]["en"]
        journal = agent.agent.journal
        assert journal.refunds(unsettled=True) == []
        driver = agent.agent.engine._drivers[failed]
        driver.join(30)
        assert not driver.is_alive()  # not sent again
        events = journal.events(ref=failed)
        assert [e.event for e in events] == ["refund_requested", "refund_not_sent"]

        host.restart()  # back: the cashier refunds again
        r = agent.http.post(
            f"/api/sales/{no}/refunds", json={"amount": 400, "supervisor": SUPERVISOR}
        )
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["refund"]["state"] == "SUCCESS", done
        assert done["sale"]["state"] == "PARTIALLY_REFUNDED"
        assert refunds_for(host, failed) == 0
        assert refunds_for(host, done["refund"]["out_refund_no"]) == 1
        assert host.balance(account) == 50_000 - 1000 + 400
    finally:
        agent.stop()
        host.stop()
