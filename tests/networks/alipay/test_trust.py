"""What the adapter sends and what it believes. Its requests verify with the package's
own check under the app's public key; of the replies it takes only those Alipay's key
signed: a reply signed with another key, an unsigned one, a 5xx, a timeout, a refused
connection are all UNKNOWN, and nothing raises. Nothing it logs shows a key or a whole
payment code."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from alipay import AliPay
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from networks.alipay.kit import PID, SUB_PID, channel, gateway, network, pki
from scanpay.codes.mask import mask_text
from scanpay.networks import Outcome, PayRequest, RefundRequest, RefundStatus, TradeState
from scanpay.networks.alipay.config import BEIJING
from sim.kit import free_socket

CODE = "281234567890123456"
PAID = {
    "code": "10000",
    "msg": "Success",
    "out_trade_no": "T1",
    "trade_no": "2026120822001400001",
    "total_amount": "12.30",
    "buyer_logon_id": "buy***@example.com",
}


def _pay(mode: str = "public_key", partner: bool = False) -> PayRequest:
    return PayRequest(
        channel(mode, partner=partner), "T1", CODE, 1230, "CNY", "Lily's tea {}", store_id="S1"
    )


def _package_verifies(form: dict[str, str]) -> bool:
    """The request as Alipay checks it, with the package's own code: every parameter but
    ``sign``, sorted, under the app's public key."""
    p = pki()
    checker = AliPay(
        appid="x",
        app_private_key_string=p.app_private_pem,
        alipay_public_key_string=p.app_public_pem,  # Alipay holds the app's public key
    )
    unsigned = {k: v for k, v in form.items() if k != "sign"}
    message = "&".join(f"{k}={v}" for k, v in sorted(unsigned.items()))
    return bool(checker._verify(message, form["sign"]))


@pytest.mark.parametrize("mode", ["public_key", "certificate"])
@pytest.mark.parametrize("partner", [False, True])
def test_a_signed_request_and_a_verified_reply(mode: str, partner: bool) -> None:
    with gateway() as gw, network(gw.url) as made:
        gw.replying(PAID)
        answer = made.pay(_pay(mode, partner))
        assert (answer.outcome, answer.result_code) == (Outcome.APPROVED, "00")
        assert answer.transaction_id == "2026120822001400001"
    (form,) = gw.received
    assert _package_verifies(form)
    # And with another implementation of RSA2 than the package's.
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k != "sign")
    pki().app_key.public_key().verify(
        base64.b64decode(form["sign"]), unsigned.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert not _package_verifies({**form, "method": "alipay.trade.refund"})
    assert (form["method"], form["sign_type"], form["charset"]) == (
        "alipay.trade.pay",
        "RSA2",
        "utf-8",
    )
    biz = json.loads(form["biz_content"])
    assert biz["out_trade_no"] == "T1" and biz["auth_code"] == CODE
    assert (biz["scene"], biz["total_amount"], biz["store_id"]) == ("bar_code", "12.30", "S1")
    assert biz["subject"] == "Lily's tea {}"
    sent_at = datetime.strptime(form["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    assert abs(sent_at - datetime.now(BEIJING)) < timedelta(minutes=10)  # Beijing time
    assert ("app_cert_sn" in form and "alipay_root_cert_sn" in form) == (mode == "certificate")
    assert ("app_auth_token" in form) == partner
    assert biz.get("seller_id") == (SUB_PID if partner else None)
    assert PID not in form.get("app_auth_token", "")


def test_the_notify_url_goes_with_the_pay_call_only() -> None:
    notify = "https://shop.example.com/alipay/notify"
    with gateway() as gw, network(gw.url, notify_url=notify) as made:
        gw.replying(PAID)
        made.pay(_pay())
        made.query(channel(), "T1")
    pay, query = gw.received
    assert pay["notify_url"] == notify and "notify_url" not in query
    assert _package_verifies(pay)


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("stranger", Outcome.UNKNOWN),  # signed, by a key the channel does not trust
        ("unsigned", Outcome.UNKNOWN),
        ("tampered", Outcome.UNKNOWN),  # the node changed after signing
        ("empty sign", Outcome.UNKNOWN),
        ("not json", Outcome.UNKNOWN),
        ("json list", Outcome.UNKNOWN),
        ("other member", Outcome.UNKNOWN),
        ("500", Outcome.UNKNOWN),
        ("302", Outcome.UNKNOWN),
        ("signed", Outcome.DECLINED),
    ],
)
def test_only_what_alipay_signed_is_believed(reply: str, outcome: Outcome) -> None:
    declined = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": "ACQ.BUYER_BALANCE_NOT_ENOUGH",
        "sub_msg": "买家余额不足 {see}",
    }
    p = pki()
    body = json.dumps(declined, ensure_ascii=False, separators=(",", ":"))
    signature = base64.b64encode(
        p.alipay_key.sign(body.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    texts: dict[str, tuple[int, str]] = {
        "stranger": (200, ""),
        "unsigned": (200, '{"alipay_trade_pay_response":' + body + "}"),
        "tampered": (
            200,
            '{"alipay_trade_pay_response":'
            + body.replace("BUYER_BALANCE", "SELLER_BALANCE")
            + f',"sign":"{signature}"}}',
        ),
        "empty sign": (200, '{"alipay_trade_pay_response":' + body + ',"sign":""}'),
        "not json": (200, "<html>busy</html>"),
        "json list": (200, "[1, 2]"),
        "other member": (
            200,
            '{"alipay_trade_query_response":' + body + f',"sign":"{signature}"}}',
        ),
        "500": (500, '{"alipay_trade_pay_response":' + body + f',"sign":"{signature}"}}'),
        "302": (302, ""),
        "signed": (
            200,
            '{"alipay_trade_pay_response":'
            + body
            + f',"alipay_cert_sn":"x","sign":"{signature}"}}',
        ),
    }
    with gateway() as gw, network(gw.url) as made:
        status, text = texts[reply]
        gw.answer = lambda form: (status, text.encode())
        if reply == "stranger":
            gw.replying(declined, p.stranger_key)
        answer = made.pay(_pay())
    assert answer.outcome is outcome
    if outcome is Outcome.UNKNOWN:
        assert answer.result_code == "91"
    else:
        assert answer.result_code == "51" and answer.network_code == "ACQ.BUYER_BALANCE_NOT_ENOUGH"


def test_a_stranger_signature_settles_nothing_anywhere() -> None:
    p = pki()
    with gateway() as gw, network(gw.url) as made:
        gw.replying({**PAID, "trade_status": "TRADE_SUCCESS"}, p.stranger_key)
        ch = channel("certificate")
        assert made.pay(_pay("certificate")).outcome is Outcome.UNKNOWN
        assert made.query(ch, "T1").state is TradeState.UNKNOWN
        gw.replying({"code": "10000", "retry_flag": "N", "action": "close"}, p.stranger_key)
        assert made.reverse(ch, "T1").unknown
        gw.replying({"code": "10000", "fund_change": "Y"}, p.stranger_key)
        refund = RefundRequest(ch, "T1", "R1", 100, 1230, "CNY")
        assert made.refund(refund).status is RefundStatus.UNKNOWN
        assert made.refund_query(ch, "R1").status is RefundStatus.UNKNOWN
        gw.replying({"code": "10000", "bill_download_url": gw.url}, p.stranger_key)
        assert not made.statement(ch, datetime.now(BEIJING).date()).ready


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, Outcome.APPROVED),
        ({"out_trade_no": "T2"}, Outcome.UNKNOWN),  # another trade's answer
        ({"out_trade_no": None}, Outcome.UNKNOWN),
        ({"total_amount": "12.31"}, Outcome.UNKNOWN),  # paid, not as asked
        ({"total_amount": "twelve"}, Outcome.UNKNOWN),
        ({"code": "10003", "total_amount": None}, Outcome.USER_PAYING),
        ({"code": "10003", "out_trade_no": "T2"}, Outcome.UNKNOWN),
    ],
)
def test_an_approval_is_for_this_trade_and_amount(
    changes: dict[str, Any], outcome: Outcome
) -> None:
    node = {k: v for k, v in {**PAID, **changes}.items() if v is not None}
    with gateway() as gw, network(gw.url) as made:
        gw.replying(node)
        assert made.pay(_pay()).outcome is outcome


def test_an_error_response_alipay_signed_is_a_configuration_decline() -> None:
    node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"}
    with gateway() as gw, network(gw.url) as made:
        gw.answer = lambda form: (200, _error_response(node, signed=True))
        answer = made.pay(_pay())
        assert (answer.outcome, answer.result_code) == (Outcome.DECLINED, "58")
        assert answer.network_code == "isv.invalid-signature"
        # Unsigned (Alipay does not sign for an app it does not know): not believed.
        gw.answer = lambda form: (200, _error_response(node, signed=False))
        assert made.pay(_pay()).outcome is Outcome.UNKNOWN


def _error_response(node: dict[str, Any], *, signed: bool) -> bytes:
    body = json.dumps(node, separators=(",", ":"))
    text = '{"error_response":' + body
    if signed:
        raw = pki().alipay_key.sign(body.encode(), padding.PKCS1v15(), hashes.SHA256())
        text += ',"sign":"' + base64.b64encode(raw).decode() + '"'
    return (text + "}").encode()


def test_a_gateway_that_does_not_answer_in_time() -> None:
    with gateway() as gw, network(gw.url, pay=1.0) as made:
        gw.hold.set()  # the first call gets no reply until the test ends
        assert made.pay(_pay()).outcome is Outcome.UNKNOWN
        assert len(gw.received) == 1


def test_a_gateway_that_is_not_there(caplog: pytest.LogCaptureFixture) -> None:
    closed = free_socket()  # bound, never listening: the connection is refused
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/gateway.do"
    ch = channel()
    caplog.set_level(logging.DEBUG)
    try:
        with network(url) as made:
            assert made.pay(_pay()).outcome is Outcome.UNKNOWN
            assert made.query(ch, "T1").state is TradeState.UNKNOWN
            assert made.reverse(ch, "T1").unknown
            refund = made.refund(RefundRequest(ch, "T1", "R1", 100, 1230, "CNY"))
            assert refund.status is RefundStatus.UNKNOWN
            assert made.refund_query(ch, "R1", "T1").status is RefundStatus.UNKNOWN
            assert not made.statement(ch, datetime.now(BEIJING).date()).ready
    finally:
        closed.close()
    logged = caplog.text
    assert mask_text(CODE) in logged and CODE not in logged
    assert "PRIVATE KEY" not in logged and "BEGIN" not in logged
