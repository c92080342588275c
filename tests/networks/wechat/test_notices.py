"""Refund callbacks through the adapter: a refund names the channel's own callback URL,
and what the simulator calls back is verified and opened with the channel's keys, in
both ways of verifying the network; forged, tampered, another merchant's: None."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from networks.wechat.kit import Shop, adapter, make_shop, pay_request, refund_request, trade_no
from scanpay.networks import RefundStatus
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Channel, Notice, Notifying
from scanpay.networks.wechat import WeChatPayNetwork, WeChatSettings, from_options
from scanpay.sim.common.keys import new_key
from scanpay.sim.wechat.keys import load_or_create
from scanpay.sim.wechat.v3auth import reply_headers
from sim.kit import Receiver, RunningSim, receiving

V3 = [
    "v3-public_key-direct",
    "v3-certificate-direct",
    "v3-public_key-partner",
    "v3-certificate-partner",
]
AMOUNT = 900


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as made:
        yield made


@pytest.fixture(scope="module")
def notifying(sim: RunningSim, receiver: Receiver) -> Iterator[WeChatPayNetwork]:
    with adapter(sim.url, notify_url=receiver.url + "/") as made:
        yield made


def _called_back(
    sim: RunningSim, network: WeChatPayNetwork, receiver: Receiver, shop: Shop
) -> tuple[str, str, dict[str, str], bytes]:
    """A refund of a new sale through ``network``, and its callback as the merchant's
    server got it: (trade number, refund number, headers, body)."""
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    network.pay(request)
    refund_no = "R" + trade_no()
    answer = network.refund(refund_request(shop, request.trade_no, refund_no, 400, AMOUNT))
    assert answer.status is RefundStatus.SUCCESS
    key = shop.channel.sub_mch_id or shop.channel.mch_id
    deadline = time.monotonic() + 60  # the simulator calls back on its own
    while not (got := receiver.of(key)):
        assert time.monotonic() < deadline, "never called back"
        time.sleep(0.05)
    [(headers, body)] = got
    return request.trade_no, refund_no, headers, body


def _signed(sim: RunningSim, shop: Shop, body: bytes, key: Any = None) -> dict[str, str]:
    """``body`` signed as the simulator signs for the shop (``key``: another key)."""
    keys, _ = load_or_create(sim.folder / "sim" / "keys", datetime.now(UTC))
    merchant = sim.store.merchant(shop.top.mchid)
    return reply_headers(keys, merchant, body, wrong_key=key)


def _resealed(body: bytes, **resource: str) -> bytes:
    data = json.loads(body)
    data["resource"].update(resource)
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.mark.parametrize("variant", V3)
def test_a_callback_is_verified_and_opened_with_the_channels_keys(
    sim: RunningSim, notifying: WeChatPayNetwork, receiver: Receiver, variant: str
) -> None:
    shop = make_shop(sim, variant)
    no, refund_no, headers, body = _called_back(sim, notifying, receiver, shop)
    assert isinstance(notifying, Notifying)
    assert notifying.notice_claim(body, headers) is None  # nothing in clear says whose
    assert notifying.notice(shop.channel, body, headers) == Notice(no, refund_no)
    [sent] = sim.admin("GET", "/sim/callbacks", params={"mchid": shop.mchid})
    assert sent["url"] == f"{receiver.url}/{shop.mchid}"  # the channel's own URL

    # Re-signed by the network's real key, so only the sealing is in question.
    assert notifying.notice(shop.channel, body, _signed(sim, shop, body)) == Notice(no, refund_no)
    sealed = json.loads(body)["resource"]["ciphertext"]
    flipped = bytearray(base64.b64decode(sealed))
    flipped[0] ^= 1
    for changed in (
        _resealed(body, ciphertext=base64.b64encode(bytes(flipped)).decode()),
        _resealed(body, associated_data="transaction"),
        _resealed(body, nonce="A" * 12),
    ):
        assert notifying.notice(shop.channel, changed, _signed(sim, shop, changed)) is None

    # Forged: signed by another key; changed after signing; not signed at all.
    assert notifying.notice(shop.channel, body, _signed(sim, shop, body, new_key())) is None
    changed = body.replace(b'"REFUND.SUCCESS"', b'"REFUND.CLOSED"')
    assert notifying.notice(shop.channel, changed, headers) is None
    assert notifying.notice(shop.channel, body, {}) is None
    assert notifying.notice(shop.channel, b"", headers) is None


@pytest.mark.parametrize("variant", ["v3-public_key-direct", "v3-certificate-partner"])
def test_another_merchants_channel_does_not_open_it(
    sim: RunningSim, notifying: WeChatPayNetwork, receiver: Receiver, variant: str
) -> None:
    shop = make_shop(sim, variant)
    _, _, headers, body = _called_back(sim, notifying, receiver, shop)
    stranger = make_shop(sim, variant)  # the same network keys, another APIv3 key
    assert notifying.notice(stranger.channel, body, headers) is None
    if shop.channel.sub_mch_id:
        # A sibling sub-merchant shares its provider's keys: the resource says whose.
        sibling = sim.admin("POST", f"/sim/merchants/{shop.top.mchid}/sub-merchants", json={})
        channel = Channel(
            "wechat_pay",
            shop.channel.mode,
            shop.channel.app_id,
            shop.channel.mch_id,
            sub_mch_id=sibling["mchid"],
            secrets=shop.channel.secrets,
        )
        assert notifying.notice(channel, body, headers) is None
    v2_only = make_shop(sim, "v2-MD5-direct", v3_keys=False)
    assert notifying.notice(v2_only.channel, body, headers) is None  # no keys to open it


def test_without_notify_url_no_callback_is_asked_for(
    sim: RunningSim, network: WeChatPayNetwork
) -> None:
    shop = make_shop(sim, "v3-public_key-direct")
    wallet = int(sim.wallet(10_000)["wallet_id"])
    request = pay_request(shop, sim.code(wallet), AMOUNT)
    network.pay(request)
    refund = refund_request(shop, request.trade_no, "R" + trade_no(), AMOUNT, AMOUNT)
    assert network.refund(refund).status is RefundStatus.SUCCESS
    assert sim.admin("GET", "/sim/callbacks", params={"mchid": shop.mchid}) == []


def test_the_notify_url_option() -> None:
    base = "http://127.0.0.1:8400/networks/wechat_pay/notify"
    with from_options({"notify_url": base + "/"}) as made:
        assert made.settings.notify_url == base
    assert WeChatSettings(notify_url="https://host.example.com/n").notify_url is not None
    for bad in ("http://host.example.com/n", "https://host.example.com/n?a=1", "ftp://127.0.0.1/n"):
        with pytest.raises(NetworkError) as caught:
            WeChatSettings(notify_url=bad)
        assert (caught.value.code, caught.value.field) == ("bad_network_option", "notify_url")
    with WeChatPayNetwork() as made:
        reply = made.notice_reply
    assert json.loads(reply.accepted) == {"code": "SUCCESS"}
    assert json.loads(reply.refused)["code"] == "FAIL" and reply.media_type == "application/json"
