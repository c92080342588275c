"""ACP 5.1.0 signing vectors (checked once against openssl: ``sha256sum`` of the text,
then ``openssl dgst -sha256 -sign`` over the hex digest), and what makes a reply
believable: the chain, the CN, the signature, the time."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from networks.unionpay.kit import pem, pki, signed
from networks.unionpay.vector_key import VECTOR_KEY
from scanpay.networks.unionpay.acp import (
    SIGN_CERT,
    Untrusted,
    digest,
    parse_reply,
    reply_text,
    sign,
    sign_fields,
    signed_text,
    signer_entity,
    verify_fields,
)
from scanpay.networks.unionpay.config import UNIONPAY_CN

FIELDS = {
    "version": "5.1.0",
    "encoding": "UTF-8",
    "signMethod": "01",
    "certId": "68759529225",
    "txnType": "01",
    "txnSubType": "06",
    "bizType": "000000",
    "channelType": "08",
    "accessType": "0",
    "merId": "777290058110048",
    "orderId": "20261208101500T0001",
    "txnTime": "20261208101500",
    "txnAmt": "1230",
    "currencyCode": "156",
    "backUrl": "https://shop.example.com/unionpay/back",
    "qrNo": "6220000000000000012",
}
TEXT = (
    "accessType=0&backUrl=https://shop.example.com/unionpay/back&bizType=000000"
    "&certId=68759529225&channelType=08&currencyCode=156&encoding=UTF-8"
    "&merId=777290058110048&orderId=20261208101500T0001&qrNo=6220000000000000012"
    "&signMethod=01&txnAmt=1230&txnSubType=06&txnTime=20261208101500&txnType=01&version=5.1.0"
)
DIGEST = "709d22daa6459dc60a762978972b73e2d9f44dc92b1948350de97d904a14c363"
SIGNATURE = (
    "IQogWmRutHyZFKRXSt006iMuPpIJ1kZn8aAwMSCjtK7iize0v8J5guG4m07wF8s5p5VSRqySbYDDwjmeAhgFa4bZ"
    "dBCrkfP9X9AWjDDRhugx3JzGV2sHldFc8y7h7fPN5DfmPG408DZ0bN3QZYIORzpVWRHPj4GBn7xv4l2ytsl4zifj"
    "TnJfq6fUgFgg1n0o7lt3+LVWYlhwl89BGlxL2a2/dgrlMkc7Ypybp7XhWlrNoAmHKRgyhuDX0pkMq72EZZ3BFeL7"
    "OcmOBYdcTKXCk8TWETFO3ijLq3QAIwhryOCIJJhA1Z6mi9MtU5I/WpwxAmJaz5FyJhifHFYLQDdq9w=="
)


def _vector_key() -> RSAPrivateKey:
    key = serialization.load_pem_private_key(VECTOR_KEY.encode(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def test_the_signing_vector() -> None:
    assert signed_text(FIELDS) == TEXT
    assert digest(FIELDS) == DIGEST
    assert sign(FIELDS, _vector_key()) == SIGNATURE
    # What is signed is the hex digest's 64 ASCII bytes, with SHA-256 and PKCS#1 v1.5.
    _vector_key().public_key().verify(
        base64.b64decode(SIGNATURE), DIGEST.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    # The signature field itself is never part of the text; a changed field changes it.
    assert signed_text({**FIELDS, "signature": "x"}) == TEXT
    assert digest({**FIELDS, "txnAmt": "1231"}) != DIGEST
    assert sign_fields(FIELDS, _vector_key())["signature"] == SIGNATURE


def test_utf8_and_empty_values_are_signed_as_they_are() -> None:
    fields = {"respMsg": "成功[0000000]", "b": "", "a": "x=y"}
    assert signed_text(fields) == "a=x=y&b=&respMsg=成功[0000000]"


def _verify(fields: dict[str, str], **how: object) -> object:
    p = pki()
    args: dict[str, object] = {"root": p.root, "middle": p.middle, "expected_cn": UNIONPAY_CN}
    args.update(how)
    return verify_fields(fields, **args)  # type: ignore[arg-type]


REPLY = {"respCode": "00", "respMsg": "成功[0000000]", "orderId": "T0000001", "txnAmt": "1"}


def test_a_reply_unionpay_signed_verifies() -> None:
    p = pki()
    assert _verify(signed(REPLY)) == p.unionpay_cert
    assert signer_entity(p.unionpay_cert) == UNIONPAY_CN


@pytest.mark.parametrize(
    "case",
    [
        "tampered",
        "forged",
        "wrong chain",
        "other cn",
        "expired",
        "unsigned",
        "no cert",
        "bad cert",
        "bad base64",
        "cert swapped",
    ],
)
def test_a_reply_that_is_not_believed(case: str) -> None:
    p = pki()
    good = signed(REPLY)
    fields = {
        "tampered": {**good, "respCode": "01"},
        # UnionPay's own certificate, but signed by another key.
        "forged": signed(REPLY, key=p.stranger_key),
        # Signed by the key of a certificate with UnionPay's CN under a strange root.
        "wrong chain": signed(REPLY, key=p.stranger_key, cert=p.stranger_cert),
        "other cn": signed(REPLY, key=p.stranger_key, cert=p.other_cn_cert),
        "expired": signed(REPLY, cert=p.expired_cert),
        "unsigned": {k: v for k, v in good.items() if k != "signature"},
        "no cert": {k: v for k, v in good.items() if k != SIGN_CERT},
        "bad cert": {
            **good,
            SIGN_CERT: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        },
        "bad base64": {**good, "signature": "!!not base64!!"},
        "cert swapped": {**good, SIGN_CERT: pem(p.stranger_cert)},
    }[case]
    with pytest.raises(Untrusted):
        _verify(fields)


def test_a_simulator_names_its_own_entity() -> None:
    p = pki()
    other = signed(REPLY, key=p.stranger_key, cert=p.other_cn_cert)
    assert _verify(other, expected_cn="某某支付公司") == p.other_cn_cert
    with pytest.raises(Untrusted):
        _verify(signed(REPLY), expected_cn="某某支付公司")


def test_the_time_counts() -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    with pytest.raises(Untrusted):
        _verify(signed(REPLY), now=later)


def test_the_reply_format_keeps_values_as_they_are() -> None:
    good = signed(REPLY)
    text = reply_text(good)
    assert "+" in good[SIGN_CERT] + good["signature"] or "/" in good["signature"]
    assert parse_reply(text) == good  # line breaks, "+", "/", "=" survive
    assert _verify(parse_reply(text)) is not None
    assert parse_reply("a=1&reserved={x=1&y=2}&b=[c&d]") == {
        "a": "1",
        "reserved": "{x=1&y=2}",
        "b": "[c&d]",
    }
    for bad in ("", "novalue", "=1", "a=1&a=2", "<html>busy</html>"):
        with pytest.raises(ValueError):
            parse_reply(bad)
