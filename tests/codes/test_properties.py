"""Property tests: builders round-trip, and no input makes a parser misbehave.

The generated-input counts add up to well over 100,000 per run: the
hypothesis tests below plus the seeded mutation fuzzer in test_fuzz.py.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanpay.codes import (
    AccountTemplate,
    ApplicationSpec,
    CodeError,
    MerchantLanguage,
    build_cpm,
    build_mpm,
    parse_cpm,
    parse_mpm,
    parse_payment_code,
)
from scanpay.codes.schemes import identify
from scanpay.money import currencies, format_amount

ANS = string.ascii_letters + string.digits + " .-_/*#&"
_CURRENCIES = [c for c in currencies()]
_ADDITIONAL = [
    "bill_number",
    "mobile_number",
    "store_label",
    "loyalty_number",
    "reference_label",
    "customer_label",
    "terminal_label",
    "purpose",
]

ans = st.text(alphabet=ANS, min_size=1, max_size=25)
unicode_name = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x9FFF, exclude_categories=("Cs",)),
    min_size=1,
    max_size=25,
)
sub_id = st.integers(min_value=1, max_value=99).map(lambda i: f"{i:02d}")

templates = st.builds(
    AccountTemplate,
    id=st.sampled_from([f"{i}" for i in range(26, 52) if i not in (29, 30)]),
    # GUIs of known schemes bring scheme rules (PromptPay must be THB ...);
    # those are tested on their own, so random templates stay scheme-less.
    gui=st.text(
        alphabet=string.ascii_letters + string.digits + ".", min_size=1, max_size=20
    ).filter(lambda gui: identify(gui, {}, "26") is None),
    fields=st.dictionaries(sub_id, st.text(alphabet=ANS, min_size=1, max_size=15), max_size=3),
)


@st.composite
def mpm_specs(draw: st.DrawFn) -> dict[str, object]:
    accounts = draw(st.lists(templates, min_size=1, max_size=3, unique_by=lambda t: t.id))
    currency = draw(st.sampled_from(_CURRENCIES))
    amount = draw(st.none() | st.integers(min_value=1, max_value=9_999_999_999))
    language = draw(
        st.none()
        | st.builds(
            MerchantLanguage,
            language=st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
            name=unicode_name,
            city=st.none() | st.text(alphabet=ANS + "市区", min_size=1, max_size=15),
        )
    )
    return {
        "merchant_accounts": accounts,
        "merchant_name": draw(unicode_name),
        "merchant_city": draw(st.text(alphabet=ANS, min_size=1, max_size=15)),
        "mcc": draw(st.text(alphabet=string.digits, min_size=4, max_size=4)),
        "currency": currency.alpha,
        "country": draw(st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2)),
        "amount": amount,
        "postal_code": draw(st.none() | st.text(alphabet=ANS, min_size=1, max_size=10)),
        "additional_data": draw(
            st.none() | st.dictionaries(st.sampled_from(_ADDITIONAL), ans, min_size=1, max_size=3)
        ),
        "language": language,
    }


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mpm_specs())
def test_mpm_build_parse_round_trip(spec: dict[str, object]) -> None:
    payload = build_mpm(**spec)  # type: ignore[arg-type]
    code = parse_mpm(payload)
    assert code.warnings == ()
    assert code.encode() == payload
    assert parse_mpm(code.encode()) == code
    assert code.merchant_name == spec["merchant_name"]
    assert code.merchant_city == spec["merchant_city"]
    assert code.mcc == spec["mcc"]
    assert code.currency_alpha == spec["currency"]
    assert code.amount == spec["amount"]
    assert code.is_dynamic == (spec["amount"] is not None)
    assert code.language_template == spec["language"]
    accounts = spec["merchant_accounts"]
    assert isinstance(accounts, list)
    assert [a.gui for a in code.merchant_accounts] == [t.gui for t in accounts]
    for template, account in zip(accounts, code.merchant_accounts, strict=True):
        assert {f.id: f.value for f in account.fields} == {"00": template.gui, **template.fields}
    extra = spec["additional_data"]
    if extra:
        assert code.additional_data is not None
        assert code.additional_data.to_dict() == extra
    if spec["amount"] is not None:
        assert code.amount_text == format_amount(spec["amount"], spec["currency"])  # type: ignore[arg-type]


tags_63 = st.sampled_from(["9F26", "9F27", "9F10", "9F36", "9F37", "82"])


@settings(max_examples=3000, deadline=None)
@given(
    aid=st.binary(min_size=5, max_size=16),
    label=st.none() | st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=16),
    pan=st.text(alphabet=string.digits, min_size=12, max_size=19),
    use_track2=st.booleans(),
    transparent=st.lists(
        st.tuples(tags_63, st.binary(min_size=1, max_size=300)),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
)
def test_cpm_build_parse_round_trip(
    aid: bytes,
    label: str | None,
    pan: str,
    use_track2: bool,
    transparent: list[tuple[str, bytes]],
) -> None:
    spec = ApplicationSpec(
        aid=aid.hex(),
        label=label,
        pan=None if use_track2 else pan,
        track2=f"{pan}D3012201" if use_track2 else None,
        transparent=transparent,
    )
    payload = build_cpm([spec])
    code = parse_cpm(payload)
    assert code.aids == (aid.hex().upper(),)
    assert code.pan == pan
    assert code.application.label == label
    for tag, value in transparent:
        assert code.tag(tag) == value


def _only_code_errors(text: str) -> None:
    try:
        parse_payment_code(text)
    except CodeError as exc:
        assert exc.code
        assert exc.problems
        assert exc.text.en and exc.text.zh_cn


@settings(max_examples=20000, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_only_code_errors(text: str) -> None:
    _only_code_errors(text)


@settings(max_examples=10000, deadline=None)
@given(st.text(alphabet="0123456789ABCDEF.*", max_size=300))
def test_emv_shaped_text_raises_only_code_errors(tail: str) -> None:
    _only_code_errors("000201" + tail)
    _only_code_errors("00020101021" + tail)


@settings(max_examples=10000, deadline=None)
@given(st.binary(max_size=400))
def test_random_ber_raises_only_code_errors(data: bytes) -> None:
    import base64

    _only_code_errors("hQVDUFY" + base64.b64encode(data).decode())
    _only_code_errors(base64.b64encode(b"\x85\x05CPV01" + data).decode())


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)
@given(st.text(min_size=10_000, max_size=10_240))
def test_ten_kilobyte_inputs(text: str) -> None:
    _only_code_errors(text)
    _only_code_errors("000201" + text)
    _only_code_errors("hQVDUFY" + text)
