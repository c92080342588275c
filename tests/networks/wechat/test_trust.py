"""What the adapter believes: only replies the network signed. A reply signed with the
wrong key, an unsigned decline, a 5xx, a reset, a refused connection: all UNKNOWN, and
nothing raises. And nothing it logs shows a key or a whole payment code."""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from networks.wechat.kit import ALL, SOME, Shop, adapter, make_shop, pay_request, refund_request
from scanpay.codes.mask import mask_text
from scanpay.networks import (
    Outcome,
    RefundStatus,
    ReverseOutcome,
    TradeState,
)
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim, free_socket

AMOUNT = 500


@pytest.mark.parametrize("variant", ALL)
def test_replies_signed_with_the_wrong_key_are_not_believed(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    # The code's outcome: charged, the reply signed with another key.
    charged = pay_request(shop, sim.code(wallet, "WRONG_SIGNATURE"), AMOUNT)
    answer = network.pay(charged)
    assert answer.outcome is Outcome.UNKNOWN and answer.result_code == "91"
    assert network.query(shop.channel, charged.trade_no).state is TradeState.PAID

    # Every reply to the merchant badly signed: a decline is not believed either.
    sim.admin("PATCH", f"/sim/merchants/{shop.top.mchid}", json={"wrong_key": True})
    try:
        paid = pay_request(shop, sim.code(wallet), AMOUNT)
        assert network.pay(paid).outcome is Outcome.UNKNOWN
        declined = network.pay(pay_request(shop, sim.code(wallet, "NOTENOUGH"), AMOUNT))
        assert declined.outcome is Outcome.UNKNOWN
        assert network.query(shop.channel, paid.trade_no).state is TradeState.UNKNOWN
        assert network.reverse(shop.channel, paid.trade_no).unknown
        refund = refund_request(shop, paid.trade_no, "R" + paid.trade_no, 100, AMOUNT)
        assert network.refund(refund).status is RefundStatus.UNKNOWN
    finally:
        sim.admin("PATCH", f"/sim/merchants/{shop.top.mchid}", json={"wrong_key": False})
    # The network did what it was asked: the badly signed answers were true, but unproven.
    assert network.query(shop.channel, paid.trade_no).state is TradeState.REVERSED
    assert network.refund_query(shop.channel, "R" + paid.trade_no).status is RefundStatus.UNKNOWN
    assert sim.balance(wallet) == 10_000 - AMOUNT


def test_a_channel_in_certificate_mode_meets_a_public_key_merchant(
    sim: RunningSim, network: WeChatPayNetwork
) -> None:
    """WeChat Pay's move to the public key broke most integrations: the adapter does not
    break, it answers UNKNOWN (the reply cannot be verified) until the channel has the key;
    with both keys it verifies either."""
    shop = make_shop(sim, "v3-public_key-direct")
    wallet = int(sim.wallet(10_000)["wallet_id"])
    certificate_only = {
        k: v for k, v in shop.channel.secrets.items() if not k.startswith("wechatpay_public")
    }
    stale = replace(shop.channel, secrets=certificate_only)
    request = pay_request(replace(shop, channel=stale), sim.code(wallet), AMOUNT)
    assert network.pay(request).outcome is Outcome.UNKNOWN
    assert network.query(shop.channel, request.trade_no).state is TradeState.PAID
    # Both keys: the public key's replies, and (after the merchant switches back) the
    # certificate's, are verified.
    assert network.query(shop.channel, request.trade_no).state is TradeState.PAID
    sim.admin("PATCH", f"/sim/merchants/{shop.top.mchid}", json={"mode": "certificate"})
    assert network.query(shop.channel, request.trade_no).state is TradeState.PAID
    assert network.query(stale, request.trade_no).state is TradeState.PAID


def test_a_platform_certificate_given_with_the_channel(
    sim: RunningSim, network: WeChatPayNetwork
) -> None:
    shop = make_shop(sim, "v3-certificate-direct")
    secrets = {
        **shop.channel.secrets,
        "platform_certificate": sim.admin("GET", "/sim/platform")["certificate"],
    }
    seeded = replace(shop, channel=replace(shop.channel, secrets=secrets))
    wallet = int(sim.wallet(10_000)["wallet_id"])
    assert network.pay(pay_request(seeded, sim.code(wallet), AMOUNT)).outcome is Outcome.APPROVED


# ------------------------------------------------------------ a network that misbehaves

_V3_DECLINE = json.dumps({"code": "NOTENOUGH", "message": "余额不足"}).encode()
_V3_PAID = json.dumps({"trade_state": "SUCCESS", "out_trade_no": "X"}).encode()
_V2_DECLINE = (
    b"<xml><return_code>SUCCESS</return_code><result_code>FAIL</result_code>"
    b"<err_code>NOTENOUGH</err_code></xml>"
)
_V2_FAIL = "<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>".encode()

# name -> (status, content type, body); "reset": the connection is reset, nothing sent.
CANNED: dict[str, tuple[int, str, bytes]] = {
    "502": (502, "text/html", b"<html>Bad Gateway</html>"),
    "unsigned decline": (403, "application/json", _V3_DECLINE),
    "unsigned success": (200, "application/json", _V3_PAID),
    "v2 unsigned decline": (200, "text/xml", _V2_DECLINE),
    "v2 return FAIL": (200, "text/xml", _V2_FAIL),
    "garbage": (200, "application/json", b"{not json"),
    "reset": (0, "", b""),
}


@contextmanager
def _misbehaving(kind: str) -> Iterator[str]:
    status, media, body = CANNED[kind]

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if kind == "reset":
                # SO_LINGER 0: close with a TCP reset, not a byte of reply.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def _everything_unknown(network: WeChatPayNetwork, shop: Shop, code: str) -> None:
    request = pay_request(shop, code, AMOUNT)
    assert network.pay(request).outcome is Outcome.UNKNOWN
    assert network.query(shop.channel, request.trade_no).state is TradeState.UNKNOWN
    assert network.reverse(shop.channel, request.trade_no).outcome is ReverseOutcome.UNKNOWN
    refund = refund_request(shop, request.trade_no, "R" + request.trade_no, 100, AMOUNT)
    assert network.refund(refund).status is RefundStatus.UNKNOWN
    assert network.refund_query(shop.channel, refund.refund_no).status is RefundStatus.UNKNOWN
    assert not network.statement(shop.channel, date(2031, 8, 1)).ready


@pytest.mark.parametrize("kind", sorted(CANNED))
@pytest.mark.parametrize("variant", SOME)
def test_what_is_not_a_signed_reply_is_unknown(sim: RunningSim, variant: str, kind: str) -> None:
    shop = make_shop(sim, variant)
    with _misbehaving(kind) as url, adapter(url) as network:
        _everything_unknown(network, shop, "134567890123456789")


@pytest.mark.parametrize("variant", SOME)
def test_a_network_that_does_not_answer(sim: RunningSim, variant: str) -> None:
    shop = make_shop(sim, variant)
    closed = free_socket()  # bound, never listening: the connection is refused
    try:
        with adapter(f"http://127.0.0.1:{closed.getsockname()[1]}") as network:
            _everything_unknown(network, shop, "134567890123456789")
    finally:
        closed.close()


def test_v2_return_fail_says_why(sim: RunningSim) -> None:
    shop = make_shop(sim, "v2-MD5-direct")
    with _misbehaving("v2 return FAIL") as url, adapter(url) as network:
        answer = network.pay(pay_request(shop, "134567890123456789", AMOUNT))
    assert answer.outcome is Outcome.UNKNOWN and "签名错误" in answer.message.zh_cn


# ------------------------------------------------------------------- logs and threads


@pytest.mark.parametrize("variant", ["v3-certificate-partner", "v2-HMAC-SHA256-direct"])
def test_logs_show_no_key_and_no_whole_code(
    sim: RunningSim, network: WeChatPayNetwork, variant: str, caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(10_000)["wallet_id"])
    code = sim.code(wallet)
    with caplog.at_level(logging.DEBUG):
        request = pay_request(shop, code, AMOUNT)
        network.pay(request)
        network.pay(pay_request(shop, sim.code(wallet, "WRONG_SIGNATURE"), AMOUNT))
        network.query(shop.channel, request.trade_no)
        network.reverse(shop.channel, request.trade_no)
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert mask_text(code) in text
    assert code not in text
    for name, value in shop.channel.secrets.items():
        if name not in ("api", "sign_type", "cert_serial", "wechatpay_public_key_id"):
            for line in value.splitlines():
                if len(line) > 12:
                    assert line not in text, name


@pytest.mark.parametrize("variant", ["v3-certificate-partner", "v2-MD5-partner"])
def test_one_client_serves_many_threads(sim: RunningSim, variant: str) -> None:
    """One adapter, fresh (so the certificate mode's first fetch races too), paying from
    eight threads at once for two sub-merchants of one service provider."""
    shop = make_shop(sim, variant)
    sub = sim.admin("POST", f"/sim/merchants/{shop.top.mchid}/sub-merchants", json={})
    other = replace(shop, channel=replace(shop.channel, sub_mch_id=sub["mchid"]))
    wallet = int(sim.wallet(100_000)["wallet_id"])
    requests = [pay_request((shop, other)[n % 2], sim.code(wallet), AMOUNT) for n in range(8)]
    with adapter(sim.url) as network, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(network.pay, requests))
    assert all(a.outcome is Outcome.APPROVED for a in answers), answers
    assert sim.balance(wallet) == 100_000 - 8 * AMOUNT
    assert sim.merchant_balance(shop.mchid) == sim.merchant_balance(sub["mchid"]) == 4 * AMOUNT
