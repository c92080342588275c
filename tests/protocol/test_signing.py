"""The signature scheme reproduces DESIGN.md's reference values."""

from __future__ import annotations

import hashlib
import hmac

from scanpay.protocol import (
    RESULT_CODES,
    SignedHeaders,
    body_hash,
    is_valid_nonce,
    legacy_response_message,
    request_message,
    response_message,
    sign,
    verify,
)

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
BODY = b'{"out_trade_no":"T1-0001","amount":1234,"currency":"CNY","auth_code":"281234567890123456"}'


def test_reference_values_from_the_design() -> None:
    assert body_hash(BODY) == "e9fcc348e16cbc5b8bb68ddfcfff527947bc3ce7eb6bdafaa12d0a92bfc2959a"
    message = request_message(
        "POST", "/v1/payments", 1798300800, "00112233445566778899aabbccddeeff", BODY
    )
    assert message.count(b"\n") == 4 and not message.endswith(b"\n")
    signature = sign(KEY, message)
    assert signature == "7645faf21064b45a97cf3955cb7a1d49150fd6212690a92053a0310219f01843"
    headers = SignedHeaders.for_request(
        terminal_id="T1",
        key_hex=KEY,
        method="post",
        path="/v1/payments",
        body=BODY,
        timestamp=1798300800,
        nonce="00112233445566778899aabbccddeeff",
    )
    assert headers.as_dict()["X-Scanpay-Signature"] == signature


def test_verify_rejects_any_change() -> None:
    message = request_message("POST", "/v1/payments", 1, "00" * 8, BODY)
    good = sign(KEY, message)
    assert verify(KEY, message, good)
    assert verify(KEY, message, good.upper())
    assert not verify(KEY, request_message("POST", "/v1/payments", 2, "00" * 8, BODY), good)
    assert not verify(KEY, request_message("POST", "/v1/payments?x=1", 1, "00" * 8, BODY), good)
    assert not verify(KEY, request_message("POST", "/v1/payments", 1, "00" * 8, BODY + b" "), good)
    assert not verify("11" * 32, message, good)
    assert not verify("not hex", message, good)
    assert not verify(KEY, message, "zz")


REQUEST_SIGNATURE = "7645faf21064b45a97cf3955cb7a1d49150fd6212690a92053a0310219f01843"


def test_a_version_2_reply_is_bound_to_the_request_it_answers() -> None:
    body = b'{"status":"SUCCESS"}'
    nonce = "00112233445566778899aabbccddeeff"
    message = response_message(200, 1798300801, nonce, body, REQUEST_SIGNATURE)
    # Six lines, built here by hand from the documented rule (docs/host.md).
    expected = "\n".join(
        ("v2", "200", "1798300801", nonce, hashlib.sha256(body).hexdigest(), REQUEST_SIGNATURE)
    ).encode()
    assert message == expected
    signature = sign(KEY, message)
    assert signature == hmac.new(bytes.fromhex(KEY), expected, hashlib.sha256).hexdigest()
    assert signature == "f0205de38ff427d7850cc45f31ca514b51548be9fedaff324d0eec63639963b3"
    # The same reply answering any other request does not verify: bound, not just nonce-matched.
    other = sign(KEY, request_message("POST", "/v1/payments", 1798300800, nonce, b"{}"))
    assert not verify(KEY, response_message(200, 1798300801, nonce, body, other), signature)
    # Upper-case hex of the request signature is the same binding.
    upper = response_message(200, 1798300801, nonce, body, REQUEST_SIGNATURE.upper())
    assert upper == message
    # The legacy (version 1) reply does not cover the request, and differs from version 2.
    legacy = legacy_response_message(200, 1798300801, nonce, body)
    assert not verify(KEY, legacy, signature)


def test_response_message_and_nonces() -> None:
    assert legacy_response_message(200, 5, "ab" * 8, b"") == (
        b"200\n5\n"
        + b"ab" * 8
        + b"\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert is_valid_nonce("0123456789abcdef")
    assert not is_valid_nonce("0123456789abcde")
    assert not is_valid_nonce("0123456789ABCDEF")
    assert not is_valid_nonce("g" * 16)


def test_result_codes_have_both_languages() -> None:
    for code, rc in RESULT_CODES.items():
        assert rc.code == code and len(code) == 2
        assert rc.message.zh_cn and rc.message.en and rc.action.zh_cn and rc.action.en
    assert RESULT_CODES["63"].name == "SECURITY" and RESULT_CODES["63"].http_status == 401
    assert RESULT_CODES["26"].name == "UPGRADE_REQUIRED" and RESULT_CODES["26"].http_status == 426
