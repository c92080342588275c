"""API v2 (XML): micropay, orderquery, reverse, refund, refundquery, signed MD5 or
HMAC-SHA256 both ways; return_code, result_code and err_code as WeChat answers them."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from scanpay.sim.wechat.crypto import v2_sign
from sim.kit import Merchant, RunningSim, v2_call

SIGN_TYPES = ["MD5", "HMAC-SHA256"]


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _micropay(no: str, total: int, code: str, **extra: str) -> dict[str, str]:
    return {
        "body": "Lily shop-tea",
        "out_trade_no": no,
        "total_fee": str(total),
        "fee_type": "CNY",
        "spbill_create_ip": "127.0.0.1",
        "auth_code": code,
        "device_info": "POS-1",
        **extra,
    }


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
def test_pay_query_refund_reverse(sim: RunningSim, sign_type: str) -> None:
    shop = sim.merchant()
    wallet = int(sim.wallet(10_000)["wallet_id"])
    no = _no()

    def call(path: str, params: dict[str, str]) -> dict[str, str]:
        return v2_call(sim, path, shop, params, sign_type=sign_type)

    paid = call("/pay/micropay", _micropay(no, 888, sim.code(wallet), attach="table 4"))
    assert paid["return_code"] == "SUCCESS" and paid["result_code"] == "SUCCESS", paid
    assert (
        paid["total_fee"] == "888"
        and paid["cash_fee"] == "888"
        and paid["trade_type"] == "MICROPAY"
    )
    assert re.fullmatch(r"\d{14}", paid["time_end"]) and len(paid["transaction_id"]) == 28
    assert paid["attach"] == "table 4" and paid["openid"] and paid["device_info"] == "POS-1"
    assert sim.balance(wallet) == 10_000 - 888

    query = call("/pay/orderquery", {"out_trade_no": no})
    assert query["trade_state"] == "SUCCESS" and query["transaction_id"] == paid["transaction_id"]
    query = call("/pay/orderquery", {"transaction_id": paid["transaction_id"]})
    assert query["out_trade_no"] == no

    refund = call(
        "/secapi/pay/refund",
        {
            "out_trade_no": no,
            "out_refund_no": "R" + no,
            "total_fee": "888",
            "refund_fee": "88",
        },
    )
    assert refund["result_code"] == "SUCCESS" and refund["refund_fee"] == "88"
    found = call("/pay/refundquery", {"out_refund_no": "R" + no})
    assert found["refund_count"] == "1" and found["refund_status_0"] == "SUCCESS"
    assert found["refund_fee_0"] == "88"
    assert call("/pay/orderquery", {"out_trade_no": no})["trade_state"] == "REFUND"

    reverse = call("/secapi/pay/reverse", {"out_trade_no": no})
    assert reverse["result_code"] == "SUCCESS" and reverse["recall"] == "N"
    query = call("/pay/orderquery", {"out_trade_no": no})
    assert query["trade_state"] == "REVOKED"
    assert "transaction_id" not in query  # an order not paid (now) shows its number only
    assert sim.balance(wallet) == 10_000
    sim.books_balance()


def test_a_bad_signature_is_refused_before_anything(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = int(sim.wallet(10_000)["wallet_id"])
    code = sim.code(wallet)
    for sign_type in SIGN_TYPES:
        reply = v2_call(
            sim, "/pay/micropay", shop, _micropay(_no(), 1, code), sign_type=sign_type, key="x" * 32
        )
        assert reply == {"return_code": "FAIL", "return_msg": "签名错误"}
    assert sim.balance(wallet) == 10_000
    # The code was not used by the refused calls.
    assert (
        v2_call(sim, "/pay/micropay", shop, _micropay(_no(), 1, code))["result_code"] == "SUCCESS"
    )


def test_what_is_not_a_call(sim: RunningSim) -> None:
    shop = sim.merchant()
    for body in (b"not xml", b"<nope/>", b'<!DOCTYPE x [<!ENTITY a "b">]><xml><a>&a;</a></xml>'):
        reply = sim.http.post(sim.url + "/pay/micropay", content=body)
        assert "<return_code><![CDATA[FAIL]]></return_code>" in reply.text
        assert "XML格式错误" in reply.text
    ghost = Merchant({**shop.data, "mchid": "1999999999"})
    assert v2_call(sim, "/pay/orderquery", ghost, {"out_trade_no": "X"})["return_code"] == "FAIL"


@pytest.mark.parametrize("sign_type", SIGN_TYPES)
def test_userpaying_with_the_sandboxs_header(sim: RunningSim, sign_type: str) -> None:
    shop = sim.merchant()
    wallet = int(sim.wallet(10_000)["wallet_id"])
    no = _no()
    reply = v2_call(
        sim,
        "/pay/micropay",
        shop,
        _micropay(no, 5, sim.code(wallet)),
        sign_type=sign_type,
        headers={"Wechatpay-Negative-Test": "MICROPAY_USERPAYING", "Wechatpay-Sim-Seconds": "10"},
    )
    assert reply["return_code"] == "SUCCESS" and reply["result_code"] == "FAIL"
    assert reply["err_code"] == "USERPAYING" and reply["err_code_des"]
    query = v2_call(sim, "/pay/orderquery", shop, {"out_trade_no": no}, sign_type=sign_type)
    assert query["trade_state"] == "USERPAYING" and "total_fee" not in query
    sim.clock.advance(11)
    query = v2_call(sim, "/pay/orderquery", shop, {"out_trade_no": no}, sign_type=sign_type)
    assert query["trade_state"] == "SUCCESS" and query["total_fee"] == "5"


def test_reverse_recall(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = int(sim.wallet(10_000)["wallet_id"])
    no = _no()
    assert (
        v2_call(sim, "/pay/micropay", shop, _micropay(no, 5, sim.code(wallet, "REVERSE_RECALL")))[
            "result_code"
        ]
        == "SUCCESS"
    )
    first = v2_call(sim, "/secapi/pay/reverse", shop, {"out_trade_no": no})
    assert (
        first["result_code"] == "FAIL"
        and first["recall"] == "Y"
        and first["err_code"] == "SYSTEMERROR"
    )
    again = v2_call(sim, "/secapi/pay/reverse", shop, {"out_trade_no": no})
    assert again["result_code"] == "SUCCESS" and again["recall"] == "N"
    assert sim.balance(wallet) == 10_000


def test_err_codes(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = int(sim.wallet(100)["wallet_id"])

    def err(params: dict[str, str], path: str = "/pay/micropay", **headers: str) -> str:
        reply = v2_call(sim, path, shop, params, headers=headers)
        assert reply["return_code"] == "SUCCESS" and reply["result_code"] == "FAIL", reply
        return reply["err_code"]

    assert err(_micropay(_no(), 101, sim.code(wallet))) == "NOTENOUGH"
    assert err(_micropay(_no(), 1, sim.code(wallet, "AUTHCODEEXPIRE"))) == "AUTHCODEEXPIRE"
    assert err(_micropay(_no(), 1, "991234567890123456")) == "AUTH_CODE_ERROR"
    assert err(_micropay(_no(), 1, "101234567890123456")) == "AUTH_CODE_INVALID"
    assert err(_micropay(_no(), 0, sim.code(wallet))) == "PARAM_ERROR"
    assert (
        err({k: v for k, v in _micropay(_no(), 1, sim.code(wallet)).items() if k != "body"})
        == "PARAM_ERROR"
    )
    assert (
        err(_micropay(_no(), 1, sim.code(wallet)), **{"Wechatpay-Negative-Test": "SYSTEMERROR"})
        == "SYSTEMERROR"
    )
    assert (
        err(_micropay(_no(), 1, sim.code(wallet)), **{"Wechatpay-Negative-Test": "BANKERROR"})
        == "BANKERROR"
    )
    no, code = _no(), sim.code(wallet)
    assert v2_call(sim, "/pay/micropay", shop, _micropay(no, 1, code))["result_code"] == "SUCCESS"
    assert err(_micropay(no, 1, code)) == "ORDERPAID"
    assert err(_micropay(no, 2, code)) == "OUT_TRADE_NO_USED"
    assert err({"out_trade_no": "NOPE"}, "/pay/orderquery") == "ORDERNOTEXIST"
    assert (
        err(
            {"out_trade_no": no, "out_refund_no": "R1", "total_fee": "1", "refund_fee": "2"},
            "/secapi/pay/refund",
        )
        == "INVALID_REQUEST"
    )
    assert err({"out_refund_no": "NOPE"}, "/pay/refundquery") == "REFUNDNOTEXIST"
    wrong_appid = v2_call(sim, "/pay/orderquery", shop, {"out_trade_no": no, "appid": "wx0"})
    assert wrong_appid["err_code"] == "APPID_MCHID_NOT_MATCH"
    assert sim.balance(wallet) == 99


def test_partner_form(sim: RunningSim) -> None:
    provider = sim.merchant(kind="partner")
    sub = sim.admin(
        "POST",
        f"/sim/merchants/{provider.mchid}/sub-merchants",
        json={"sub_appid": "wxsub0000000001"},
    )
    wallet = int(sim.wallet(1_000)["wallet_id"])
    no = _no()
    params = _micropay(
        no, 300, sim.code(wallet), sub_mch_id=sub["mchid"], sub_appid="wxsub0000000001"
    )
    paid = v2_call(sim, "/pay/micropay", provider, params, sign_type="HMAC-SHA256")
    assert (
        paid["result_code"] == "SUCCESS"
        and paid["sub_mch_id"] == sub["mchid"]
        and paid["sub_openid"]
    )
    assert sim.merchant_balance(sub["mchid"]) == 300
    query = v2_call(
        sim, "/pay/orderquery", provider, {"out_trade_no": no, "sub_mch_id": sub["mchid"]}
    )
    assert query["trade_state"] == "SUCCESS"
    wrong = v2_call(
        sim, "/pay/orderquery", provider, {"out_trade_no": no, "sub_mch_id": "1600000000"}
    )
    assert wrong["err_code"] == "PARAM_ERROR"
    bad_appid = dict(params, out_trade_no=_no(), sub_appid="wxother", auth_code=sim.code(wallet))
    assert v2_call(sim, "/pay/micropay", provider, bad_appid)["err_code"] == "APPID_MCHID_NOT_MATCH"


def test_v2_and_v3_see_one_network(sim: RunningSim) -> None:
    """Pay with API v2, query and reverse with API v3: the same merchant, the same orders."""
    shop = sim.merchant()
    wallet = int(sim.wallet(1_000)["wallet_id"])
    no = _no()
    assert (
        v2_call(sim, "/pay/micropay", shop, _micropay(no, 100, sim.code(wallet)))["result_code"]
        == "SUCCESS"
    )
    client = sim.client(shop)
    status, text = client.query(out_trade_no=no)
    assert status == 200 and json.loads(text)["trade_state"] == "SUCCESS"
    assert client.codepay_reverse(out_trade_no=no)[0] == 204
    assert v2_call(sim, "/pay/orderquery", shop, {"out_trade_no": no})["trade_state"] == "REVOKED"
    assert sim.balance(wallet) == 1_000


def test_replies_are_signed_with_the_requests_sign_type(sim: RunningSim) -> None:
    shop = sim.merchant()
    reply = v2_call(sim, "/pay/orderquery", shop, {"out_trade_no": "NOPE"}, sign_type="HMAC-SHA256")
    assert reply["sign"] == v2_sign(reply, shop.v2_key, "HMAC-SHA256")
    assert reply["sign"] != v2_sign(reply, shop.v2_key, "MD5")
    # WRONG_SIGNATURE: the reply's sign is not the merchant key's.
    with pytest.raises(AssertionError, match="bad reply signature"):
        v2_call(
            sim,
            "/pay/orderquery",
            shop,
            {"out_trade_no": "NOPE"},
            headers={"Wechatpay-Negative-Test": "WRONG_SIGNATURE"},
        )
