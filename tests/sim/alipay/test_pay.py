"""alipay.trade.pay and .query through python-alipay-sdk, unchanged but for its gateway:
signed requests accepted, replies verified by the SDK, forged requests refused."""

from __future__ import annotations

import json
import secrets

import pytest
from alipay.exceptions import AliPayValidationError

from sim.alipay.kit import RunningSim


def _no() -> str:
    return "T" + secrets.token_hex(8)


def test_the_sdks_pay_is_approved_and_its_reply_verified(sim: RunningSim) -> None:
    shop = sim.app(fee_bp=60)
    buyer = sim.wallet(10_000)
    client = sim.client(shop)
    out = _no()
    code = sim.code(buyer["wallet_id"])
    reply = client.api_alipay_trade_pay(out, "bar_code", code, "咖啡 Coffee", total_amount="12.34")
    assert reply["code"] == "10000" and reply["msg"] == "Success", reply
    assert reply["total_amount"] == "12.34" and reply["receipt_amount"] == "12.34"
    assert reply["out_trade_no"] == out and len(reply["trade_no"]) == 28
    assert "****" in reply["buyer_logon_id"]
    assert sim.balance(buyer["wallet_id"]) == 10_000 - 1234
    assert sim.app_balance(shop.app_id) == 1234
    found = client.api_alipay_trade_query(out_trade_no=out)
    assert found["trade_status"] == "TRADE_SUCCESS" and found["total_amount"] == "12.34"
    by_no = client.api_alipay_trade_query(trade_no=reply["trade_no"])
    assert by_no["out_trade_no"] == out
    # the same pay again is refused, nothing charged twice
    again = client.api_alipay_trade_pay(out, "bar_code", code, "咖啡 Coffee", total_amount="12.34")
    assert again["code"] == "40004" and again["sub_code"] == "ACQ.TRADE_HAS_SUCCESS"
    assert sim.balance(buyer["wallet_id"]) == 10_000 - 1234
    trade = sim.admin("GET", f"/sim/trades/{reply['trade_no']}")
    assert trade["fee"] == 7  # 0.6 % of 12.34, rounded half up to the fen


def test_an_unknown_trade_is_not_found(sim: RunningSim) -> None:
    client = sim.client(sim.app())
    reply = client.api_alipay_trade_query(out_trade_no=_no())
    assert reply["code"] == "40004" and reply["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_forged_and_tampered_requests_are_refused_and_charge_nothing(sim: RunningSim) -> None:
    shop, other = sim.app(), sim.app()
    buyer = sim.wallet(5_000)
    code = sim.code(buyer["wallet_id"])
    biz = {
        "out_trade_no": _no(),
        "scene": "bar_code",
        "auth_code": code,
        "subject": "x",
        "total_amount": "10.00",
    }
    # signed with another app's key
    text, node = sim.call(shop, "alipay.trade.pay", biz, key=other.private_key)
    assert node["code"] == "40002" and node["sub_code"] == "isv.invalid-signature"
    assert '"sign":' in text  # refusals to a known app are signed
    # the amount changed after signing
    text, node = sim.call(
        shop,
        "alipay.trade.pay",
        biz,
        tamper={"biz_content": json.dumps({**biz, "total_amount": "1.00"})},
    )
    assert node["sub_code"] == "isv.invalid-signature"
    # no signature at all
    _, node = sim.call(shop, "alipay.trade.pay", biz, tamper={"sign": ""})
    assert node["code"] == "40001" and node["sub_code"] == "isv.missing-signature"
    # an unknown app: refused, unsigned
    text, node = sim.call(shop, "alipay.trade.pay", biz, tamper={"app_id": "2021000000000000"})
    assert node["sub_code"] == "isv.invalid-app-id" and '"sign"' not in text
    assert sim.balance(buyer["wallet_id"]) == 5_000
    # the code was never spent: the genuine request goes through
    _, node = sim.call(shop, "alipay.trade.pay", biz)
    assert node["code"] == "10000", node
    assert sim.balance(buyer["wallet_id"]) == 4_000


def test_the_sdk_refuses_a_reply_signed_with_another_key(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(5_000)
    client = sim.client(shop)
    out = _no()
    code = sim.code(buyer["wallet_id"], "WRONG_SIGNATURE")
    with pytest.raises(AliPayValidationError):
        client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="1.00")
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_SUCCESS"


def test_the_password_step(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(100_000, password_above=50_000)
    client = sim.client(shop)
    out = _no()
    code = sim.code(buyer["wallet_id"])
    reply = client.api_alipay_trade_pay(out, "bar_code", code, "TV", total_amount="600.00")
    assert reply["code"] == "10003", reply
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "WAIT_BUYER_PAY"
    assert sim.balance(buyer["wallet_id"]) == 100_000
    page = sim.http.get(f"{sim.url}/sim/pay/{reply['trade_no']}")
    assert 'id="confirm"' in page.text
    sim.http.post(f"{sim.url}/sim/pay/{reply['trade_no']}/confirm")
    found = client.api_alipay_trade_query(out_trade_no=out)
    assert found["trade_status"] == "TRADE_SUCCESS" and found["receipt_amount"] == "600.00"
    assert sim.balance(buyer["wallet_id"]) == 40_000


def test_the_buyer_cancels_or_the_deadline_passes(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(100_000, password_above=100)
    client = sim.client(shop)
    first, second = _no(), _no()
    reply = client.api_alipay_trade_pay(
        first, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="5.00"
    )
    sim.admin("POST", f"/sim/trades/{reply['trade_no']}/cancel")
    assert client.api_alipay_trade_query(out_trade_no=first)["trade_status"] == "TRADE_CLOSED"
    client.api_alipay_trade_pay(
        second,
        "bar_code",
        sim.code(buyer["wallet_id"]),
        "x",
        total_amount="5.00",
        timeout_express="2m",
    )
    sim.clock.advance(121)
    assert client.api_alipay_trade_query(out_trade_no=second)["trade_status"] == "TRADE_CLOSED"
    assert sim.balance(buyer["wallet_id"]) == 100_000


@pytest.mark.parametrize(
    "sub_code",
    [
        "ACQ.PAYMENT_AUTH_CODE_INVALID",
        "ACQ.BUYER_BALANCE_NOT_ENOUGH",
        "ACQ.TRADE_HAS_CLOSE",
        "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR",
    ],
)
def test_declines_charge_nothing(sim: RunningSim, sub_code: str) -> None:
    shop = sim.app()
    buyer = sim.wallet(5_000)
    client = sim.client(shop)
    code = sim.code(buyer["wallet_id"], "DECLINE", sub_code=sub_code)
    reply = client.api_alipay_trade_pay(_no(), "bar_code", code, "x", total_amount="1.00")
    assert reply["code"] == "40004" and reply["sub_code"] == sub_code
    assert sim.balance(buyer["wallet_id"]) == 5_000 and sim.app_balance(shop.app_id) == 0


def test_a_balance_too_low_is_declined(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(99)
    client = sim.client(shop)
    out = _no()
    reply = client.api_alipay_trade_pay(
        out, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="1.00"
    )
    assert reply["sub_code"] == "ACQ.BUYER_BALANCE_NOT_ENOUGH"
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_CLOSED"
    assert sim.balance(buyer["wallet_id"]) == 99


def test_charged_then_unknown_leaves_a_paid_trade(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(5_000)
    client = sim.client(shop)
    out = _no()
    code = sim.code(buyer["wallet_id"], "CHARGED_THEN_UNKNOWN")
    reply = client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="2.50")
    assert reply["code"] == "20000" and reply["sub_code"] == "isp.unknow-error"
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_SUCCESS"
    assert sim.balance(buyer["wallet_id"]) == 4_750


def test_a_system_error_charges_nothing_and_the_same_request_goes_on(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(5_000)
    client = sim.client(shop)
    out = _no()
    code = sim.code(buyer["wallet_id"], "SYSTEM_ERROR")
    reply = client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="1.00")
    assert reply["code"] == "20000"
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "WAIT_BUYER_PAY"
    assert sim.balance(buyer["wallet_id"]) == 5_000
    again = client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="1.00")
    assert again["code"] == "10000"
    assert sim.balance(buyer["wallet_id"]) == 4_900
