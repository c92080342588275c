"""Every real payload in ../shared/vectors gives its expected result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanpay.codes import (
    CodeError,
    ConsumerPresentedCode,
    MerchantPresentedCode,
    parse_payment_code,
)
from support import shared_path

# Each rule of vectors/README.md maps to exactly one of our problem codes.
RULE_CODES: dict[str, str] = {
    "R_CRC": "crc_mismatch",
    "R_CRC_CASE": "crc_lowercase",
    "R_TLV": "bad_tlv",
    "R_DUP": "duplicate_id",
    "R_LEN0": "empty_value",
    "R_PFI": "bad_payload_format",
    "R_POI": "bad_point_of_initiation",
    "R_MAI": "missing_merchant_account",
    "R_MAND": "missing_field",
    "R_MCC": "bad_mcc",
    "R_CUR": "bad_currency",
    "R_CTRY": "bad_country",
    "R_MAXLEN": "too_long",
    "R_AMT": "bad_amount",
    "R_TIP": "bad_tip",
    "R_TEMPLATE": "bad_template",
    "R_ADF": "bad_additional_data",
    "R_LANG": "bad_language_template",
    "R_SCHEME": "scheme_rule",
    "R_B64": "bad_base64",
    "R_BER": "bad_ber",
    "R_CPM_PFI": "bad_cpm_format",
    "R_CPM_APP": "missing_application",
    "R_CPM_DUP": "duplicate_tag",
}

# Vector scheme labels that name the national profile our parser must recognise.
NATIONAL = {"pix", "promptpay", "vietqr", "khqr", "duitnow", "qris", "qrph", "paynow"}


def _vectors() -> list[dict[str, Any]]:
    path = shared_path("vectors", "emv-qr-real.json")
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_rule_mapping_is_one_to_one() -> None:
    assert len(set(RULE_CODES.values())) == len(RULE_CODES)


def test_every_rule_in_the_vectors_is_mapped() -> None:
    used = {r for e in _vectors() for r in (e.get("deviations") or []) + (e.get("fails") or [])}
    assert used <= set(RULE_CODES)


def test_valid_vectors_parse_with_exactly_their_deviations() -> None:
    results = []
    for entry in (e for e in _vectors() if e["valid"]):
        code = parse_payment_code(entry["payload"])
        warnings = {w.code for w in code.warnings}
        assert warnings == {RULE_CODES[r] for r in entry["deviations"]}, entry["payload"]
        _check_expect(code, entry)
        results.append(entry)
    assert len(results) >= 30


def test_invalid_vectors_are_rejected_for_their_rules() -> None:
    rejected = 0
    for entry in (e for e in _vectors() if not e["valid"]):
        with pytest.raises(CodeError) as caught:
            parse_payment_code(entry["payload"])
        errors = {p.code for p in caught.value.problems if p.severity == "error"}
        assert {RULE_CODES[r] for r in entry["fails"]} <= errors, entry["payload"]
        assert caught.value.code in errors
        rejected += 1
    assert rejected >= 15


def _check_expect(code: object, entry: dict[str, Any]) -> None:
    expect = entry["expect"]
    if isinstance(code, MerchantPresentedCode):
        got = {
            "payload_format": code.payload_format,
            "point_of_initiation": code.point_of_initiation,
            "merchant_name": code.merchant_name,
            "merchant_city": code.merchant_city,
            "amount": code.amount_text,
            "currency": code.currency,
            "country": code.country,
            "mcc": code.mcc,
            "crc": code.crc,
            "gui": code.gui,
        }
        for key, value in expect.items():
            assert got[key] == value, (key, entry["payload"])
        if entry["scheme"] in NATIONAL:
            assert entry["scheme"] in code.schemes, entry["payload"]
    else:
        assert isinstance(code, ConsumerPresentedCode)
        assert code.payload_format == expect["payload_format"]
        if "aids" in expect:
            assert list(code.aids) == expect["aids"]
        if "pan" in expect:
            assert code.pan == expect["pan"]
        if "track2" in expect:
            assert code.track2 == expect["track2"]


def test_payment_code_examples() -> None:
    data = json.loads(shared_path("vectors", "payment-codes.json").read_text(encoding="utf-8"))
    checked = 0
    for example in data["examples"]:
        text, wallet = example["code"], example["expected_wallet"]
        if example["valid"] is False:
            with pytest.raises(CodeError):
                parse_payment_code(text)
        else:
            code = parse_payment_code(text)
            expected = "emv_cpm" if wallet == "emvco_cpm" else "wallet"
            assert code.kind == expected
            if expected == "wallet":
                assert code.scheme == wallet
                lenient = {w.code for w in code.warnings} == {"lenient_wallet_match"}
                assert lenient == (example["valid"] == "lenient-only")
        checked += 1
    assert checked == len(data["examples"]) > 20
