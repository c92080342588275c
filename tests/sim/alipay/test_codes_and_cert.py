"""Payment codes (Alipay's form, one use, short-lived), certificate mode with the SDK's
DCAliPay, outcomes chosen by header, and state kept across a restart."""

from __future__ import annotations

import secrets
from pathlib import Path

from scanpay.sim.alipay.trades import valid_code
from sim.alipay.kit import RunningSim, running_sim


def test_codes_have_alipays_form(sim: RunningSim) -> None:
    buyer = sim.wallet(1_000)
    for _ in range(20):
        code = sim.code(buyer["wallet_id"])
        assert code.isdigit() and 16 <= len(code) <= 24 and 25 <= int(code[:2]) <= 30
        assert valid_code(code)
    assert not valid_code("134567890123456789")  # WeChat's prefix
    assert not valid_code("28123")


def test_used_and_expired_codes_are_refused(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(1_000)
    client = sim.client(shop)
    code = sim.code(buyer["wallet_id"])
    assert (
        client.api_alipay_trade_pay("C1", "bar_code", code, "x", total_amount="1.00")["code"]
        == "10000"
    )
    reused = client.api_alipay_trade_pay("C2", "bar_code", code, "x", total_amount="1.00")
    assert reused["sub_code"] == "ACQ.PAYMENT_AUTH_CODE_INVALID"
    old = sim.code(buyer["wallet_id"])
    sim.clock.advance(61)
    expired = client.api_alipay_trade_pay("C3", "bar_code", old, "x", total_amount="1.00")
    assert expired["sub_code"] == "ACQ.PAYMENT_AUTH_CODE_INVALID"
    made_up = client.api_alipay_trade_pay(
        "C4", "bar_code", "281234567890123456", "x", total_amount="1.00"
    )
    assert made_up["sub_code"] == "ACQ.PAYMENT_AUTH_CODE_INVALID"
    assert sim.balance(buyer["wallet_id"]) == 900


def test_amounts_are_read_exactly(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(100_000)
    client = sim.client(shop)
    for bad in ("1.001", "-1.00", "0.00", "1e2", "abc"):
        reply = client.api_alipay_trade_pay(
            "M" + secrets.token_hex(4),
            "bar_code",
            sim.code(buyer["wallet_id"]),
            "x",
            total_amount=bad,
        )
        assert reply["sub_code"] == "ACQ.INVALID_PARAMETER", bad
    reply = client.api_alipay_trade_pay(
        "M" + secrets.token_hex(4), "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount=0.29
    )  # a JSON number: read from its text, not as a float
    assert reply["total_amount"] == "0.29"
    assert sim.balance(buyer["wallet_id"]) == 100_000 - 29


def test_outcomes_by_header(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(1_000)
    code = sim.code(buyer["wallet_id"])
    biz = {
        "out_trade_no": "H1",
        "scene": "bar_code",
        "auth_code": code,
        "subject": "x",
        "total_amount": "1.00",
    }
    _, node = sim.call(
        shop,
        "alipay.trade.pay",
        biz,
        headers={
            "Alipay-Sim-Outcome": "DECLINE",
            "Alipay-Sim-Sub-Code": "ACQ.PAYMENT_REQUEST_HAS_RISK",
        },
    )
    assert node["sub_code"] == "ACQ.PAYMENT_REQUEST_HAS_RISK"
    _, node = sim.call(
        shop,
        "alipay.trade.query",
        {"out_trade_no": "H1"},
        headers={"Alipay-Sim-Outcome": "SYSTEMERROR"},
    )
    assert node["code"] == "20000"  # the WeChat simulator's name works too
    response = sim.http.post(
        sim.url + "/gateway.do",
        data={"method": "alipay.trade.query"},
        headers={"Alipay-Sim-Outcome": "NOPE"},
    )
    assert "isv.missing-app-id" in response.text
    assert sim.balance(buyer["wallet_id"]) == 1_000


def test_certificate_mode_with_the_sdks_dcalipay(sim: RunningSim) -> None:
    shop = sim.app(mode="cert")
    buyer = sim.wallet(1_000)
    client = sim.cert_client(shop)
    assert client.app_cert_sn == shop.data["app_cert_sn"]
    assert client.alipay_root_cert_sn == shop.data["alipay_root_cert_sn"]
    reply = client.api_alipay_trade_pay(
        "K1", "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="1.00"
    )
    assert reply["code"] == "10000", reply
    assert client.api_alipay_trade_query(out_trade_no="K1")["trade_status"] == "TRADE_SUCCESS"
    # the raw reply carries the network's certificate SN
    text, _ = sim.call(
        shop,
        "alipay.trade.query",
        {"out_trade_no": "K1"},
        extra={
            "app_cert_sn": client.app_cert_sn,
            "alipay_root_cert_sn": client.alipay_root_cert_sn,
        },
    )
    assert f'"alipay_cert_sn":"{shop.data["alipay_cert_sn"]}"' in text
    # a wrong app certificate SN is refused
    _, node = sim.call(
        shop,
        "alipay.trade.query",
        {"out_trade_no": "K1"},
        extra={"app_cert_sn": "0" * 32, "alipay_root_cert_sn": client.alipay_root_cert_sn},
    )
    assert node["code"] == "40002"
    # a public-key client of that app (no SNs) is refused too
    _, node = sim.call(shop, "alipay.trade.query", {"out_trade_no": "K1"})
    assert node["code"] == "40002"


def test_state_and_keys_survive_a_restart(tmp_path: Path) -> None:
    with running_sim(tmp_path) as sim:
        shop = sim.app()
        buyer = sim.wallet(1_000)
        sim.client(shop).api_alipay_trade_pay(
            "R1", "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="1.00"
        )
    with running_sim(tmp_path) as sim:
        found = sim.client(shop).api_alipay_trade_query(out_trade_no="R1")
        assert found["trade_status"] == "TRADE_SUCCESS"  # verified with the first run's key
        assert sim.balance(buyer["wallet_id"]) == 900
