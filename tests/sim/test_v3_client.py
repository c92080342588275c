"""The real wechatpayv3 client (2.0.4) against the simulator, changed only in its gateway
(and, in public-key mode, given the simulator's public key): code pay, query, refunds,
reverse, in both ways of verifying the network; and its checks are real ones."""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography import x509
from wechatpayv3 import WeChatPayType

from scanpay.sim.wechat.crypto import aead_decrypt
from sim.kit import RunningSim, v3_call

MODES = ["public_key", "certificate"]


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _pay(client, out_trade_no: str, total: int, code: str, **extra):
    return client.pay(
        description="Lily shop - tea",
        out_trade_no=out_trade_no,
        amount={"total": total, "currency": "CNY"},
        payer={"auth_code": code},
        scene_info={"store_info": {"out_id": "S1"}, "device_id": "POS-1"},
        pay_type=WeChatPayType.CODEPAY,  # 2.0.4 asks for notify_url unless told
        **extra,
    )


@pytest.mark.parametrize("mode", MODES)
def test_pay_query_refund_reverse(sim: RunningSim, mode: str) -> None:
    shop = sim.merchant(mode=mode)
    wallet = sim.wallet(50_000)
    client = sim.client(shop)
    no = _no()

    status, text = _pay(client, no, 1234, sim.code(wallet["wallet_id"]))
    paid = json.loads(text)
    assert status == 200
    assert paid["trade_state"] == "SUCCESS" and paid["trade_type"] == "MICROPAY"
    assert paid["amount"] == {
        "total": 1234,
        "currency": "CNY",
        "payer_total": 1234,
        "payer_currency": "CNY",
    }
    assert paid["mchid"] == shop.mchid and paid["out_trade_no"] == no
    assert len(paid["transaction_id"]) == 28 and paid["payer"]["openid"]
    assert sim.balance(wallet["wallet_id"]) == 50_000 - 1234
    assert sim.merchant_balance(shop.mchid) == 1234

    status, text = client.query(out_trade_no=no)
    assert status == 200 and json.loads(text)["trade_state"] == "SUCCESS"
    status, text = client.query(transaction_id=paid["transaction_id"])
    assert status == 200 and json.loads(text)["out_trade_no"] == no

    status, text = client.refund(
        out_refund_no="R" + no,
        amount={"refund": 234, "total": 1234, "currency": "CNY"},
        out_trade_no=no,
        reason="chipped cup",
    )
    refund = json.loads(text)
    assert status == 200 and refund["status"] == "SUCCESS"
    assert refund["amount"]["refund"] == 234 and refund["amount"]["total"] == 1234
    status, text = client.query_refund(out_refund_no="R" + no)
    assert status == 200 and json.loads(text)["refund_id"] == refund["refund_id"]
    status, text = client.query(out_trade_no=no)
    assert json.loads(text)["trade_state"] == "REFUND"
    assert sim.balance(wallet["wallet_id"]) == 50_000 - 1000

    status, text = client.codepay_reverse(out_trade_no=no)
    assert status == 204 and text == b""
    status, text = client.query(out_trade_no=no)
    assert json.loads(text)["trade_state"] == "REVOKED"
    assert sim.balance(wallet["wallet_id"]) == 50_000
    assert sim.merchant_balance(shop.mchid) == 0
    sim.books_balance()


@pytest.mark.parametrize("mode", MODES)
def test_a_reply_signed_with_another_key_fails_the_clients_check(
    sim: RunningSim, mode: str
) -> None:
    shop = sim.merchant(mode=mode)
    wallet = sim.wallet(10_000)
    client = sim.client(shop)
    no = _no()
    status, _ = _pay(client, no, 100, sim.code(wallet["wallet_id"]))
    assert status == 200  # a good signature passes: the check below is not always failing

    with pytest.raises(Exception, match="failed to verify the signature"):
        v3_call(
            client,
            "GET",
            f"/v3/pay/transactions/out-trade-no/{no}?mchid={shop.mchid}",
            outcome="WRONG_SIGNATURE",
        )
    # The same, for a merchant whose replies are all badly signed.
    sim.admin("PATCH", f"/sim/merchants/{shop.mchid}", json={"wrong_key": True})
    with pytest.raises(Exception, match="failed to verify the signature"):
        client.query(out_trade_no=no)
    sim.admin("PATCH", f"/sim/merchants/{shop.mchid}", json={"wrong_key": False})
    assert client.query(out_trade_no=no)[0] == 200
    # The code's outcome: charged, and the reply does not pass.
    with pytest.raises(Exception, match="failed to verify the signature"):
        _pay(client, _no(), 100, sim.code(wallet["wallet_id"], "WRONG_SIGNATURE"))
    assert sim.balance(wallet["wallet_id"]) == 10_000 - 200


def test_a_certificate_client_breaks_on_a_public_key_merchant(sim: RunningSim) -> None:
    """The move to the WeChat Pay public key is what broke most integrations: a client
    still verifying with platform certificates cannot check a reply signed with the key."""
    shop = sim.merchant(mode="public_key")
    wallet = sim.wallet(10_000)
    client = sim.client(shop, mode="certificate")
    with pytest.raises(ValueError):  # 2.0.4 reads the PUB_KEY_ID_ serial as hex
        _pay(client, _no(), 100, sim.code(wallet["wallet_id"]))
    # The merchant's replies switched to certificates: the same client works.
    sim.admin("PATCH", f"/sim/merchants/{shop.mchid}", json={"mode": "certificate"})
    status, _ = _pay(client, _no(), 100, sim.code(wallet["wallet_id"]))
    assert status == 200


def test_a_bad_request_signature_gets_sign_error(sim: RunningSim) -> None:
    shop = sim.merchant()
    other = sim.merchant()
    wallet = sim.wallet(10_000)
    # Signed with another merchant's private key under this merchant's serial.
    forged = sim.client(shop)
    forged._core._private_key = sim.client(other)._core._private_key
    status, text = _pay(forged, _no(), 100, sim.code(wallet["wallet_id"]))
    assert status == 401
    assert json.loads(text)["code"] == "SIGN_ERROR"
    # A serial that is not the merchant's certificate.
    wrong_serial = sim.client(shop)
    wrong_serial._core._cert_serial_no = other.data["client_serial"]
    status, text = wrong_serial.query(out_trade_no="X1")
    assert status == 401 and json.loads(text)["code"] == "SIGN_ERROR"
    # No Authorization at all.
    response = sim.http.get(f"{sim.url}/v3/pay/transactions/out-trade-no/X1?mchid={shop.mchid}")
    assert response.status_code == 401 and response.json()["code"] == "SIGN_ERROR"
    assert sim.balance(wallet["wallet_id"]) == 10_000


def test_a_body_changed_after_signing_gets_sign_error(sim: RunningSim) -> None:
    shop = sim.merchant()
    client = sim.client(shop)
    from wechatpayv3.utils import build_authorization

    signed = {"appid": shop.appid, "mchid": shop.mchid}
    auth = build_authorization(
        "/v3/pay/transactions/out-trade-no/X2/reverse",
        "POST",
        shop.mchid,
        shop.data["client_serial"],
        client._core._private_key,
        data=signed,
    )
    sent = json.dumps({**signed, "appid": "wx0000000000000000"})
    response = sim.http.post(
        f"{sim.url}/v3/pay/transactions/out-trade-no/X2/reverse",
        content=sent,
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 401 and response.json()["code"] == "SIGN_ERROR"


def test_certificates_are_sealed_with_the_merchants_apiv3_key(sim: RunningSim) -> None:
    shop = sim.merchant(mode="certificate")
    other = sim.merchant()
    client = sim.client(shop)
    status, text = client._core.request("/v3/certificates")
    assert status == 200
    (entry,) = json.loads(text)["data"]
    sealed = entry["encrypt_certificate"]
    assert sealed["algorithm"] == "AEAD_AES_256_GCM" and sealed["associated_data"] == "certificate"
    pem = aead_decrypt(
        shop.data["api_v3_key"], sealed["nonce"], sealed["ciphertext"], "certificate"
    )
    assert pem is not None
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert f"{certificate.serial_number:040X}" == entry["serial_no"]
    assert entry["serial_no"] == shop.data["platform"]["certificate_serial"]
    assert (
        aead_decrypt(other.data["api_v3_key"], sealed["nonce"], sealed["ciphertext"], "certificate")
        is None
    )
    # The client's own loader takes it (this is what it does on an unknown serial).
    client._core._update_certificates()
    assert [c.serial_number for c in client._core._certificates] == [certificate.serial_number]


@pytest.mark.parametrize("mode", MODES)
def test_partner_form(sim: RunningSim, mode: str) -> None:
    provider = sim.merchant(kind="partner", mode=mode)
    sub = sim.admin("POST", f"/sim/merchants/{provider.mchid}/sub-merchants", json={})
    stranger = sim.merchant(kind="partner")
    stranger_sub = sim.admin("POST", f"/sim/merchants/{stranger.mchid}/sub-merchants", json={})
    wallet = sim.wallet(10_000)
    client = sim.client(provider)
    no = _no()
    status, text = _pay(client, no, 500, sim.code(wallet["wallet_id"]), sub_mchid=sub["mchid"])
    paid = json.loads(text)
    assert status == 200
    assert paid["sp_mchid"] == provider.mchid and paid["sub_mchid"] == sub["mchid"]
    assert "sub_openid" in paid["payer"]
    assert sim.merchant_balance(sub["mchid"]) == 500 and sim.merchant_balance(provider.mchid) == 0

    status, text = client.query(out_trade_no=no, sub_mchid=sub["mchid"])
    assert status == 200 and json.loads(text)["trade_state"] == "SUCCESS"
    # Another provider's sub-merchant is not this provider's to name.
    status, text = client.query(out_trade_no=no, sub_mchid=stranger_sub["mchid"])
    assert status == 400 and json.loads(text)["code"] == "INVALID_REQUEST"

    status, text = client.refund(
        out_refund_no="R" + no,
        amount={"refund": 100, "total": 500, "currency": "CNY"},
        out_trade_no=no,
        sub_mchid=sub["mchid"],
    )
    assert status == 200 and json.loads(text)["status"] == "SUCCESS"
    status, _ = client.query_refund(out_refund_no="R" + no, sub_mchid=sub["mchid"])
    assert status == 200
    status, _ = client.codepay_reverse(out_trade_no=no, sub_mchid=sub["mchid"])
    assert status == 204
    assert sim.balance(wallet["wallet_id"]) == 10_000
    assert sim.merchant_balance(sub["mchid"]) == 0


def test_a_direct_merchant_cannot_use_the_partner_form(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(10_000)
    client = sim.client(shop)
    status, text = v3_call(
        client,
        "POST",
        "/v3/pay/partner/transactions/codepay",
        {
            "sp_appid": shop.appid,
            "sp_mchid": shop.mchid,
            "sub_mchid": "1600000000",
            "description": "x",
            "out_trade_no": _no(),
            "payer": {"auth_code": sim.code(wallet["wallet_id"])},
            "amount": {"total": 1},
            "scene_info": {},
        },
    )
    assert status == 403 and text["code"] == "NO_AUTH"
