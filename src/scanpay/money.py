"""Money: integer minor units plus an ISO 4217 currency, never a float.

The currency table is ISO 4217 (alphabetic code, numeric code, minor-unit
exponent). Amount text such as EMV tag 54 ("23.72") is converted with
:func:`parse_amount`, which refuses more decimals than the currency has. An amount
a person typed ("1,000.50", "1.000,50" in German) is read with :func:`read_amount`,
the one reader of every screen, form and command line: it knows the separators of
the person's language and refuses, with a message, whatever it cannot read exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = [
    "Currency",
    "Money",
    "MoneyError",
    "currencies",
    "format_amount",
    "get_currency",
    "parse_amount",
    "read_amount",
    "show_amount",
]

# alpha numeric exponent; active ISO 4217 codes (funds codes left out except the
# Chilean and Uruguayan units, which appear in payment systems).
_TABLE = """
AED 784 2 AFN 971 2 ALL 008 2 AMD 051 2 AOA 973 2 ARS 032 2 AUD 036 2 AWG 533 2
AZN 944 2 BAM 977 2 BBD 052 2 BDT 050 2 BGN 975 2 BHD 048 3 BIF 108 0 BMD 060 2
BND 096 2 BOB 068 2 BRL 986 2 BSD 044 2 BTN 064 2 BWP 072 2 BYN 933 2 BZD 084 2
CAD 124 2 CDF 976 2 CHF 756 2 CLF 990 4 CLP 152 0 CNY 156 2 COP 170 2 CRC 188 2
CUP 192 2 CVE 132 2 CZK 203 2 DJF 262 0 DKK 208 2 DOP 214 2 DZD 012 2 EGP 818 2
ERN 232 2 ETB 230 2 EUR 978 2 FJD 242 2 FKP 238 2 GBP 826 2 GEL 981 2 GHS 936 2
GIP 292 2 GMD 270 2 GNF 324 0 GTQ 320 2 GYD 328 2 HKD 344 2 HNL 340 2 HTG 332 2
HUF 348 2 IDR 360 2 ILS 376 2 INR 356 2 IQD 368 3 IRR 364 2 ISK 352 0 JMD 388 2
JOD 400 3 JPY 392 0 KES 404 2 KGS 417 2 KHR 116 2 KMF 174 0 KPW 408 2 KRW 410 0
KWD 414 3 KYD 136 2 KZT 398 2 LAK 418 2 LBP 422 2 LKR 144 2 LRD 430 2 LSL 426 2
LYD 434 3 MAD 504 2 MDL 498 2 MGA 969 2 MKD 807 2 MMK 104 2 MNT 496 2 MOP 446 2
MRU 929 2 MUR 480 2 MVR 462 2 MWK 454 2 MXN 484 2 MYR 458 2 MZN 943 2 NAD 516 2
NGN 566 2 NIO 558 2 NOK 578 2 NPR 524 2 NZD 554 2 OMR 512 3 PAB 590 2 PEN 604 2
PGK 598 2 PHP 608 2 PKR 586 2 PLN 985 2 PYG 600 0 QAR 634 2 RON 946 2 RSD 941 2
RUB 643 2 RWF 646 0 SAR 682 2 SBD 090 2 SCR 690 2 SDG 938 2 SEK 752 2 SGD 702 2
SHP 654 2 SLE 925 2 SOS 706 2 SRD 968 2 SSP 728 2 STN 930 2 SVC 222 2 SYP 760 2
SZL 748 2 THB 764 2 TJS 972 2 TMT 934 2 TND 788 3 TOP 776 2 TRY 949 2 TTD 780 2
TWD 901 2 TZS 834 2 UAH 980 2 UGX 800 0 USD 840 2 UYI 940 0 UYU 858 2 UYW 927 4
UZS 860 2 VED 926 2 VES 928 2 VND 704 0 VUV 548 0 WST 882 2 XAF 950 0 XCD 951 2
XCG 532 2 XOF 952 0 XPF 953 0 YER 886 2 ZAR 710 2 ZMW 967 2 ZWG 924 2
"""


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: ``alpha`` ("CNY"), ``numeric`` ("156"), ``exponent`` (2)."""

    alpha: str
    numeric: str
    exponent: int


def _load() -> tuple[dict[str, Currency], dict[str, Currency]]:
    words = _TABLE.split()
    by_alpha: dict[str, Currency] = {}
    by_numeric: dict[str, Currency] = {}
    for i in range(0, len(words), 3):
        cur = Currency(words[i], words[i + 1], int(words[i + 2]))
        by_alpha[cur.alpha] = cur
        by_numeric[cur.numeric] = cur
    return by_alpha, by_numeric


_BY_ALPHA, _BY_NUMERIC = _load()
_AMOUNT = re.compile(r"(\d*)(?:\.(\d*))?")


class MoneyError(ScanpayError):
    """A currency that ISO 4217 does not know, or an amount that is not money."""


def currencies() -> list[Currency]:
    """Every currency scanpay knows, ordered by alphabetic code."""
    return sorted(_BY_ALPHA.values(), key=lambda c: c.alpha)


def get_currency(code: str) -> Currency:
    """Look a currency up by alphabetic ("CNY", any case) or numeric ("156") code."""
    found = _BY_NUMERIC.get(code) if code.isdigit() else _BY_ALPHA.get(code.upper())
    if found is None:
        raise MoneyError(
            "unknown_currency",
            Text(f"未知的币种：{code!r}", f"unknown currency: {code!r}"),
            field="currency",
        )
    return found


def parse_amount(text: str, currency: str | Currency) -> int:
    """Decimal amount text ("23.72", "23.7", "98.", "100") to integer minor units.

    More decimals than the currency's exponent is an error (``bad_amount``):
    "23.723" cannot be paid in CNY. Signs, commas, spaces and exponents are refused.
    """
    cur = currency if isinstance(currency, Currency) else get_currency(currency)
    match = _AMOUNT.fullmatch(text)
    if match is None or not (match.group(1) or match.group(2)):
        raise MoneyError(
            "bad_amount",
            Text(f"金额格式错误：{text!r}", f"not an amount: {text!r}"),
            field="amount",
        )
    whole, frac = match.group(1) or "0", (match.group(2) or "").rstrip("0")
    if len(frac) > cur.exponent:
        raise MoneyError(
            "bad_amount",
            Text(
                f"金额 {text} 的小数位超过 {cur.alpha} 允许的 {cur.exponent} 位",
                f"amount {text} has more decimals than {cur.alpha} allows ({cur.exponent})",
            ),
            field="amount",
        )
    scale: int = 10**cur.exponent
    return int(whole) * scale + (int(frac.ljust(cur.exponent, "0")) if frac else 0)


def format_amount(minor: int, currency: str | Currency) -> str:
    """Integer minor units to plain decimal text: 1234 CNY -> "12.34", 999 JPY -> "999"."""
    cur = currency if isinstance(currency, Currency) else get_currency(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**cur.exponent)
    if cur.exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{cur.exponent}d}"


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of money: integer ``minor`` units of ``currency`` (alphabetic code)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError(
                "bad_amount",
                Text("金额必须是整数最小单位", "amounts are integer minor units"),
                field="amount",
            )
        object.__setattr__(self, "currency", get_currency(self.currency).alpha)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Money from decimal text in ``currency``: ``Money.parse("12.34", "CNY")``."""
        return cls(parse_amount(text, currency), get_currency(currency).alpha)

    def __str__(self) -> str:
        return f"{format_amount(self.minor, self.currency)} {self.currency}"


# ---------------------------------------------------------------- amounts people type


@dataclass(frozen=True, slots=True)
class _Separators:
    """How a language writes amounts: its decimal separator and the characters that
    group thousands (the first is the one it writes)."""

    decimal: str
    grouping: tuple[str, ...]


_DOT_COMMA = _Separators(".", (",",))
_COMMA_DOT = _Separators(",", (".",))
_COMMA_SPACE = _Separators(",", (" ", "\u00a0", "\u202f"))
_DOT_APOSTROPHE = _Separators(".", ("'", "\u2019"))

#: Language, or language-region, to its separators (lower case). Any other language
#: reads amounts as English does.
_LOCALES: dict[str, _Separators] = {
    **dict.fromkeys(("en", "zh", "ja", "ko", "th", "ms", "he"), _DOT_COMMA),
    **dict.fromkeys(("es-mx", "es-us", "es-419"), _DOT_COMMA),
    **dict.fromkeys(("de", "es", "it", "pt", "nl", "id", "tr", "da", "vi", "el"), _COMMA_DOT),
    **dict.fromkeys(("fr", "ru", "uk", "pl", "cs", "sk", "sv", "fi", "nb", "no"), _COMMA_SPACE),
    **dict.fromkeys(("de-ch", "it-ch", "fr-ch"), _DOT_APOSTROPHE),
}

# Full-width digits, point, comma and minus, as a Chinese or Japanese input method types
# them: the same characters, not different ones, so they are read (never dropped).
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + d): str(d) for d in range(10)}, "．": ".", "，": ",", "－": "-"}
)
_MINUS = ("-", "\u2212", "\ufe63")
_DIGITS = frozenset("0123456789")
#: More integer digits than any amount: refused before they are turned into a number.
_MAX_WHOLE_DIGITS = 15

# The name of a separator in a message: (zh-CN, en).
_NAMES: dict[str, tuple[str, str]] = {
    ".": ("点", "point"),
    ",": ("逗号", "comma"),
    " ": ("空格", "space"),
    "\u00a0": ("空格", "space"),
    "\u202f": ("空格", "space"),
    "'": ("撇号", "apostrophe"),
    "\u2019": ("撇号", "apostrophe"),
}


def _separators(locale: str) -> _Separators:
    tag = locale.strip().replace("_", "-").lower()
    return _LOCALES.get(tag) or _LOCALES.get(tag.split("-")[0]) or _DOT_COMMA


def show_amount(minor: int, currency: str | Currency, *, locale: str = "en") -> str:
    """Integer minor units as a person of ``locale`` writes them, thousands grouped:
    123456 CNY -> "1,234.56" (en, zh-CN), "1.234,56" (de), "1 234,56" (fr).
    :func:`read_amount` reads it back."""
    cur = currency if isinstance(currency, Currency) else get_currency(currency)
    seps = _separators(locale)
    plain = format_amount(abs(minor), cur)
    whole, _, frac = plain.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        whole, tail = whole[:-3], whole[-3:]
        groups.insert(0, tail)
    text = seps.grouping[0].join([whole, *groups])
    return ("-" if minor < 0 else "") + (text + seps.decimal + frac if frac else text)


def _example(cur: Currency, locale: str) -> str:
    # 12.34 (12 in yen, 12.340 in dinars): how to type an amount, below any grouping.
    return show_amount(1234 * 10**cur.exponent // 100, cur, locale=locale)


def _refuse(code: str, zh: str, en: str, field: str) -> MoneyError:
    return MoneyError(code, Text(zh, en), field=field)


def _char(ch: str) -> tuple[str, str]:
    """A character as a message names it: “a”, a space, U+0009."""
    if ch.isspace():
        return "空格", "a space"
    if not ch.isprintable():
        return f"U+{ord(ch):04X}", f"U+{ord(ch):04X}"
    return f"“{ch}”", f"“{ch}”"


def _grouping_ok(whole: str, seps: _Separators) -> bool:
    """Grouped in threes after a first group of 1-3 digits, with one grouping character."""
    used = {ch for ch in whole if ch in seps.grouping}
    if len(used) != 1:
        return False
    groups = whole.split(used.pop())
    return (
        1 <= len(groups[0]) <= 3
        and groups[0][0] != "0"
        and all(len(g) == 3 for g in groups[1:])
        and all(set(g) <= _DIGITS for g in groups)
    )


def _bad_grouping(typed: str, cur: Currency, locale: str, field: str) -> MoneyError:
    seps = _separators(locale)
    grouped = show_amount(1000 * 10**cur.exponent, cur, locale=locale)
    marks = [ch for ch in typed if ch in seps.grouping]
    mark = marks[0] if marks else seps.grouping[0]
    zh_name, en_name = _NAMES.get(mark, ("分隔符", "separator"))
    after = typed.rsplit(mark, 1)[-1]
    if (
        len(marks) == 1
        and seps.decimal not in typed
        and cur.exponent
        and 0 < len(after) <= cur.exponent
        and set(after) <= _DIGITS
    ):
        # "1,00" in English: a decimal comma from another language. Say what it means here.
        meant = typed.replace(mark, seps.decimal)
        return _refuse(
            "amount_bad_grouping",
            f"金额中的{zh_name}用于分隔千位（如 {grouped}）；您要输入的是 {meant} 吗？",
            f"In an amount a {en_name} groups thousands (as in {grouped}): did you mean {meant}?",
            field,
        )
    return _refuse(
        "amount_bad_grouping",
        f"金额中的{zh_name}用于每三位一组分隔数字（如 {grouped}）；请检查金额",
        f"In an amount a {en_name} groups digits in threes (as in {grouped}); check the amount",
        field,
    )


def read_amount(
    text: str,
    currency: str | Currency,
    *,
    locale: str = "en",
    maximum: int | None = None,
    allow_zero: bool = False,
    field: str = "amount",
) -> int:
    """An amount a person typed, in integer minor units of ``currency``.

    The separators are those of ``locale`` (a language tag: "en" and "zh-CN" write
    1,234.56, "de" 1.234,56, "fr" 1 234,56); grouping is accepted only where it
    belongs (threes after a first group of 1-3 digits). Surrounding spaces are
    trimmed and full-width digits read as digits. Everything else is refused with a
    :class:`MoneyError` (``field``) whose stable code says why: ``amount_empty``,
    ``amount_not_a_number`` (a letter, a stray sign), ``amount_negative``,
    ``amount_two_decimal_points``, ``amount_bad_grouping`` ("1,00" in English),
    ``amount_too_many_decimals`` (more than the currency's exponent, even zeros:
    "1.500" may mean fifteen hundred), ``amount_zero`` (unless ``allow_zero``) and
    ``amount_too_large`` (above ``maximum`` minor units, or absurdly long). No
    character is ever dropped: a text either reads as it is or is refused.
    """
    cur = currency if isinstance(currency, Currency) else get_currency(currency)
    seps = _separators(locale)
    typed = text.strip().translate(_FULL_WIDTH)
    example = _example(cur, locale)
    if not typed:
        raise _refuse("amount_empty", "请输入金额", "Enter an amount", field)
    if typed.startswith(_MINUS):
        raise _refuse("amount_negative", "金额不能为负数", "An amount cannot be negative", field)
    allowed = _DIGITS | {seps.decimal, *seps.grouping}
    stray = next((ch for ch in typed if ch not in allowed), None)
    if stray is not None:
        zh_ch, en_ch = _char(stray)
        raise _refuse(
            "amount_not_a_number",
            f"金额中不能有{zh_ch}：请输入数字，如 {example}",
            f"{en_ch[0].upper() + en_ch[1:]} cannot be in an amount: type digits, as in {example}",
            field,
        )
    if not any(ch in _DIGITS for ch in typed):
        raise _refuse(
            "amount_not_a_number",
            f"请用数字输入金额，如 {example}",
            f"Type the amount in digits, as in {example}",
            field,
        )
    parts = typed.split(seps.decimal)
    if len(parts) > 2:
        zh_name, en_name = _NAMES[seps.decimal]
        raise _refuse(
            "amount_two_decimal_points",
            f"金额中只能有一个小数{zh_name}（如 {example}）",
            f"An amount has only one decimal {en_name} (as in {example})",
            field,
        )
    whole, frac = parts[0], parts[1] if len(parts) == 2 else ""
    if any(ch not in _DIGITS for ch in frac) or (
        any(ch not in _DIGITS for ch in whole) and not _grouping_ok(whole, seps)
    ):
        raise _bad_grouping(typed, cur, locale, field)
    if len(frac) > cur.exponent:
        zh, en = (
            (f"{cur.alpha} 金额没有小数", f"{cur.alpha} amounts have no decimals")
            if cur.exponent == 0
            else (
                f"{cur.alpha} 金额最多 {cur.exponent} 位小数（如 {example}）",
                f"{cur.alpha} amounts have at most {cur.exponent} decimals (as in {example})",
            )
        )
        raise _refuse("amount_too_many_decimals", zh, en, field)
    digits = "".join(ch for ch in whole if ch in _DIGITS).lstrip("0")
    limit = (
        (
            f"金额不能超过 {cur.alpha} {show_amount(maximum, cur, locale=locale)}",
            f"The amount can be at most {cur.alpha} {show_amount(maximum, cur, locale=locale)}",
        )
        if maximum is not None
        else ("金额过大", "The amount is too large")
    )
    if len(digits) > _MAX_WHOLE_DIGITS:
        raise _refuse("amount_too_large", *limit, field)
    scale: int = 10**cur.exponent
    minor = int(digits or "0") * scale + int(frac.ljust(cur.exponent, "0") or "0")
    if minor == 0 and not allow_zero:
        raise _refuse("amount_zero", "金额必须大于 0", "The amount must be more than 0", field)
    if maximum is not None and minor > maximum:
        raise _refuse("amount_too_large", *limit, field)
    return minor
