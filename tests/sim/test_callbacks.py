"""API v3 refund callbacks: the simulator calls a refund's ``notify_url`` back when it
succeeds, and the real wechatpayv3 client's own ``callback()`` verifies and decrypts
what it sends, in both ways of verifying the network; a callback not taken is sent
again after WeChat's intervals on the simulator's clock."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from wechatpayv3 import WeChatPayType

from scanpay.sim.wechat.callbacks import RETRY_AFTER
from sim.kit import Merchant, Receiver, RunningSim, receiving, v3_call

MODES = ["public_key", "certificate"]
_REFUND = "/v3/refund/domestic/refunds"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as made:
        yield made


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _callbacks(sim: RunningSim, mchid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.admin("GET", "/sim/callbacks", params={"mchid": mchid})
    return found


def _wait(sim: RunningSim, mchid: str, done: Any, what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60  # the simulator delivers on its own
    while not done(found := _callbacks(sim, mchid)):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return found


def _delivered(found: list[dict[str, Any]]) -> bool:
    return bool(found) and all(c["delivered_at"] for c in found)


def _paid(sim: RunningSim, client: Any, total: int, outcome: str | None = None, **extra: Any):
    wallet = sim.wallet(50_000)
    no = _no()
    code = sim.code(wallet["wallet_id"], outcome, extra.pop("seconds", None))
    status, _ = client.pay(
        description="Lily shop - tea",
        out_trade_no=no,
        amount={"total": total, "currency": "CNY"},
        payer={"auth_code": code},
        scene_info={"store_info": {"out_id": "S1"}},
        pay_type=WeChatPayType.CODEPAY,
        **extra,
    )
    assert status == 200
    return no


def _refund(client: Any, no: str, amount: int, total: int, url: str, **extra: Any) -> Any:
    body = {
        "out_trade_no": no,
        "out_refund_no": "R" + no,
        "amount": {"refund": amount, "total": total, "currency": "CNY"},
        "notify_url": url,
        **extra,
    }
    status, answer = v3_call(client, "POST", _REFUND, body)
    assert status == 200, answer
    return answer


@pytest.mark.parametrize("mode", MODES)
def test_a_refund_is_called_back_and_wechatpayv3_reads_it(
    sim: RunningSim, receiver: Receiver, mode: str
) -> None:
    shop = sim.merchant(mode=mode)
    client = sim.client(shop)
    no = _paid(sim, client, 800)
    made = _refund(client, no, 300, 800, f"{receiver.url}/{shop.mchid}")
    assert made["status"] == "SUCCESS"
    [sent] = _wait(sim, shop.mchid, _delivered, "never called back")
    assert (sent["attempts"], sent["event_type"]) == (1, "REFUND.SUCCESS")
    [(headers, body)] = receiver.of(shop.mchid)
    assert headers["wechatpay-serial"] == sent["headers"]["Wechatpay-Serial"]
    assert headers["wechatpay-serial"].startswith("PUB_KEY_ID_") == (mode == "public_key")

    read = client.callback(headers, body)  # wechatpayv3 verifies, then decrypts
    assert read is not None
    assert (read["resource_type"], read["event_type"]) == ("encrypt-resource", "REFUND.SUCCESS")
    resource = read["resource"]
    assert resource["mchid"] == shop.mchid and resource["out_trade_no"] == no
    assert resource["out_refund_no"] == "R" + no and resource["refund_id"] == made["refund_id"]
    assert resource["refund_status"] == "SUCCESS" and resource["success_time"]
    assert resource["amount"] == {
        "total": 800,
        "refund": 300,
        "payer_total": 800,
        "payer_refund": 300,
    }
    assert json.loads(body)["resource"]["associated_data"] == "refund"

    # Changed on the way, or checked by another merchant's client: refused.
    tampered = body.replace(b'"REFUND.SUCCESS"', b'"REFUND.CLOSED"')
    assert client.callback(headers, tampered) is None
    stranger = sim.client(sim.merchant(mode=mode))  # same platform key, another APIv3 key
    assert stranger.callback(headers, body) is None


def test_a_callback_not_taken_is_sent_again_on_the_simulators_clock(
    sim: RunningSim, receiver: Receiver
) -> None:
    shop = sim.merchant()
    client = sim.client(shop)
    no = _paid(sim, client, 500)
    receiver.answers.extend([500, 404])
    _refund(client, no, 500, 500, f"{receiver.url}/{shop.mchid}")
    [first] = _wait(sim, shop.mchid, lambda f: f and f[0]["attempts"] == 1, "never sent")
    assert first["delivered_at"] is None and first["last_error"].startswith("HTTP 500")
    sim.clock.advance(RETRY_AFTER[0])
    _wait(sim, shop.mchid, lambda f: f[0]["attempts"] == 2, "not sent again")
    sim.clock.advance(RETRY_AFTER[1])
    [sent] = _wait(sim, shop.mchid, _delivered, "never taken")
    assert sent["attempts"] == 3 and sent["last_error"] is None
    sent_bodies = [body for _, body in receiver.of(shop.mchid)]
    assert len(sent_bodies) == 3 and len(set(sent_bodies)) == 1  # the same callback
    signatures = {h["wechatpay-signature"] for h, _ in receiver.of(shop.mchid)}
    assert len(signatures) == 3  # signed anew each time
    for headers, body in receiver.of(shop.mchid):
        assert client.callback(headers, body) is not None


@pytest.mark.parametrize("mode", MODES)
def test_a_processing_refund_is_called_back_when_it_finishes(
    sim: RunningSim, receiver: Receiver, mode: str
) -> None:
    provider = sim.merchant(kind="partner", mode=mode)
    sub = sim.admin("POST", f"/sim/merchants/{provider.mchid}/sub-merchants", json={})
    client = sim.client(provider)
    no = _paid(sim, client, 600, "REFUND_PROCESSING", seconds=30, sub_mchid=sub["mchid"])
    url = f"{receiver.url}/{sub['mchid']}"
    made = _refund(client, no, 600, 600, url, sub_mchid=sub["mchid"])
    assert made["status"] == "PROCESSING"
    assert _callbacks(sim, sub["mchid"]) == []  # nothing to say yet
    sim.clock.advance(30)
    [sent] = _wait(sim, sub["mchid"], _delivered, "never called back")
    assert (sent["mchid"], sent["sp_mchid"]) == (sub["mchid"], provider.mchid)
    [(headers, body)] = receiver.of(sub["mchid"])
    read = client.callback(headers, body)  # sealed with the provider's APIv3 key
    assert read is not None
    resource = read["resource"]
    assert (resource["sp_mchid"], resource["sub_mchid"]) == (provider.mchid, sub["mchid"])
    assert (resource["out_refund_no"], resource["refund_status"]) == ("R" + no, "SUCCESS")
    status, text = v3_call(client, "GET", f"{_REFUND}/R{no}?sub_mchid={sub['mchid']}")
    assert status == 200 and text["status"] == "SUCCESS"
    assert len(_callbacks(sim, sub["mchid"])) == 1  # the query finds it done: no second


def test_a_processing_refund_without_seconds_is_called_back_once_queried(
    sim: RunningSim, receiver: Receiver
) -> None:
    shop = sim.merchant()
    client = sim.client(shop)
    no = _paid(sim, client, 400, "REFUND_PROCESSING")
    assert _refund(client, no, 400, 400, f"{receiver.url}/{shop.mchid}")["status"] == "PROCESSING"
    sim.clock.advance(3600)
    assert _callbacks(sim, shop.mchid) == []  # as before: it waits for the query
    status, text = v3_call(client, "GET", f"{_REFUND}/R{no}")
    assert status == 200 and text["status"] == "SUCCESS"
    _wait(sim, shop.mchid, _delivered, "never called back")


def test_only_loopback_urls_are_called(sim: RunningSim, receiver: Receiver) -> None:
    shop = sim.merchant()
    client = sim.client(shop)
    no = _paid(sim, client, 300)
    _refund(client, no, 100, 300, "https://merchant.example.com/notify")
    [queued] = _callbacks(sim, shop.mchid)
    assert queued["attempts"] == 0 and queued["next_at"] is None
    assert "loopback" in queued["last_error"]
    body = {
        "out_trade_no": no,
        "out_refund_no": "RQ" + no,
        "amount": {"refund": 100, "total": 300, "currency": "CNY"},
        "notify_url": f"{receiver.url}/{shop.mchid}?x=1",  # WeChat takes no parameters
    }
    status, answer = v3_call(client, "POST", _REFUND, body)
    assert status == 400 and answer["code"] == "PARAM_ERROR"


def test_a_refund_without_notify_url_is_not_called_back(sim: RunningSim) -> None:
    shop: Merchant = sim.merchant()
    client = sim.client(shop)
    no = _paid(sim, client, 300)
    status, answer = v3_call(
        client,
        "POST",
        _REFUND,
        {
            "out_trade_no": no,
            "out_refund_no": "R" + no,
            "amount": {"refund": 300, "total": 300, "currency": "CNY"},
        },
    )
    assert status == 200 and answer["status"] == "SUCCESS"
    assert _callbacks(sim, shop.mchid) == []
