"""Merchant-presented codes: rules, builder, and the facts of research-emvqr.md."""

from __future__ import annotations

import pytest

from scanpay.codes import (
    AccountTemplate,
    CodeError,
    MerchantLanguage,
    build_mpm,
    mpm_crc,
    parse_mpm,
    parse_payment_code,
)
from scanpay.codes.tlv import encode
from scanpay.money import Money


def _payload(objects: list[tuple[str, str]], *, crc_case: str = "upper") -> str:
    body = encode(objects) + "6304"
    crc = mpm_crc(body)
    return body + (crc.lower() if crc_case == "lower" else crc)


BASE = [
    ("00", "01"),
    ("01", "11"),
    ("26", encode([("00", "org.scanpay"), ("01", "M1")])),
    ("52", "5411"),
    ("53", "156"),
    ("58", "CN"),
    ("59", "SHOP"),
    ("60", "SHANGHAI"),
]


def _with(*changes: tuple[str, str | None]) -> str:
    objects = dict(BASE)
    for ident, value in changes:
        if value is None:
            objects.pop(ident, None)
        else:
            objects[ident] = value
    ordered = sorted(objects.items(), key=lambda kv: (kv[0] != "00", kv[0]))
    return _payload(ordered)


def _errors(text: str) -> set[str]:
    with pytest.raises(CodeError) as caught:
        parse_mpm(text)
    return {p.code for p in caught.value.problems if p.severity == "error"}


def test_crc_is_ccitt_false_over_payload_through_6304() -> None:
    # Check value of CRC-16/CCITT-FALSE and the spec's own verified examples.
    from scanpay.codes import crc16

    assert crc16(b"123456789") == 0x29B1
    code = parse_mpm(_with())
    assert code.crc == mpm_crc(code.payload[:-4])


def test_lengths_count_characters_not_bytes() -> None:
    # EMVCo MPM 4.4.1.1: "0104最佳运输" has length 04 although it is 12 UTF-8 bytes.
    text = _with(("64", "0002ZH0104最佳运输0202北京"))
    code = parse_mpm(text)
    assert code.language_template == MerchantLanguage("ZH", "最佳运输", "北京")
    assert "64200002ZH0104最佳运输0202北京" in text


def test_byte_counted_lengths_are_rejected() -> None:
    # research §6.5: a byte-counting encoder declares 22 for an 18-character value.
    value = "Thanh toán hóa đơn"
    body = _with(("62", "08" + str(len(value.encode())) + value))
    assert "bad_tlv" in _errors(body) or "bad_template" in _errors(body)


def test_trailing_spaces_are_data() -> None:
    code = parse_mpm(_with(("59", "SURAU AS SALAM SEKSYEN 4 ")))
    assert code.merchant_name == "SURAU AS SALAM SEKSYEN 4 "


def test_lowercase_crc_is_read_with_a_warning() -> None:
    objects = sorted(dict(BASE).items())
    code = parse_mpm(_payload(objects, crc_case="lower"))
    assert [w.code for w in code.warnings] == ["crc_lowercase"]


def test_payload_format_02_is_a_warning() -> None:
    code = parse_mpm(_with(("00", "02")))
    assert [w.code for w in code.warnings] == ["bad_payload_format"]
    assert code.payload_format == "02"


def test_amount_zero_means_no_amount() -> None:
    code = parse_mpm(_with(("54", "00.00")))
    assert code.amount is None
    assert [w.code for w in code.warnings] == ["bad_amount"]


@pytest.mark.parametrize(("text", "minor"), [("23.7", 2370), ("23.72", 2372), ("98.", 9800)])
def test_amount_in_minor_units(text: str, minor: int) -> None:
    code = parse_mpm(_with(("54", text)))
    assert code.amount == minor
    assert code.money == Money(minor, "CNY")


def test_amount_with_too_many_decimals_cannot_be_paid() -> None:
    code = parse_mpm(_with(("54", "23.723")))
    assert code.amount_text == "23.723"
    with pytest.raises(CodeError) as caught:
        _ = code.amount
    assert caught.value.code == "bad_amount"
    assert caught.value.field == "54"
    assert code.to_dict()["amount_error"]["code"] == "bad_amount"


@pytest.mark.parametrize("text", ["98,73", "3 705", "1.2.3", "."])
def test_malformed_amounts_are_rejected(text: str) -> None:
    assert "bad_amount" in _errors(_with(("54", text)))


def test_scheme_dependent_mandatory_fields() -> None:
    # PromptPay person-to-person codes omit 52/59/60: readable, with warnings ...
    promptpay = encode([("00", "A000000677010111"), ("01", "0066812345678")])
    code = parse_mpm(
        _with(
            ("26", None),
            ("29", promptpay),
            ("52", None),
            ("59", None),
            ("60", None),
            ("53", "764"),
            ("58", "TH"),
        )
    )
    assert {w.code for w in code.warnings} == {"missing_field"}
    assert code.payee is not None and code.payee.payee_kind == "mobile"
    # ... but a generic code without a name is rejected.
    assert _errors(_with(("59", None))) == {"missing_field"}
    assert _errors(_with(("53", None))) >= {"missing_field"}


def test_opaque_unreserved_templates_are_kept() -> None:
    # research §6.4: DuitNow 82 and TrueMoney 81 are not TLV; never fail on them.
    code = parse_mpm(_with(("81", "0E2A0E270E"), ("82", "xyz")))
    assert code.warnings == ()
    assert code.to_dict()["unreserved"] == {"81": "0E2A0E270E", "82": "xyz"}


def test_valid_crc_with_broken_tlv_is_rejected() -> None:
    # research §6.6: "62080503***" declares 08 for a 7-character value.
    objects = sorted(dict(BASE).items())
    body = encode(objects) + "62080503***6304"
    assert "bad_tlv" in _errors(body + mpm_crc(body))


def test_url_encoded_payload_fails_its_crc() -> None:
    text = _with(("59", "MY SHOP"))
    assert "crc_mismatch" in _errors(text.replace("MY SHOP", "MY+SHOP"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ((("01", "13"),), "bad_point_of_initiation"),
        ((("52", "54111"),), "bad_mcc"),
        ((("52", "54a1"),), "bad_mcc"),
        ((("53", "15"),), "bad_currency"),
        ((("53", "999"),), "unknown_currency"),
        ((("58", "CHN"),), "bad_country"),
        ((("59", "X" * 26),), "too_long"),
        ((("60", "Y" * 16),), "too_long"),
        ((("61", "1" * 11),), "too_long"),
        ((("55", "04"),), "bad_tip"),
        ((("56", "1.00"),), "bad_tip"),
        ((("55", "02"),), "bad_tip"),
        ((("55", "03"), ("57", "0")), "bad_tip"),
        ((("55", "03"), ("57", "100.0")), "bad_tip"),
        ((("26", "0101X"),), "bad_template"),
        ((("26", "00"),), "bad_template"),
        ((("62", "0126" + "B" * 26),), "bad_additional_data"),
        ((("62", "0903AAM"),), "bad_additional_data"),
        ((("62", "0902AX"),), "bad_additional_data"),
        ((("64", "0101X"),), "bad_language_template"),
        ((("26", None), ("29", encode([("00", "A000000677010111"), ("01", "1")]))), "scheme_rule"),
    ],
)
def test_rules(changes: tuple[tuple[str, str | None], ...], code: str) -> None:
    assert code in _errors(_with(*changes))


def test_tip_indicators_that_are_right() -> None:
    assert parse_mpm(_with(("55", "01"))).tip_indicator == "01"
    assert parse_mpm(_with(("55", "02"), ("56", "5.00"))).get("56") == "5.00"
    assert parse_mpm(_with(("55", "03"), ("57", "3.5"))).get("57") == "3.5"


def test_missing_merchant_account() -> None:
    assert "missing_merchant_account" in _errors(_with(("26", None)))


def test_duplicates_and_empty_values() -> None:
    objects = [*sorted(dict(BASE).items()), ("59", "AGAIN")]
    assert "duplicate_id" in _errors(_payload(objects))
    body = encode(sorted(dict(BASE).items())) + "6100" + "6304"
    assert "empty_value" in _errors(body + mpm_crc(body))
    template = "0011org.scanpay" + "0101A" + "0101B"
    assert "duplicate_id" in _errors(_with(("26", template)))


def test_structure_order_and_framing() -> None:
    objects = sorted(dict(BASE).items())
    moved = [*objects[1:], objects[0]]
    assert "bad_tlv" in _errors(_payload(moved))
    text = _with()
    assert "bad_tlv" in _errors(text[:6] + "ZZ" + text[8:])


def test_error_names_field_and_offset() -> None:
    text = _with(("52", "54a1"))
    with pytest.raises(CodeError) as caught:
        parse_mpm(text)
    error = caught.value
    assert (error.code, error.field) == ("bad_mcc", "52")
    assert error.offset is not None and text[error.offset : error.offset + 4] == "5204"
    assert error.to_dict()["offset"] == error.offset
    assert "商户类别码" in error.message("zh-CN")
    assert "merchant category code" in error.message("en")


def test_additional_data_names() -> None:
    data = (
        "0104B-01"
        + "0305STORE"
        + "0505REF-1"
        + "0703T01"
        + "0902AM"
        + "5016"
        + "0004abcd"
        + "0104ijkl"
    )
    code = parse_mpm(_with(("62", data)))
    assert code.additional_data is not None
    assert code.additional_data.to_dict() == {
        "bill_number": "B-01",
        "store_label": "STORE",
        "reference_label": "REF-1",
        "terminal_label": "T01",
        "consumer_data_request": "AM",
        "50": "0004abcd0104ijkl",
    }
    assert code.additional_data.reference_label == "REF-1"


def test_build_static_and_dynamic_round_trip() -> None:
    static = build_mpm(
        merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M100"})],
        merchant_name="Best Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
    )
    code = parse_mpm(static)
    assert (code.point_of_initiation, code.amount, code.warnings) == ("11", None, ())
    assert code.encode() == static
    assert code.payee is not None and code.payee.payee == "M100"

    dynamic = build_mpm(
        merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M100"}), ("15", "UP123")],
        merchant_name="Best Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="156",
        country="CN",
        amount=1234,
        tip=Money(100, "CNY"),
        postal_code="200000",
        additional_data={"reference_label": "T1-0001", "bill_number": "B1"},
        language=MerchantLanguage("ZH", "最佳商店", "上海"),
    )
    code = parse_mpm(dynamic)
    assert code.is_dynamic and code.amount == 1234 and code.get("56") == "1.00"
    assert code.additional_data is not None
    assert code.additional_data.reference_label == "T1-0001"
    assert code.language_template == MerchantLanguage("ZH", "最佳商店", "上海")
    assert parse_mpm(code.encode()) == code


def test_builder_refuses_what_it_cannot_write() -> None:
    kwargs = {
        "merchant_accounts": [AccountTemplate("26", "org.scanpay", {"01": "M1"})],
        "merchant_city": "X",
        "mcc": "5411",
        "currency": "CNY",
        "country": "CN",
    }
    with pytest.raises(CodeError) as caught:
        build_mpm(merchant_name="N" * 26, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "too_long"
    with pytest.raises(CodeError) as caught:
        build_mpm(merchant_name="N", amount=0, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "bad_amount"
    with pytest.raises(CodeError) as caught:
        build_mpm(merchant_name="N", amount=1.5, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "bad_amount"
    with pytest.raises(CodeError) as caught:
        build_mpm(merchant_name="", **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "empty_value"
    with pytest.raises(CodeError) as caught:
        build_mpm(merchant_name="N", **{**kwargs, "currency": "XXX"})  # type: ignore[arg-type]
    assert caught.value.code == "unknown_currency"


def test_masked_view_hides_the_payee() -> None:
    text = _with(("26", encode([("00", "org.scanpay"), ("01", "M1234567890")])))
    shown = parse_payment_code(text).mask()
    assert "M1234567890" not in shown
    assert "SHOP" in shown
