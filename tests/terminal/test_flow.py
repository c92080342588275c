"""Integration: the real host and a real agent on loopback ports - the sale flows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from scanpay.host.db.models import parse_public_id
from scanpay.terminal.sale import Sale, agrees_with_host
from terminal.harness import AgentHandle, Host, activate, add_operators, start_agent

BAD_CRC = "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E468"


def host_status(agent: AgentHandle, no: str) -> str | None:
    """The host's own word on a payment, through the terminal's signed client."""
    from scanpay.terminal.client import Answer, Refusal

    reply = agent.agent.client.query(no)
    if isinstance(reply, Answer):
        return reply.body.status.value
    assert isinstance(reply, Refusal) and reply.status == 404, reply
    return None


def journal_sale(agent: AgentHandle, no: str) -> Sale:
    sale = agent.agent.journal.get_sale(no)
    assert sale is not None
    return sale


def pay(agent: AgentHandle, code: str, amount: int = 1234, wait: float = 10) -> dict:
    sale = agent.sale(amount)
    r = agent.scan(sale["out_trade_no"], code)
    assert r.status_code == 200, r.text
    return agent.confirm(sale["out_trade_no"], wait=wait)


# ----------------------------------------------------------------- the sale


def test_normal_sale(host: Host, agent: AgentHandle) -> None:
    account = host.wallet("500.00")
    before = host.balance(account)
    sale = agent.sale(1234, note="two coffees")
    no = sale["out_trade_no"]
    assert sale["state"] == "NEW" and sale["screen"]["id"] == "scan"
    r = agent.scan(no, host.code(account))
    assert r.status_code == 200, r.text
    scanned = r.json()
    assert scanned["sale"]["state"] == "CODE_READ" and scanned["charged"] is True
    assert scanned["code"]["kind"] == "wallet" and "*" in scanned["code"]["masked"]
    assert scanned["sale"]["screen"]["actions"] == ["confirm", "rescan", "cancel"]
    done = agent.confirm(no, wait=10)
    assert done["state"] == "APPROVED", done
    assert done["result"]["code"] == "00" and done["screen"]["id"] == "approved"
    assert done["screen"]["message"]["zh-CN"] == "支付成功"
    assert host.balance(account) == before - 1234
    assert host_status(agent, no) == "SUCCESS"
    # Every step is in the journal, each row with its operator, in order.
    rows = [r for r in agent.http.get(f"/api/sales/{no}/journal").json() if r["kind"] == "sale"]
    assert [r["to_state"] for r in rows] == [
        "NEW",
        "CODE_READ",
        "CONFIRMED",
        "SUBMITTED",
        "APPROVED",
    ]
    assert [r["operator_id"] for r in rows] == ["c01"] * 5
    assert rows[-1]["detail"]["actor"] == "agent"
    # The receipt went to the configured printer, and can be fetched and reprinted.
    assert agent.agent.engine.wait_idle(5)
    printed = Path(agent.agent.config.printer.path).read_bytes()
    assert no.encode() in printed and b"NOT PAID" not in printed
    html = agent.http.get(f"/api/sales/{no}/receipt").text
    assert "12.34" in html and "881234" not in html.replace(scanned["code"]["masked"], "")
    assert agent.http.post(f"/api/sales/{no}/reprint").json()["printed"] is True
    assert b"REPRINT" in Path(agent.agent.config.printer.path).read_bytes()
    host.ledger_check()


def test_emv_cpm_code_is_paid_too(host: Host, agent: AgentHandle) -> None:
    account = host.wallet("50.00")
    done = pay(agent, host.code(account, "cpm"), 500)
    assert done["state"] == "APPROVED" and done["code"]["kind"] == "emv_cpm"
    assert host.balance(account) == 4500


def test_cancel_before_sending_and_rescan(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    sale = agent.sale(100)
    no = sale["out_trade_no"]
    agent.scan(no, host.code(account))
    again = agent.http.post(f"/api/sales/{no}/rescan").json()
    assert again["state"] == "NEW" and again["code"] is None
    agent.scan(no, host.code(account))
    cancelled = agent.http.post(f"/api/sales/{no}/cancel").json()
    assert cancelled["state"] == "CANCELLED"
    assert host_status(agent, no) is None  # the host never heard of it
    r = agent.http.post(f"/api/sales/{no}/confirm")
    assert r.status_code == 409 and r.json()["error"]["code"] == "action_not_allowed"


def test_a_new_sale_supersedes_an_unsent_one(host: Host, agent: AgentHandle) -> None:
    first = agent.sale(100)["out_trade_no"]
    second = agent.sale(200)["out_trade_no"]
    assert first != second
    assert agent.get(first)["state"] == "CANCELLED"
    assert agent.http.get("/api/sales/current").json()["out_trade_no"] == second


# ---------------------------------------------------------- codes refused here


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        (BAD_CRC, "crc_mismatch", "63"),
        ("hello world", "not_a_payment_code", None),
        ("99" + "1" * 16, "unknown_wallet_code", None),
        ("hQVDUFYwMWEsTwigAAADMwEB", "bad_ber", "61"),  # a truncated TLV
    ],
)
def test_malformed_code_is_refused_locally_with_the_reason(
    host: Host, agent: AgentHandle, text: str, code: str, field: str | None
) -> None:
    sale = agent.sale(100)
    r = agent.scan(sale["out_trade_no"], text)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "code_refused"
    assert error["detail"]["code"] == code and error["detail"]["field"] == field
    assert error["message"]["zh-CN"] and error["message"]["en"]
    assert agent.get(sale["out_trade_no"])["state"] == "NEW"
    assert host_status(agent, sale["out_trade_no"]) is None


def test_merchant_presented_code_is_never_charged(host: Host, agent: AgentHandle) -> None:
    from scanpay.codes import AccountTemplate, build_mpm

    payload = build_mpm(
        merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M999999"})],
        merchant_name="Other Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
        amount=500,
    )
    sale = agent.sale(500)
    r = agent.scan(sale["out_trade_no"], payload)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["charged"] is False and body["sale"]["state"] == "NEW"
    assert body["code"]["kind"] == "emv_mpm" and body["code"]["merchant_name"] == "Other Shop"
    assert body["sticker"]["verdict"] in ("other_merchant", "unknown_payee", "unavailable")
    assert host_status(agent, sale["out_trade_no"]) is None


def test_merchant_code_sticker_verdict_from_host(host: Host, agent: AgentHandle) -> None:
    from scanpay.codes import AccountTemplate, build_mpm

    payload = build_mpm(
        merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M999999"})],
        merchant_name="Swapped",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
    )
    r = agent.http.post("/api/scan", json={"text": payload})
    assert r.status_code == 200, r.text
    assert r.json()["sticker"]["verdict"] in ("other_merchant", "unknown_payee")


# ------------------------------------------------------------- USER_PAYING


def test_user_paying_confirmed_by_the_customer(host: Host, agent: AgentHandle) -> None:
    account = host.wallet("500.00", pin_above="10.00")
    sale = agent.sale(2000)
    no = sale["out_trade_no"]
    agent.scan(no, host.code(account))
    waiting = agent.confirm(no, wait=5)
    assert waiting["state"] == "USER_PAYING", waiting
    assert waiting["screen"]["id"] == "waiting_customer"
    assert waiting["screen"]["countdown_to"] == pytest.approx(waiting["customer_deadline_at"])
    r = host.confirm(account)
    assert r.status_code == 200 and r.json()["code"] == "00", r.text
    done = agent.wait_state(no, "APPROVED")
    assert done["result"]["code"] == "00"
    assert host.balance(account) == 50000 - 2000
    host.ledger_check()


def test_user_paying_abandoned_times_out_at_the_hosts_deadline(
    host: Host, agent: AgentHandle
) -> None:
    """Issue 14: one deadline, the host's. The terminal's own setting (3 s here) is
    not when it gives up: it waits for the host's, asks once more, and says why."""
    account = host.wallet("500.00", pin_above="10.00")
    sale = agent.sale(2000)
    no = sale["out_trade_no"]
    agent.scan(no, host.code(account))
    waiting = agent.confirm(no, wait=5)
    assert waiting["state"] == "USER_PAYING"
    sent = waiting["submitted_at"]
    assert waiting["customer_deadline_at"] >= sent + host.settings.user_paying_timeout
    done = agent.wait_state(no, "DECLINED", timeout=30)
    assert done["result"]["code"] == "12" and done["screen"]["id"] == "timed_out"
    assert done["screen"]["message"]["en"].startswith("The customer did not confirm in time")
    assert done["state_label"]["en"] == "Timed out"
    assert done["finished_at"] >= sent + host.settings.user_paying_timeout
    assert host_status(agent, no) == "FAILED"
    # Too late: the customer's confirmation cannot take money any more.
    late = host.confirm(account)
    assert late.json().get("code") != "00"
    assert host.balance(account) == 50000
    assert agrees_with_host(journal_sale(agent, no), "FAILED")
    host.ledger_check()


def test_user_paying_cancelled_by_the_cashier(host: Host, agent: AgentHandle) -> None:
    account = host.wallet("500.00", pin_above="10.00")
    sale = agent.sale(2000)
    no = sale["out_trade_no"]
    agent.scan(no, host.code(account))
    agent.confirm(no, wait=5)
    cancelling = agent.http.post(f"/api/sales/{no}/cancel").json()
    assert cancelling["state"] in ("REVERSING", "CANCELLED")
    assert agent.wait_state(no, "CANCELLED")["reversal_reason"] == "cashier_cancel"
    assert host_status(agent, no) == "REVERSED" and host.balance(account) == 50000


def test_wrong_pin_keeps_waiting_then_locks_with_75(tmp_path: Path) -> None:
    # The customer types three PINs (each an argon2 check on the host): a host whose
    # PIN deadline is long enough for a busy machine, so the wait does not end first.
    host = Host(tmp_path / "patient-host", user_paying_timeout=60).start()
    directory = tmp_path / "patient"
    activate(host, directory)
    add_operators(directory)
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        account = host.wallet("500.00", pin_above="10.00")
        sale = agent.sale(2000)
        no = sale["out_trade_no"]
        agent.scan(no, host.code(account))
        agent.confirm(no, wait=5)
        with host.phone(account) as confirm:
            assert confirm("000000").json()["code"] == "55"
            assert agent.get(no)["state"] == "USER_PAYING"
            assert confirm("000000").json()["code"] == "55"
            assert confirm("000000").json()["code"] == "75"
        done = agent.wait_state(no, "DECLINED")
        assert done["result"]["code"] == "75"
        assert done["screen"]["message"]["en"].startswith("Too many wrong PINs")
        assert host.balance(account) == 50000
    finally:
        agent.stop()
        host.stop()


# ------------------------------------------------------------ decline codes


def test_decline_51_insufficient_funds(host: Host, agent: AgentHandle) -> None:
    account = host.wallet("5.00")
    done = pay(agent, host.code(account), 1000)
    assert (done["state"], done["result"]["code"]) == ("DECLINED", "51")
    assert done["screen"]["action"]["en"] == "Ask the customer for another way to pay"
    assert host.balance(account) == 500


def test_decline_14_code_used_twice(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    code = host.code(account)
    assert pay(agent, code, 100)["state"] == "APPROVED"
    done = pay(agent, code, 100)
    assert (done["state"], done["result"]["code"]) == ("DECLINED", "14")
    assert host.balance(account) == 50000 - 100


def test_decline_54_expired_code(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    done = pay(agent, host.expired_code(account), 100)
    assert (done["state"], done["result"]["code"]) == ("DECLINED", "54")
    assert host.balance(account) == 50000


def test_decline_57_training_wallet_outside_training(host: Host, agent: AgentHandle) -> None:
    account = host.wallet(training=True)
    done = pay(agent, host.code(account), 100)
    assert (done["state"], done["result"]["code"]) == ("DECLINED", "57")


def test_reversal_before_the_payment_leaves_a_tombstone(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    sale = agent.sale(100)
    no = sale["out_trade_no"]
    agent.scan(no, host.code(account))
    # A reversal that reaches the host first (as after a lost request) ...
    agent.agent.client.reverse(no)
    done = agent.confirm(no, wait=10)
    # ... makes the payment fail when it arrives: nothing is charged.
    assert done["state"] == "REVERSED" and done["result"]["code"] == "12"
    assert host.balance(account) == 50000


def test_decline_58_suspended_merchant(tmp_path: Path) -> None:
    host = Host(tmp_path / "host2").start()
    try:
        directory = tmp_path / "t"
        activate(host, directory)
        add_operators(directory)
        handle = start_agent(directory)
        handle.login()
        account = host.wallet()
        code = host.code(account)
        host.cli("merchant", "suspend", host.merchant_id)
        done = pay(handle, code, 100)
        assert (done["state"], done["result"]["code"]) == ("DECLINED", "58")
        handle.stop()
    finally:
        host.stop()


def test_too_old_software_blocks_sales(tmp_path: Path) -> None:
    host = Host(tmp_path / "host3").start()
    try:
        directory = tmp_path / "t"
        activate(host, directory)
        add_operators(directory)
        host.restart(min_terminal_version="99.0")  # the acquirer raises the minimum
        handle = start_agent(directory)
        handle.login()
        report = handle.http.get("/api/selftest", params={"refresh": True}).json()
        version = next(c for c in report["checks"] if c["name"] == "version")
        assert version["status"] == "fail" and version["detail"]["minimum"] == "99.0"
        assert report["sales_blocked"] is True
        r = handle.http.post("/api/sales", json={"amount": 100})
        assert r.status_code == 423 and r.json()["error"]["code"] == "sales_blocked"
        assert 'id="blocked"' in handle.http.get("/status").text
        # The host itself refuses the old software: signed 426, code 26 (definite).
        from scanpay.protocol.models import PaymentRequest
        from scanpay.terminal.client import Refusal

        reply = handle.agent.client.pay(
            PaymentRequest(out_trade_no="X1", amount=1, currency="CNY", auth_code="1" * 18)
        )
        assert isinstance(reply, Refusal) and (reply.status, reply.error.code) == (426, "26")
        handle.stop()
    finally:
        host.stop()


# ------------------------------------------------------------ the API itself


def test_login_throttling_and_auth(agent: AgentHandle) -> None:
    anon = httpx.Client(base_url=agent.url, trust_env=False, timeout=30)
    r = anon.post("/api/sales", json={"amount": 100})
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_logged_in"
    for _ in range(3):
        r = anon.post("/api/session", json={"operator_id": "c01", "pin": "0000"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_pin"
    r = anon.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "pin_locked"
    anon.close()


def test_foreign_host_and_origin_are_refused(agent: AgentHandle) -> None:
    r = agent.http.get("/api/terminal", headers={"Host": "evil.example"})
    assert r.status_code == 403
    r = agent.http.post("/api/sales", json={"amount": 1}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "origin"


def test_amount_text_and_validation(agent: AgentHandle) -> None:
    sale = agent.sale(None, amount_text="12.30")
    assert sale["amount"] == 1230 and sale["amount_text"] == "12.30"
    r = agent.http.post("/api/sales", json={"amount_text": "12.345"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "amount_too_many_decimals"
    r = agent.http.post("/api/sales", json={"amount": -5})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_request"


def test_long_poll_and_server_sent_events(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    sale = agent.sale(300)
    no = sale["out_trade_no"]
    started = time.monotonic()
    same = agent.http.get(f"/api/sales/{no}", params={"wait": 0.5, "version": sale["version"]})
    assert same.json()["version"] == sale["version"] and time.monotonic() - started >= 0.4
    agent.scan(no, host.code(account))
    agent.confirm(no)
    states = []
    with agent.http.stream("GET", f"/api/sales/{no}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                import json

                states.append(json.loads(line[5:])["state"])
    assert states[-1] == "APPROVED"


def test_texts_terminal_selftest_and_openapi(host: Host, agent: AgentHandle) -> None:
    texts = agent.http.get("/api/texts").json()
    assert texts["states"]["USER_PAYING"]["zh-CN"] == "等待顾客确认"
    assert texts["errors"]["code_refused"]["en"].startswith("The payment code")
    info = agent.http.get("/api/terminal").json()
    assert info["config"]["merchant_name"] == "Best Shop" and "key" not in info["config"]
    report = agent.http.get("/api/selftest", params={"refresh": True}).json()
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["host"]["status"] == "ok" and checks["clock"]["status"] == "ok"
    assert checks["version"]["status"] == "ok" and checks["journal"]["status"] == "ok"
    assert checks["journal"]["detail"]["journal_mode"] == "wal"
    assert checks["camera"]["status"] == "warn"  # camera "none" in the tests
    assert report["sales_blocked"] is False
    # The result reached the host, for the merchant's portal.
    with sqlalchemy.create_engine(host.url_db).connect() as db:
        row = db.execute(
            sqlalchemy.text(
                "SELECT status, pending_reversals, in_doubt, detail"
                " FROM terminal_selftests WHERE terminal_id = :terminal"
            ),
            {"terminal": parse_public_id(info["config"]["terminal_id"], "T")},
        ).one()
    assert row.status == report["status"] and (row.pending_reversals, row.in_doubt) == (0, 0)
    assert json.loads(row.detail)["checks"]["journal"] == "ok"
    page = agent.http.get("/status", params={"lang": "en"}).text
    assert 'id="check-host"' in page and "OK" in page
    # the checks and their states in words, in both languages (issue 14)
    assert "<td>Host connection</td>" in page and "<td>host</td>" not in page
    zh = agent.http.get("/status", params={"lang": "zh-CN"}).text
    assert "<td>收单主机连接</td>" in zh and "正常" in zh and ">OK<" not in zh
    paths = agent.http.get("/openapi.json").json()["paths"]
    for path in (
        "/api/session",
        "/api/sales",
        "/api/sales/{out_trade_no}/confirm",
        "/api/sales/{out_trade_no}/refunds",
        "/api/day/close",
        "/api/selftest",
        "/api/orders",
        "/api/training",
    ):
        assert path in paths


def test_recent_sales_newest_first(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    first = pay(agent, host.code(account), 100)
    second = agent.sale(200)
    listed = agent.http.get("/api/sales", params={"limit": 2}).json()
    assert [s["out_trade_no"] for s in listed] == [second["out_trade_no"], first["out_trade_no"]]
    approved = agent.http.get("/api/sales", params={"state": "APPROVED"}).json()
    assert all(s["state"] == "APPROVED" for s in approved) and approved
