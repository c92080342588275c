"""Signatures both ways (the adapter's ``acp`` is the published rule): requests checked
with the merchant's certificate found by ``certId``, replies signed under the
simulator's chain with the CN a client expects; format errors; payment codes."""

from __future__ import annotations

import uuid

import pytest
from cryptography import x509

from scanpay.networks.unionpay.acp import SIGN_CERT, Untrusted, signer_entity
from scanpay.sim.common.keys import new_key
from scanpay.sim.unionpay.orders import valid_code
from sim.unionpay.kit import BACK_PATH, QUERY_PATH, Merchant, RunningSim


@pytest.fixture
def shop(sim: RunningSim) -> Merchant:
    return sim.merchant()


def _query(order_id: str = "NOSUCHORDER1") -> dict[str, str]:
    return {"txnType": "00", "txnSubType": "00", "orderId": order_id, "txnTime": "20261208101500"}


def test_a_reply_is_signed_under_the_chain_the_merchant_was_given(
    sim: RunningSim, shop: Merchant
) -> None:
    reply = sim.call(shop, QUERY_PATH, _query())  # verified by the kit with acp
    assert reply["respCode"] == "34" and reply["signMethod"] == "01"
    cert = x509.load_pem_x509_certificate(reply[SIGN_CERT].encode())
    assert cert.subject.rfc4514_string().startswith("CN=041@x@")
    assert signer_entity(cert) == shop.expected_cn
    with pytest.raises(Untrusted):
        shop.verify({**reply, "respCode": "00"})  # a changed field no longer verifies


def test_the_merchants_certificate_is_issued_under_the_simulators_middle(
    shop: Merchant,
) -> None:
    cert = x509.load_pem_x509_certificate(shop.data["sign_cert"].encode())
    cert.verify_directly_issued_by(shop.middle)
    shop.middle.verify_directly_issued_by(shop.root)
    assert shop.data["cert_id"] == str(cert.serial_number)


@pytest.mark.parametrize("case", ["stranger's key", "tampered", "another certId"])
def test_a_forged_request_is_refused_with_11(sim: RunningSim, shop: Merchant, case: str) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    code = sim.code(wallet)
    fields = {
        "txnType": "01",
        "txnSubType": "06",
        "channelType": "08",
        "orderId": "T" + uuid.uuid4().hex[:20],
        "txnTime": sim.txn_time(),
        "txnAmt": "500",
        "currencyCode": "156",
        "backUrl": "http://127.0.0.1:9/back",
        "qrNo": code,
    }
    other = sim.merchant()
    how: dict[str, object] = {
        "stranger's key": {"key": new_key()},
        "tampered": {"tamper": {"txnAmt": "1"}},
        "another certId": {"tamper": {"certId": other.cert_id}},
    }[case]
    reply = sim.call(shop, BACK_PATH, fields, **how)  # type: ignore[arg-type]
    assert reply["respCode"] == "11", reply
    assert sim.balance(wallet) == 10_000
    assert sim.consume(shop, fields["orderId"], code, 500)["respCode"] == "00"  # code unused


def test_format_errors(sim: RunningSim, shop: Merchant) -> None:
    assert sim.call(shop, QUERY_PATH, {**_query(), "txnTime": "2026"})["respCode"] == "10"
    assert sim.call(shop, QUERY_PATH, {**_query(), "orderId": "short"})["respCode"] == "10"
    assert sim.call(shop, QUERY_PATH, {**_query(), "version": "5.0.0"})["respCode"] == "10"
    assert sim.call(shop, QUERY_PATH, {**_query(), "txnType": "01"})["respCode"] == "10"
    unknown = {**shop.data, "mer_id": "777000000000000"}
    assert sim.call(Merchant(unknown), QUERY_PATH, _query())["respCode"] == "31"
    wallet = sim.wallet(1_000)["wallet_id"]
    order = "T" + uuid.uuid4().hex[:20]
    assert sim.consume(shop, order, sim.code(wallet), 0)["respCode"] == "10"
    assert sim.consume(shop, order, sim.code(wallet), 10, currencyCode="840")["respCode"] == "10"


def test_a_wrong_signature_fails_the_clients_check(sim: RunningSim, shop: Merchant) -> None:
    headers = {"UnionPay-Sim-Outcome": "WRONG_SIGNATURE"}
    reply = sim.call(shop, QUERY_PATH, _query(), headers=headers, verify=False)
    with pytest.raises(Untrusted):
        shop.verify(reply)


def test_codes_are_19_digits_62_single_use_and_short_lived(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(10_000)["wallet_id"]
    codes = {sim.code(wallet) for _ in range(20)}
    assert len(codes) == 20
    assert all(len(c) == 19 and c.startswith("62") and c.isdigit() for c in codes)
    assert all(valid_code(c) for c in codes) and not valid_code("6" * 19)
    code = codes.pop()
    assert sim.consume(shop, "T" + uuid.uuid4().hex[:20], code, 100)["respCode"] == "00"
    assert sim.consume(shop, "T" + uuid.uuid4().hex[:20], code, 100)["respCode"] == "86"
    late = codes.pop()
    sim.clock.advance(61)
    assert sim.consume(shop, "T" + uuid.uuid4().hex[:20], late, 100)["respCode"] == "80"
    unknown = "62" + "0" * 17
    assert sim.consume(shop, "T" + uuid.uuid4().hex[:20], unknown, 100)["respCode"] == "88"
    assert sim.balance(wallet) == 9_900
    with sim.store.transaction():  # kept as hashes only
        row = sim.store._row("SELECT COUNT(*) FROM codes WHERE hash = ?", code)
    assert row is not None and row[0] == 0


def test_an_unknown_outcome_is_refused(sim: RunningSim) -> None:
    wallet = sim.wallet(10)["wallet_id"]
    response = sim.http.post(
        f"{sim.url}/sim/wallets/{wallet}/codes", json={"outcome": "DECLINE", "resp_code": "12"}
    )
    assert response.status_code == 400 and response.json()["error"]["field"] == "outcome"
