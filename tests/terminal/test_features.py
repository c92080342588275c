"""Integration: training mode, scanning from images and camera frames, refunds,
day close, show-to-pay, and what must never leak (real host, real agent)."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest

from terminal.harness import AgentHandle, Host


def photo(text: str, *, blurred: bool = False) -> bytes:
    import cv2

    from scanpay.vision import synth

    scene = synth.place(
        synth.render_qr(text, module_px=5), side=240.0, angle=6.0, tilt=15.0, seed=3
    )
    frame = synth.defocus(scene.frame, 6.0) if blurred else synth.add_noise(scene.frame, 4.0)
    ok, data = cv2.imencode(".png", frame)
    assert ok
    return data.tobytes()


def pay(agent: AgentHandle, code: str, amount: int = 1000) -> dict:
    sale = agent.sale(amount)
    assert agent.scan(sale["out_trade_no"], code).status_code == 200
    return agent.confirm(sale["out_trade_no"], wait=10)


# --------------------------------------------------------------- training


def test_training_mode_end_to_end(host: Host, agent: AgentHandle) -> None:
    r = agent.http.put("/api/training", json={"enabled": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "supervisor_required"
    r = agent.http.put(
        "/api/training",
        json={"enabled": True, "supervisor": {"operator_id": "s01", "pin": "987654"}},
    )
    assert r.status_code == 200 and r.json()["training"] is True
    assert agent.http.get("/api/terminal").json()["training"] is True
    trainee = host.wallet("100.00", training=True)
    done = pay(agent, host.code(trainee), 700)
    assert done["state"] == "APPROVED" and done["training"] is True
    html = agent.http.get(f"/api/sales/{done['out_trade_no']}/receipt").text
    assert html.count("TRAINING - NOT A REAL SALE") == 2
    rows = agent.http.get(f"/api/sales/{done['out_trade_no']}/journal").json()
    assert all(row["training"] for row in rows)
    # A real customer's wallet is refused in training mode: no real money moves.
    real = host.wallet("100.00")
    refused = pay(agent, host.code(real), 700)
    assert (refused["state"], refused["result"]["code"]) == ("DECLINED", "57")
    assert host.balance(real) == 10000 and host.balance(trainee) == 10000 - 700
    totals = agent.http.get("/api/day/totals").json()
    assert totals["count"] == 0 and totals["total"] == 0
    assert (totals["training_count"], totals["training_total"]) == (1, 700)
    agent.as_("s01")
    assert agent.http.put("/api/training", json={"enabled": False}).json()["training"] is False
    host.ledger_check()


# -------------------------------------------------------- images and frames


def test_sale_scanned_from_a_photo(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    sale = agent.sale(880)
    no = sale["out_trade_no"]
    files = {"file": ("code.png", io.BytesIO(photo(host.code(account))), "image/png")}
    r = agent.http.post(f"/api/sales/{no}/scan-image", files=files)
    assert r.status_code == 200, r.text
    assert r.json()["sale"]["state"] == "CODE_READ" and r.json()["vision"]["read"] is True
    assert agent.confirm(no, wait=10)["state"] == "APPROVED"
    assert host.balance(account) == 50000 - 880


def test_photo_without_a_code_or_not_an_image(agent: AgentHandle) -> None:
    import cv2
    import numpy as np

    no = agent.sale(100)["out_trade_no"]
    _ok, blank = cv2.imencode(".png", np.full((240, 320), 128, np.uint8))
    r = agent.http.post(
        f"/api/sales/{no}/scan-image", files={"file": ("blank.png", blank.tobytes(), "image/png")}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_code_in_image"
    r = agent.http.post(
        f"/api/sales/{no}/scan-image", files={"file": ("x.png", b"not an image", "image/png")}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "image_unreadable"


def test_camera_frames_guide_and_then_read_by_themselves(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    code = host.code(account)
    no = agent.sale(300)["out_trade_no"]
    blurred = agent.http.post(
        f"/api/sales/{no}/frame", files={"file": ("f.png", photo(code, blurred=True), "image/png")}
    ).json()
    assert blurred["read"] is False and "sale" not in blurred
    guidance = blurred["quality"]["guidance"]
    assert "BLURRY" in [g["code"] for g in guidance] and guidance[0]["message"]["zh-CN"]
    assert agent.get(no)["state"] == "NEW"
    good = agent.http.post(
        f"/api/sales/{no}/frame", files={"file": ("f.png", photo(code), "image/png")}
    ).json()
    assert good["read"] is True and good["sale"]["state"] == "CODE_READ"
    assert "*" in good["code"]["masked"]


# ------------------------------------------------------------ nothing leaks


def test_codes_keys_and_pins_never_reach_logs_journal_or_api(
    host: Host, agent: AgentHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = host.wallet()
    code = host.code(account)
    done = pay(agent, code, 100)
    assert done["state"] == "APPROVED"
    key = agent.agent.config.key
    journal_bytes = b"".join(p.read_bytes() for p in Path(agent.directory).glob("journal.db*"))
    views = agent.http.get("/api/sales").text + agent.http.get("/api/terminal").text
    for secret in (code, key, "987654"):
        assert secret.encode() not in journal_bytes
        assert secret not in views
        assert secret not in caplog.text
    assert code[:6] in views and code[-4:] in views  # masked: first 6, last 4


# --------------------------------------------------------- issue 5 endpoints


def test_refund_needs_a_supervisor_and_moves_the_money_back(host: Host, agent: AgentHandle) -> None:
    account = host.wallet()
    done = pay(agent, host.code(account), 1000)
    no = done["out_trade_no"]
    r = agent.http.post(f"/api/sales/{no}/refunds", json={"amount": 300})
    assert r.status_code == 403 and r.json()["error"]["code"] == "supervisor_required"
    r = agent.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": 300, "supervisor": {"operator_id": "c01", "pin": "1234"}},
    )
    assert r.status_code == 403  # a cashier cannot approve
    r = agent.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": 300, "supervisor": {"operator_id": "s01", "pin": "000000"}},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "bad_pin"
    r = agent.http.post(
        f"/api/sales/{no}/refunds",
        json={
            "amount": 300,
            "reason": "one cup spilt",
            "supervisor": {"operator_id": "s01", "pin": "987654"},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["refund"]["state"] == "SUCCESS" and body["refund"]["approved_by"] == "s01"
    assert body["sale"]["state"] == "PARTIALLY_REFUNDED" and body["sale"]["refundable"] == 700
    r = agent.http.post(
        f"/api/sales/{no}/refunds",
        json={"amount": 800, "supervisor": {"operator_id": "s01", "pin": "987654"}},
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "refund_too_much"
    agent.as_("s01")  # a supervisor logged in approves by themselves
    r = agent.http.post(f"/api/sales/{no}/void")
    assert r.status_code == 200 and r.json()["sale"]["state"] == "REFUNDED"
    assert host.balance(account) == 50000
    from scanpay.terminal.client import Answer

    reply = agent.agent.client.query(no)
    assert isinstance(reply, Answer) and reply.body.status.value == "REFUNDED"
    host.ledger_check()


def test_day_close_matched(host: Host, agent: AgentHandle) -> None:
    assert pay(agent, host.code(host.wallet()), 1000)["state"] == "APPROVED"
    assert pay(agent, host.code(host.wallet()), 234)["state"] == "APPROVED"
    r = agent.http.post("/api/day/close", json={})
    assert r.status_code == 403
    agent.as_("s01")
    r = agent.http.post("/api/day/close", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched"] is True and body["differences"] == []
    assert body["totals"]["count"] == 2 and body["totals"]["total"] == 1234
    z = agent.http.get(body["zreport_url"]).text
    assert "MATCHES THE HOST" in z or "与主机一致" in z


def test_day_close_unmatched_names_the_difference(host: Host, agent: AgentHandle) -> None:
    from scanpay.protocol.models import PaymentRequest
    from scanpay.terminal.client import Answer

    # One wallet per payment: a wallet makes one code per 5-second step, used once.
    assert pay(agent, host.code(host.wallet()), 500)["state"] == "APPROVED"
    # A payment the journal never saw (made behind the agent's back, same terminal).
    stray = PaymentRequest(
        out_trade_no="STRAY-0001", amount=777, currency="CNY", auth_code=host.code(host.wallet())
    )
    reply = agent.agent.client.pay(stray)
    assert isinstance(reply, Answer) and reply.body.status.value == "SUCCESS"
    agent.as_("s01")
    body = agent.http.post("/api/day/close", json={}).json()
    assert body["matched"] is False
    assert "STRAY-0001" in [d["out_trade_no"] for d in body["differences"]]
    z = agent.http.get(body["zreport_url"], params={"lang": "en"}).text
    assert "DIFFERS FROM THE HOST" in z and "STRAY-0001" in z


def test_show_to_pay_order_paid_from_the_wallet(host: Host, agent: AgentHandle) -> None:
    import httpx

    r = agent.http.post("/api/orders", json={"amount": 1500, "note": "show to pay"})
    assert r.status_code == 201, r.text
    order = r.json()
    no = order["out_trade_no"]
    assert order["state"] == "SHOWN" and order["payload"].startswith("000201")
    svg = agent.http.get(order["qr_svg_url"])
    assert svg.status_code == 200 and "<svg" in svg.text
    # The merchant's own QR, scanned at the till: never charged, and it is ours.
    check = agent.http.post("/api/scan", json={"text": order["payload"]}).json()
    assert check["code"]["kind"] == "emv_mpm" and check["sticker"]["verdict"] == "this_merchant"
    account = host.wallet()
    paid = httpx.post(
        f"{host.url}/wallet/v1/pay",
        json={"payload": order["payload"], "auth_code": host.code(account)},
    )
    assert paid.status_code == 200 and paid.json()["code"] == "00", paid.text
    seen = agent.http.get(f"/api/orders/{no}", params={"wait": 20, "version": order["version"]})
    end = time.monotonic() + 120
    while seen.json()["state"] != "PAID" and time.monotonic() < end:
        seen = agent.http.get(
            f"/api/orders/{no}", params={"wait": 2, "version": seen.json()["version"]}
        )
    assert seen.json()["state"] == "PAID"
    assert host.balance(account) == 50000 - 1500
    agent.agent.engine.wait_idle(10)
    assert no.encode() in Path(agent.agent.config.printer.path).read_bytes()
    totals = agent.http.get("/api/day/totals").json()
    assert totals["count"] == 1 and totals["total"] == 1500  # a paid order is a payment
    host.ledger_check()


def test_show_to_pay_order_cancelled_takes_no_money(host: Host, agent: AgentHandle) -> None:
    import httpx

    order = agent.http.post("/api/orders", json={"amount": 900}).json()
    cancelled = agent.http.post(f"/api/orders/{order['out_trade_no']}/cancel").json()
    assert cancelled["state"] == "CLOSED"
    account = host.wallet()
    late = httpx.post(
        f"{host.url}/wallet/v1/pay",
        json={"payload": order["payload"], "auth_code": host.code(account)},
    ).json()
    assert late["code"] != "00" or late["refunded"] is True
    assert host.balance(account) == 50000
    host.ledger_check()


# ---------------------------------------------------------------- self-test


def test_selftest_camera_reads_frames_and_spots_a_black_one(
    agent: AgentHandle, tmp_path: Path
) -> None:
    from dataclasses import replace

    import cv2
    import numpy as np

    from scanpay.vision import synth

    lit, black = tmp_path / "lit", tmp_path / "black"
    lit.mkdir()
    black.mkdir()
    scene = synth.place(synth.render_qr("hello"), seed=1)
    for i in range(3):
        cv2.imwrite(str(lit / f"{i}.png"), scene.frame)
        cv2.imwrite(str(black / f"{i}.png"), np.zeros((480, 640), np.uint8))
    selftest = agent.agent.selftest
    selftest.config = replace(selftest.config, camera=f"file:{lit}")
    check = selftest.run().check("camera")
    assert check.status == "ok" and check.detail["frames"] == 3
    selftest.config = replace(selftest.config, camera=f"file:{black}")
    assert selftest.run().check("camera").status == "fail"
    selftest.config = replace(selftest.config, camera="device:99")
    assert selftest.run().check("camera").status == "fail"


def test_selftest_measures_clock_skew_against_the_host(host: Host, terminal_dir: Path) -> None:
    import time

    from scanpay.terminal.agent import Agent

    ahead = Agent(terminal_dir, clock=lambda: time.time() + 100)
    try:
        report = ahead.run_selftest()
        clock = report.check("clock")
        assert clock.status == "warn" and -105 < clock.detail["skew_seconds"] < -95
        assert report.check("host").status == "ok"  # 100 s is inside the host's window
    finally:
        ahead.close()
    far = Agent(terminal_dir, clock=lambda: time.time() + 1000)
    try:
        assert far.run_selftest().check("host").status == "fail"
    finally:
        far.close()


def test_a_selftest_finishing_after_the_agent_stopped_does_not_crash(
    host: Host, terminal_dir: Path
) -> None:
    """The start-up self-test runs in a thread; the agent may stop before it ends
    (its host client closed): the report is dropped, the result still returned."""
    from scanpay.terminal.agent import Agent

    agent = Agent(terminal_dir)
    try:
        agent.start(selftest=False)
        agent.stop()
        report = agent.run_selftest()
        assert report.check("journal").status == "ok"
    finally:
        agent.close()


# ---------------------------------------------------------------- day close


def test_day_close_waits_for_sales_in_doubt_then_closes_and_prints(
    host: Host, agent: AgentHandle
) -> None:
    # One wallet per sale: a wallet makes one code per 5-second step, used once.
    pay(agent, host.code(host.wallet()), 600)
    pay(agent, host.code(host.wallet()), 400)
    waiting = agent.sale(2000)
    agent.scan(waiting["out_trade_no"], host.code(host.wallet("500.00", pin_above="10.00")))
    assert agent.confirm(waiting["out_trade_no"], wait=5)["state"] == "USER_PAYING"
    agent.as_("s01")
    r = agent.http.post("/api/day/close", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "day_not_ready"
    agent.http.post(f"/api/sales/{waiting['out_trade_no']}/cancel")
    agent.wait_state(waiting["out_trade_no"], "CANCELLED")
    r = agent.http.post("/api/day/close", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["totals"]["count"], body["totals"]["total"]) == (2, 1000)
    assert body["totals"]["cancelled"] == 1 and body["printed"] is True
    # Until the host offers /v1/batches/close (issue 5) the verdict is "not sent".
    assert body["matched"] in (True, None)
    z = agent.http.get(body["zreport_url"], params={"lang": "en"}).text
    assert 'id="payments">2 · CNY 10.00' in z
    printed = Path(agent.agent.config.printer.path).read_bytes()
    assert b"Z-REPORT" in printed
    closes = agent.http.get("/api/day/closes").json()
    assert len(closes) == 1 and closes[0]["operator_id"] == "s01"
