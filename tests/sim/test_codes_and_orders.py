"""Payment codes are one-time and expire; an out_trade_no is one request; fields are
checked with WeChat's error codes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from wechatpayv3 import WeChatPay

from scanpay.sim.wechat.payments import valid_code
from sim.kit import Merchant, RunningSim, v3_call

PAY = "/v3/pay/transactions/codepay"


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _body(shop: Merchant, no: str, total: Any, code: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "appid": shop.appid,
        "mchid": shop.mchid,
        "description": "tea",
        "out_trade_no": no,
        "payer": {"auth_code": code},
        "amount": {"total": total, "currency": "CNY"},
        "scene_info": {"device_id": "POS-1"},
    }
    body.update(changes)
    return body


@pytest.fixture
def shop(sim: RunningSim) -> tuple[Merchant, WeChatPay, int]:
    merchant = sim.merchant()
    return merchant, sim.client(merchant), int(sim.wallet(100_000)["wallet_id"])


def test_codes_look_like_wechats(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    codes = {sim.code(shop[2]) for _ in range(30)}
    assert len(codes) == 30
    assert all(valid_code(code) for code in codes)
    assert {code[:2] for code in codes} <= {"10", "11", "12", "13", "14", "15"}


def test_a_code_pays_once(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    merchant, client, wallet = shop
    code = sim.code(wallet)
    assert v3_call(client, "POST", PAY, _body(merchant, _no(), 100, code))[0] == 200
    status, body = v3_call(client, "POST", PAY, _body(merchant, _no(), 100, code))
    assert status == 403 and body["code"] == "AUTH_CODE_INVALID"
    status, body = v3_call(client, "POST", PAY, _body(merchant, _no(), 100, "134567890123456789"))
    assert status == 403 and body["code"] == "AUTH_CODE_INVALID"  # never issued
    assert sim.balance(wallet) == 100_000 - 100


def test_a_code_expires(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    merchant, client, wallet = shop
    code = sim.code(wallet)
    sim.clock.advance(59)
    fresh = sim.code(wallet)
    sim.clock.advance(2)  # the first is 61 s old, the second 2 s
    status, body = v3_call(client, "POST", PAY, _body(merchant, _no(), 100, code))
    assert status == 403 and body["code"] == "AUTHCODEEXPIRE"
    assert v3_call(client, "POST", PAY, _body(merchant, _no(), 100, fresh))[0] == 200
    assert sim.balance(wallet) == 100_000 - 100


@pytest.mark.parametrize("code", ["16" + "0" * 16, "1234567890123456", "12345678901234567a"])
def test_a_code_not_in_wechats_format(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int], code: str
) -> None:
    merchant, client, _ = shop
    status, body = v3_call(client, "POST", PAY, _body(merchant, _no(), 100, code))
    assert status == 400 and body["code"] == "PARAM_ERROR"
    assert body["detail"]["field"] == "/payer/auth_code"
    assert code not in str(body)  # a payment code is never echoed


def test_one_out_trade_no_one_request(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    merchant, client, wallet = shop
    no, code = _no(), sim.code(wallet)
    assert v3_call(client, "POST", PAY, _body(merchant, no, 100, code))[0] == 200
    status, body = v3_call(client, "POST", PAY, _body(merchant, no, 100, code))
    assert status == 403 and body["code"] == "ORDERPAID"
    status, body = v3_call(client, "POST", PAY, _body(merchant, no, 100, sim.code(wallet)))
    assert status == 403 and body["code"] == "OUT_TRADE_NO_USED"
    status, body = v3_call(client, "POST", PAY, _body(merchant, no, 101, code))
    assert status == 403 and body["code"] == "OUT_TRADE_NO_USED"
    assert client.codepay_reverse(out_trade_no=no)[0] == 204
    status, body = v3_call(client, "POST", PAY, _body(merchant, no, 100, code))
    assert status == 403 and body["code"] == "ORDERREVERSED"
    assert sim.balance(wallet) == 100_000


def test_the_same_out_trade_no_at_two_merchants(sim: RunningSim) -> None:
    one, two = sim.merchant(), sim.merchant()
    wallet = int(sim.wallet(1_000)["wallet_id"])
    no = _no()
    for shop in (one, two):
        assert (
            v3_call(sim.client(shop), "POST", PAY, _body(shop, no, 10, sim.code(wallet)))[0] == 200
        )
    status, body = v3_call(
        sim.client(one), "GET", f"/v3/pay/transactions/out-trade-no/{no}?mchid={two.mchid}"
    )
    assert status == 400 and body["code"] == "INVALID_REQUEST"  # not another merchant's orders


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": {"total": 0}}, "/amount/total"),
        ({"amount": {"total": 1.5}}, "/amount/total"),
        ({"amount": {"total": "100"}}, "/amount/total"),
        ({"amount": {"total": 100, "currency": "USD"}}, "/amount/currency"),
        ({"description": ""}, "/description"),
        ({"description": "x" * 128}, "/description"),
        ({"out_trade_no": "has space"}, "/out_trade_no"),
        ({"out_trade_no": "x" * 33}, "/out_trade_no"),
        ({"scene_info": None}, "/scene_info"),
        ({"payer": {}}, "/payer/auth_code"),
    ],
)
def test_fields_are_checked(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int], changes: dict[str, Any], field: str
) -> None:
    merchant, client, wallet = shop
    status, body = v3_call(
        client, "POST", PAY, _body(merchant, _no(), 100, sim.code(wallet), **changes)
    )
    assert status == 400 and body["code"] == "PARAM_ERROR", body
    assert body["detail"]["field"] == field and body["message"]
    assert sim.balance(wallet) == 100_000


def test_the_appid_must_be_the_merchants(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    merchant, client, wallet = shop
    body = _body(merchant, _no(), 100, sim.code(wallet), appid="wx0000000000000000")
    status, reply = v3_call(client, "POST", PAY, body)
    assert status == 400 and reply["code"] == "APPID_MCHID_NOT_MATCH"


def test_refunds_never_above_what_was_paid(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    merchant, client, wallet = shop
    no = _no()
    assert v3_call(client, "POST", PAY, _body(merchant, no, 1_000, sim.code(wallet)))[0] == 200

    def refund(out_refund_no: str, amount: int, total: int = 1_000) -> tuple[int, Any]:
        return v3_call(
            client,
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": no,
                "out_refund_no": out_refund_no,
                "amount": {"refund": amount, "total": total, "currency": "CNY"},
            },
        )

    assert refund("R1", 600)[0] == 200
    assert refund("R1", 600)[0] == 200  # the same refund again: not twice
    status, body = refund("R1", 500)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    status, body = refund("R2", 401)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    status, body = refund("R3", 100, total=999)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    assert refund("R4", 400)[0] == 200
    status, body = refund("R5", 1)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    assert sim.balance(wallet) == 100_000
    assert sim.merchant_balance(merchant.mchid) == 0
    status, body = v3_call(client, "GET", "/v3/refund/domestic/refunds/NOPE")
    assert status == 404 and body["code"] == "RESOURCE_NOT_EXISTS"
    status, body = v3_call(
        client,
        "POST",
        "/v3/refund/domestic/refunds",
        {
            "out_trade_no": "NOPE",
            "out_refund_no": "R6",
            "amount": {"refund": 1, "total": 1},
        },
    )
    assert status == 404 and body["code"] == "ORDER_NOT_EXIST"


def test_an_unknown_order(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    merchant, client, _ = shop
    status, body = v3_call(
        client, "GET", f"/v3/pay/transactions/out-trade-no/NOPE?mchid={merchant.mchid}"
    )
    assert status == 404 and body["code"] == "ORDER_NOT_EXIST"
    status, body = v3_call(
        client,
        "POST",
        "/v3/pay/transactions/out-trade-no/NOPE/reverse",
        {"appid": merchant.appid, "mchid": merchant.mchid},
    )
    assert status == 404 and body["code"] == "ORDER_NOT_EXIST"


def test_reverse_after_seven_days_is_refused(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    merchant, client, wallet = shop
    no = _no()
    assert v3_call(client, "POST", PAY, _body(merchant, no, 100, sim.code(wallet)))[0] == 200
    sim.clock.advance(7 * 86400 + 1)
    status, body = client.codepay_reverse(out_trade_no=no)
    assert status == 403 and b"REVERSE_EXPIRE" in (
        body if isinstance(body, bytes) else body.encode()
    )
    assert sim.balance(wallet) == 100_000 - 100


def test_the_same_request_at_once_many_times_charges_once(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    merchant, client, wallet = shop
    body = _body(merchant, _no(), 250, sim.code(wallet))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: v3_call(client, "POST", PAY, body), range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [403] * 7
    assert {reply["code"] for status, reply in answers if status == 403} == {"ORDERPAID"}
    assert sim.balance(wallet) == 100_000 - 250
