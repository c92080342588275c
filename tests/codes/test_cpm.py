"""Consumer-presented codes: BER-TLV, the CPM rules, the builder."""

from __future__ import annotations

import base64

import pytest

from scanpay.codes import ApplicationSpec, CodeError, build_cpm, parse_cpm, parse_payment_code
from scanpay.codes.ber import decode, encode, encode_length


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _errors(text: str) -> set[str]:
    with pytest.raises(CodeError) as caught:
        parse_cpm(text)
    return {p.code for p in caught.value.problems if p.severity == "error"}


APP = ApplicationSpec(
    aid="A000000333010102",
    label="UnionPay",
    track2="6212345678901234567D3012201",
    transparent=[("9F26", bytes.fromhex("0011223344556677")), ("9F36", b"\x00\x05")],
)


def test_build_and_parse_round_trip() -> None:
    text = build_cpm([APP], common=[("5F2D", b"zhen")])
    assert text.startswith("hQVDUFYwM")
    code = parse_cpm(text)
    assert code.aids == ("A000000333010102",)
    assert code.pan == "6212345678901234567"
    assert code.application.label == "UnionPay"
    assert code.tag("9F26") == bytes.fromhex("0011223344556677")
    assert code.tag("9F36") == b"\x00\x05"
    assert code.tag("5F2D") == b"zhen"
    assert code.scheme == "unionpay"
    assert parse_payment_code(text) == code


def test_multi_byte_tags_and_long_lengths() -> None:
    assert encode_length(127) == b"\x7f"
    assert encode_length(128) == b"\x81\x80"
    assert encode_length(300) == b"\x82\x01\x2c"
    long_url = b"mailto:" + b"x" * 290
    text = build_cpm(
        [ApplicationSpec(aid="A0000000555555", pan="1234567890123458", extra=[("5F50", long_url)])]
    )
    code = parse_cpm(text)
    assert code.tag("5F50") == long_url
    nodes, problems = decode(base64.b64decode(text))
    assert problems == []
    assert [n.tag for n in nodes] == ["85", "61"]


def test_non_strict_length_is_read_with_a_warning() -> None:
    # research §6.7: a QRIS fixture writes length 147 as the single byte 0x93.
    url = b"x" * 128
    app_value = encode([("4F", bytes.fromhex("A0000006021010")), ("50", b"QRIS"), ("5F50", url)])
    assert len(app_value) == 147
    data = encode([("85", b"CPV01")]) + b"\x61\x93" + app_value
    code = parse_cpm(_b64(data))
    assert [w.code for w in code.warnings] == ["lenient_ber"]
    assert code.aids == ("A0000006021010",)


def test_rules() -> None:
    assert _errors("not base64 at all") == {"bad_base64"}
    assert _errors("hQVDUFYwMQ!!") == {"bad_base64"}
    wrong_format = _b64(encode([("85", b"CPV02"), ("61", encode([("4F", b"\xa0" * 7)]))]))
    assert "bad_cpm_format" in _errors(wrong_format)
    no_app = _b64(encode([("85", b"CPV01")]))
    assert "missing_application" in _errors(no_app)
    short_aid = _b64(encode([("85", b"CPV01"), ("61", encode([("4F", b"\xa0\x00")]))]))
    assert "missing_application" in _errors(short_aid)
    truncated = _b64(encode([("85", b"CPV01")]) + b"\x61\x10\x4f\x07")
    assert "bad_ber" in _errors(truncated)
    dup = _b64(
        encode(
            [
                ("85", b"CPV01"),
                ("61", encode([("4F", b"\xa0" * 7), ("5F20", b"A")])),
                ("62", encode([("5F20", b"B")])),
            ]
        )
    )
    assert "duplicate_tag" in _errors(dup)


def test_opaque_transparent_template_is_kept() -> None:
    app = encode([("4F", b"\xa0" * 7), ("63", b"\x9f\x26\x09\x01")])
    code = parse_cpm(_b64(encode([("85", b"CPV01"), ("61", app)])))
    assert code.application.transparent is None
    assert code.warnings == ()


def test_mask_never_shows_the_full_pan() -> None:
    code = parse_cpm(build_cpm([APP]))
    shown = code.mask()
    assert "6212345678901234567" not in shown
    assert shown.endswith("621234*********4567")
    assert "6212345678901234567" not in str(code.to_dict())
