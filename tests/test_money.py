from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.money import (
    Money,
    MoneyError,
    format_amount,
    get_currency,
    parse_amount,
    read_amount,
    show_amount,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("23.72", "CNY", 2372),
        ("23.7", "CNY", 2370),
        ("98.", "USD", 9800),
        ("98", "156", 9800),
        ("999", "JPY", 999),
        ("1.234", "BHD", 1234),
        ("0.50", "CNY", 50),
        ("23.720", "CNY", 2372),
    ],
)
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["23.723", "1,00", "3 705", "-1", "1e3", "", ".", "1.2.3", "+5"])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_amount(text, "CNY")
    assert err.value.code == "bad_amount"
    assert err.value.field == "amount"


def test_currency_lookup_by_alpha_and_numeric() -> None:
    assert get_currency("cny") == get_currency("156")
    assert get_currency("392").exponent == 0
    with pytest.raises(MoneyError) as err:
        get_currency("XXX")
    assert err.value.code == "unknown_currency"
    assert "未知" in err.value.message("zh-CN")


def test_money_refuses_floats_and_normalises_currency() -> None:
    assert Money(100, "156") == Money(100, "CNY")
    assert str(Money.parse("12.3", "CNY")) == "12.30 CNY"
    with pytest.raises(MoneyError):
        Money(1.5, "CNY")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["CNY", "JPY", "BHD", "CLF"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency), currency) == minor


# ---------------------------------------------------------------- read_amount: what people type

LOCALES = ["en", "zh-CN", "de", "fr", "pt-BR", "ru", "de-CH", "es-MX"]
CURRENCIES = ["CNY", "JPY", "BHD", "CLF", "EUR"]


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("12.34", "CNY", "en", 1234),
        ("  12.34 ", "CNY", "zh-CN", 1234),
        ("1,000.50", "CNY", "en", 100050),
        ("1,234,567", "CNY", "zh-CN", 123456700),
        ("1,00", "EUR", "de", 100),
        ("1.000,50", "EUR", "de", 100050),
        ("1 000,50", "EUR", "fr", 100050),
        ("1\u00a0000,50", "EUR", "fr", 100050),
        ("1\u202f000,50", "RUB", "ru", 100050),
        ("1'000.50", "CHF", "de-CH", 100050),
        ("1,00", "BRL", "pt_BR", 100),
        (".5", "CNY", "en", 50),
        ("5.", "CNY", "en", 500),
        ("0.05", "CNY", "en", 5),
        ("1,000", "JPY", "en", 1000),
        ("1.234", "KWD", "en", 1234),
        ("１２．５", "CNY", "zh-CN", 1250),  # a Chinese input method in full-width mode
        ("12.34", "CNY", "xx-unknown", 1234),  # an unknown language reads like English
    ],
)
def test_read_amount_reads_what_people_type(
    text: str, currency: str, locale: str, minor: int
) -> None:
    assert read_amount(text, currency, locale=locale) == minor


@pytest.mark.parametrize(
    ("text", "locale", "code"),
    [
        ("", "en", "amount_empty"),
        ("   ", "en", "amount_empty"),
        ("abc", "en", "amount_not_a_number"),
        ("12a", "en", "amount_not_a_number"),
        ("1e3", "en", "amount_not_a_number"),
        ("+5", "en", "amount_not_a_number"),
        ("5-", "en", "amount_not_a_number"),
        ("1 000", "en", "amount_not_a_number"),  # a space does not group in English
        ("1.000", "fr", "amount_not_a_number"),  # nor a point in French
        (".", "en", "amount_not_a_number"),
        ("¥12", "zh-CN", "amount_not_a_number"),
        ("-1", "en", "amount_negative"),
        ("-5", "zh-CN", "amount_negative"),
        ("\u22125", "en", "amount_negative"),
        ("－5", "zh-CN", "amount_negative"),
        ("1.2.3", "en", "amount_two_decimal_points"),
        ("1,2,3", "de", "amount_two_decimal_points"),
        ("1,00", "en", "amount_bad_grouping"),
        ("1,00", "zh-CN", "amount_bad_grouping"),
        ("1.00", "de", "amount_bad_grouping"),
        ("1,0000", "en", "amount_bad_grouping"),
        ("12,34,567", "en", "amount_bad_grouping"),  # Indian lakh grouping is not read
        (",100", "en", "amount_bad_grouping"),
        ("0,100", "en", "amount_bad_grouping"),
        ("1,000,00", "en", "amount_bad_grouping"),
        ("1.000,5", "en", "amount_bad_grouping"),
        ("1.000 000", "de", "amount_not_a_number"),
        ("1.234", "en", "amount_too_many_decimals"),
        ("1.500", "en", "amount_too_many_decimals"),  # might mean fifteen hundred
        ("0", "en", "amount_zero"),
        ("0.00", "en", "amount_zero"),
        ("9" * 16, "en", "amount_too_large"),
        ("9" * 5000, "en", "amount_too_large"),
    ],
)
def test_read_amount_refuses_with_a_code(text: str, locale: str, code: str) -> None:
    with pytest.raises(MoneyError) as err:
        read_amount(text, "CNY", locale=locale)
    assert err.value.code == code and err.value.field == "amount"
    assert err.value.message("en") and err.value.message("zh-CN") != err.value.message("en")


def test_a_comma_in_english_is_explained_with_what_was_meant() -> None:
    with pytest.raises(MoneyError) as err:
        read_amount("1,00", "CNY", locale="en")
    assert err.value.message("en") == (
        "In an amount a comma groups thousands (as in 1,000.00): did you mean 1.00?"
    )
    assert "1.00" in err.value.message("zh-CN") and "逗号" in err.value.message("zh-CN")
    with pytest.raises(MoneyError) as err:
        read_amount("1.00", "EUR", locale="de")
    assert "1,00" in err.value.message("en")


def test_the_maximum_is_named_in_the_message() -> None:
    assert read_amount("50,000.00", "CNY", maximum=5_000_000) == 5_000_000
    with pytest.raises(MoneyError) as err:
        read_amount("99999999999", "CNY", maximum=5_000_000)
    assert err.value.code == "amount_too_large"
    assert err.value.message("en") == "The amount can be at most CNY 50,000.00"
    assert err.value.message("zh-CN") == "金额不能超过 CNY 50,000.00"
    with pytest.raises(MoneyError) as err:
        read_amount("50.000,01", "EUR", locale="de", maximum=5_000_000, field="value")
    assert err.value.field == "value" and "50.000,00" in err.value.message("en")


def test_zero_is_allowed_only_when_asked() -> None:
    assert read_amount("0", "CNY", allow_zero=True) == 0
    assert read_amount("0.00", "CNY", allow_zero=True) == 0


def test_show_amount_groups_as_the_language_does() -> None:
    assert show_amount(123456789, "CNY") == "1,234,567.89"
    assert show_amount(123456789, "EUR", locale="de") == "1.234.567,89"
    assert show_amount(123456789, "EUR", locale="fr") == "1 234 567,89"
    assert show_amount(1000000, "JPY", locale="zh-CN") == "1,000,000"
    assert show_amount(5, "CNY") == "0.05" and show_amount(-5, "CNY") == "-0.05"


_minor = st.integers(min_value=1, max_value=10**13)


@given(_minor, st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_show_then_read_round_trips(minor: int, currency: str, locale: str) -> None:
    assert (
        read_amount(show_amount(minor, currency, locale=locale), currency, locale=locale) == minor
    )


@given(_minor, st.sampled_from(CURRENCIES), st.sampled_from(["en", "zh-CN"]))
def test_plain_decimal_text_reads_in_english_and_chinese(
    minor: int, currency: str, locale: str
) -> None:
    assert read_amount(format_amount(minor, currency), currency, locale=locale) == minor


def _decimal(locale: str) -> str:
    return "." if show_amount(100, "CNY", locale=locale).endswith(".00") else ","


def _alphabet(locale: str) -> set[str]:
    """Every character read_amount accepts inside an amount in ``locale``."""
    grouped = show_amount(100000, "CNY", locale=locale)[1]
    groups = {grouped} | ({" ", "\u00a0", "\u202f"} if grouped.isspace() else set())
    groups |= {"'", "\u2019"} if grouped == "'" else set()
    full_width = {chr(0xFF10 + d) for d in range(10)} | {"．", "，"}
    return set("0123456789") | {_decimal(locale)} | groups | full_width


@given(
    _minor,
    st.sampled_from(CURRENCIES),
    st.sampled_from(LOCALES),
    st.characters(codec="utf-8"),
    st.integers(min_value=0),
)
def test_a_character_outside_the_alphabet_is_refused_anywhere(
    minor: int, currency: str, locale: str, stray: str, where: int
) -> None:
    text = show_amount(minor, currency, locale=locale)
    at = where % (len(text) + 1)
    if stray in _alphabet(locale) or (stray.isspace() and at in (0, len(text))):
        return  # the text still reads (a surrounding space is trimmed)
    with pytest.raises(MoneyError) as err:
        read_amount(text[:at] + stray + text[at:], currency, locale=locale)
    assert err.value.field == "amount" and err.value.code.startswith("amount_")


@given(_minor, st.sampled_from(CURRENCIES), st.sampled_from(LOCALES), st.integers(min_value=0))
def test_a_character_is_never_silently_dropped(
    minor: int, currency: str, locale: str, where: int
) -> None:
    """Removing one character changes the amount or is refused; the only exceptions are a
    thousands separator, a leading zero and a trailing decimal zero (0.05 is .05, 9.50 is 9.5)."""
    text = show_amount(minor, currency, locale=locale)
    at = where % len(text)
    try:
        shorter = read_amount(text[:at] + text[at + 1 :], currency, locale=locale)
    except MoneyError:
        return
    if shorter == minor:
        removed = text[at]
        grouping = removed not in "0123456789" and removed != _decimal(locale)
        decimal = _decimal(locale)
        decimal_zero = decimal in text and at > text.index(decimal) and not text[at:].strip("0")
        assert grouping or (removed == "0" and (at == 0 or decimal_zero)), (text, at)


@given(st.text(max_size=40), st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_any_text_reads_as_a_positive_amount_or_is_refused(
    text: str, currency: str, locale: str
) -> None:
    try:
        minor = read_amount(text, currency, locale=locale, maximum=10**12)
    except MoneyError as err:
        assert err.code.startswith("amount_") and err.field == "amount"
        return
    assert 0 < minor <= 10**12


@given(st.text(alphabet="0123456789.,- abc", max_size=12))
def test_typed_text_is_read_or_refused_never_filtered(text: str) -> None:
    """The cashier screen once kept only the keys it liked ("1,00" became 100, "abc" became
    nothing, "-1" became 1). Whatever reads must be the text with nothing taken out."""
    try:
        minor = read_amount(text, "CNY", locale="en")
    except MoneyError:
        return
    kept = "".join(ch for ch in text.strip() if ch in "0123456789.")
    assert set(text.strip()) <= set("0123456789.,")
    assert minor == parse_amount(kept, "CNY")
