"""Each outcome a test can choose behaves as docs/networks.md says: chosen on the code
(what a host's adapter meets, sending no test headers) or with the header."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from wechatpayv3 import WeChatPay, WeChatPayType

from sim.kit import Merchant, RunningSim, v3_call


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _body(shop: Merchant, no: str, total: int, code: str) -> dict[str, Any]:
    return {
        "appid": shop.appid,
        "mchid": shop.mchid,
        "description": "tea",
        "out_trade_no": no,
        "payer": {"auth_code": code},
        "amount": {"total": total, "currency": "CNY"},
        "scene_info": {"device_id": "POS-1"},
    }


def _pay(client: WeChatPay, no: str, total: int, code: str) -> tuple[int, Any]:
    status, text = client.pay(
        description="tea",
        out_trade_no=no,
        amount={"total": total},
        payer={"auth_code": code},
        scene_info={"device_id": "POS-1"},
        pay_type=WeChatPayType.CODEPAY,
    )
    return status, json.loads(text) if text else text


def _state(client: WeChatPay, no: str) -> str:
    status, text = client.query(out_trade_no=no)
    assert status == 200, text
    return str(json.loads(text)["trade_state"])


@pytest.fixture
def shop(sim: RunningSim) -> tuple[Merchant, WeChatPay, int]:
    merchant = sim.merchant()
    wallet = sim.wallet(100_000)
    return merchant, sim.client(merchant), int(wallet["wallet_id"])


@pytest.mark.parametrize(
    "outcome, code", [("SYSTEMERROR", "SYSTEM_ERROR"), ("BANKERROR", "BANK_ERROR")]
)
def test_system_error_charges_nothing_and_the_same_request_goes_on(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int], outcome: str, code: str
) -> None:
    merchant, client, wallet = shop
    no, auth = _no(), sim.code(wallet, outcome)
    status, body = _pay(client, no, 300, auth)
    assert status == 500 and body["code"] == code
    assert _state(client, no) == "NOTPAY"
    assert sim.balance(wallet) == 100_000
    status, body = _pay(client, no, 300, auth)  # the same parameters again
    assert status == 200 and body["trade_state"] == "SUCCESS"
    assert sim.balance(wallet) == 100_000 - 300
    # By header: every request bearing it.
    no = _no()
    status, body = v3_call(
        client,
        "POST",
        "/v3/pay/transactions/codepay",
        _body(merchant, no, 300, sim.code(wallet)),
        outcome=outcome,
    )
    assert status == 500 and body["code"] == code
    assert sim.balance(wallet) == 100_000 - 300
    # A query with SYSTEMERROR answers it and does nothing.
    status, body = v3_call(
        client,
        "GET",
        f"/v3/pay/transactions/out-trade-no/{no}?mchid={merchant.mchid}",
        outcome="SYSTEMERROR",
    )
    assert status == 500 and body["code"] == "SYSTEM_ERROR"


def test_userpaying_then_success(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    _, client, wallet = shop
    no = _no()
    status, body = _pay(client, no, 700, sim.code(wallet, "USERPAYING_SUCCESS", seconds=20))
    assert status == 202 and body["trade_state"] == "USERPAYING"
    assert _state(client, no) == "USERPAYING"
    assert sim.balance(wallet) == 100_000
    # The same request while waiting: still USERPAYING, nothing charged twice.
    sim.clock.advance(21)
    assert _state(client, no) == "SUCCESS"
    assert sim.balance(wallet) == 100_000 - 700


def test_userpaying_then_failure(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    _, client, wallet = shop
    no = _no()
    status, _ = _pay(client, no, 700, sim.code(wallet, "USERPAYING_FAIL", seconds=5))
    assert status == 202
    sim.clock.advance(6)
    assert _state(client, no) == "PAYERROR"
    assert sim.balance(wallet) == 100_000


def test_userpaying_never_until_reversed(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    _, client, wallet = shop
    no = _no()
    auth = sim.code(wallet, "USERPAYING_NEVER")
    assert _pay(client, no, 700, auth)[0] == 202
    sim.clock.advance(3600)
    assert _state(client, no) == "USERPAYING"
    # The customer's page cannot confirm it either.
    order = sim.admin("GET", f"/sim/orders?mchid={shop[0].mchid}")[-1]
    sim.http.post(f"{sim.url}/sim/pay/{order['transaction_id']}/confirm")
    assert _state(client, no) == "USERPAYING"
    assert _pay(client, no, 700, auth)[0] == 202  # the same request: still waiting
    assert client.codepay_reverse(out_trade_no=no)[0] == 204
    assert _state(client, no) == "CLOSED"
    status, body = _pay(client, no, 700, auth)
    assert status == 403 and body["code"] == "ORDERCLOSED"
    assert sim.balance(wallet) == 100_000


def test_the_wallets_password_on_the_simulators_page(sim: RunningSim) -> None:
    merchant = sim.merchant()
    client = sim.client(merchant)
    wallet = int(sim.wallet(100_000, password_above=5_000)["wallet_id"])
    assert _pay(client, _no(), 5_000, sim.code(wallet))[0] == 200  # at the limit: no password
    confirmed, cancelled = _no(), _no()
    for no in (confirmed, cancelled):
        status, body = _pay(client, no, 5_001, sim.code(wallet))
        assert status == 202 and body["trade_state"] == "USERPAYING"
        page = sim.http.get(f"{sim.url}/sim/pay/{body['transaction_id']}")
        assert "USERPAYING" in page.text and 'id="confirm"' in page.text
        action = "confirm" if no == confirmed else "cancel"
        done = sim.http.post(
            f"{sim.url}/sim/pay/{body['transaction_id']}/{action}", follow_redirects=True
        )
        assert done.status_code == 200
    assert _state(client, confirmed) == "SUCCESS"
    assert _state(client, cancelled) == "PAYERROR"
    assert sim.balance(wallet) == 100_000 - 5_000 - 5_001


def test_the_wallets_password_after_its_delay(sim: RunningSim) -> None:
    merchant = sim.merchant()
    client = sim.client(merchant)
    wallet = int(sim.wallet(1_000, password_above=100, password_seconds=8)["wallet_id"])
    no = _no()
    assert _pay(client, no, 900, sim.code(wallet))[0] == 202
    sim.clock.advance(7)
    assert _state(client, no) == "USERPAYING"
    sim.clock.advance(2)
    assert _state(client, no) == "SUCCESS"
    # Above the balance: the password comes, the payment fails.
    no = _no()
    assert _pay(client, no, 900, sim.code(wallet))[0] == 202
    sim.clock.advance(9)
    assert _state(client, no) == "PAYERROR"
    assert sim.balance(wallet) == 100


def test_notenough(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    _, client, wallet = shop
    no = _no()
    auth = sim.code(wallet, "NOTENOUGH")
    status, body = _pay(client, no, 1, auth)
    assert status == 403 and body["code"] == "NOTENOUGH"
    assert _state(client, no) == "PAYERROR"
    status, body = _pay(client, no, 1, auth)  # asked again: the same answer
    assert status == 403 and body["code"] == "NOTENOUGH"
    # For real: more than the wallet holds.
    poor = int(sim.wallet(50)["wallet_id"])
    status, body = _pay(client, _no(), 51, sim.code(poor))
    assert status == 403 and body["code"] == "NOTENOUGH"
    assert sim.balance(wallet) == 100_000 and sim.balance(poor) == 50


def test_authcodeexpire(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    _, client, wallet = shop
    status, body = _pay(client, _no(), 1, sim.code(wallet, "AUTHCODEEXPIRE"))
    assert status == 403 and body["code"] == "AUTHCODEEXPIRE"
    assert sim.balance(wallet) == 100_000


def test_slow(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    merchant, client, wallet = shop
    started = time.monotonic()
    status, body = _pay(client, _no(), 10, sim.code(wallet, "SLOW", seconds=1.5))
    assert status == 200 and time.monotonic() - started >= 1.5
    started = time.monotonic()
    status, _ = v3_call(
        client,
        "GET",
        f"/v3/pay/transactions/out-trade-no/{body['out_trade_no']}?mchid={merchant.mchid}",
        outcome="SLOW",
        seconds=1,
    )
    assert status == 200 and time.monotonic() - started >= 1


def test_slow_past_the_clients_timeout_still_charged(sim: RunningSim) -> None:
    merchant = sim.merchant()
    wallet = int(sim.wallet(1_000)["wallet_id"])
    impatient = sim.client(merchant, timeout=(10, 0.5))
    no = _no()
    with pytest.raises(requests.exceptions.ReadTimeout):
        _pay(impatient, no, 10, sim.code(wallet, "SLOW", seconds=4))
    assert _state(sim.client(merchant), no) == "SUCCESS"  # done before the late reply
    assert sim.balance(wallet) == 990


def test_charged_no_reply(sim: RunningSim) -> None:
    merchant = sim.merchant()
    wallet = int(sim.wallet(1_000)["wallet_id"])
    impatient = sim.client(merchant, timeout=(10, 1))
    no = _no()
    auth = sim.code(wallet, "CHARGED_NO_REPLY", seconds=600)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _pay(impatient, no, 10, auth)
    client = sim.client(merchant)
    assert _state(client, no) == "SUCCESS"
    assert sim.balance(wallet) == 990
    status, body = _pay(client, no, 10, auth)  # the retry of the lost request
    assert status == 403 and body["code"] == "ORDERPAID"
    assert sim.balance(wallet) == 990


def test_charged_no_reply_closes_the_connection_of_a_client_that_waits(sim: RunningSim) -> None:
    merchant = sim.merchant()
    wallet = int(sim.wallet(1_000)["wallet_id"])
    client = sim.client(merchant, timeout=(10, 60))
    no = _no()
    with pytest.raises(requests.exceptions.ConnectionError):
        _pay(client, no, 10, sim.code(wallet, "CHARGED_NO_REPLY", seconds=0.5))
    assert _state(client, no) == "SUCCESS"


def test_reverse_recall(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    merchant, client, wallet = shop
    no = _no()
    assert _pay(client, no, 40, sim.code(wallet, "REVERSE_RECALL"))[0] == 200
    status, body = client.codepay_reverse(out_trade_no=no)
    assert status == 500 and json.loads(body)["code"] == "SYSTEM_ERROR"  # v3's "call again"
    assert _state(client, no) == "SUCCESS"
    assert client.codepay_reverse(out_trade_no=no)[0] == 204
    assert _state(client, no) == "REVOKED"
    # By header: every reverse bearing it.
    no = _no()
    assert _pay(client, no, 40, sim.code(wallet))[0] == 200
    path = f"/v3/pay/transactions/out-trade-no/{no}/reverse"
    data = {"appid": merchant.appid, "mchid": merchant.mchid}
    assert v3_call(client, "POST", path, data, outcome="REVERSE_RECALL")[0] == 500
    assert v3_call(client, "POST", path, data)[0] == 204
    assert sim.balance(wallet) == 100_000


def test_refund_processing(sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]) -> None:
    _, client, wallet = shop
    no = _no()
    assert _pay(client, no, 40, sim.code(wallet, "REFUND_PROCESSING"))[0] == 200
    status, text = client.refund(
        out_refund_no="R" + no,
        out_trade_no=no,
        amount={"refund": 40, "total": 40, "currency": "CNY"},
    )
    assert status == 200 and json.loads(text)["status"] == "PROCESSING"
    status, text = client.query_refund(out_refund_no="R" + no)
    assert json.loads(text)["status"] == "SUCCESS" and "success_time" in json.loads(text)
    assert sim.balance(wallet) == 100_000


def test_an_unknown_or_misplaced_outcome_is_refused(
    sim: RunningSim, shop: tuple[Merchant, WeChatPay, int]
) -> None:
    merchant, client, wallet = shop
    status, body = v3_call(
        client,
        "POST",
        "/v3/pay/transactions/codepay",
        _body(merchant, _no(), 1, sim.code(wallet)),
        outcome="NO_SUCH_THING",
    )
    assert status == 400 and body["code"] == "PARAM_ERROR"
    status, body = v3_call(
        client,
        "GET",
        f"/v3/pay/transactions/out-trade-no/X?mchid={merchant.mchid}",
        outcome="NOTENOUGH",
    )
    assert status == 400 and body["code"] == "PARAM_ERROR"
    response = sim.http.post(f"{sim.url}/sim/wallets/{wallet}/codes", json={"outcome": "NOPE"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "sim_bad_outcome"
    assert sim.balance(wallet) == 100_000
