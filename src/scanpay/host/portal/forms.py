"""The portal's forms, checked: the application for acquiring, passwords, e-mails.

Pure. Each parser takes the submitted fields as text and returns the typed
value or the errors by field, each a :class:`~scanpay.i18n.Text` the page
shows beside the field. The server checks everything again, whatever the
browser's script already said (the USCC check in ``static/uscc.js`` is the
same GB 32100 rule as :mod:`scanpay.host.domain.uscc`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from scanpay.host.domain.uscc import is_valid_uscc, normalize_uscc
from scanpay.i18n import Text
from scanpay.money import MoneyError, read_amount

__all__ = [
    "MAX_TERMINALS",
    "MIN_PASSWORD",
    "ApplicationInput",
    "check_password",
    "clean_text",
    "normalize_email",
    "parse_application",
]

MIN_PASSWORD = 10
MAX_PASSWORD = 128
MAX_TERMINALS = 20
_MAX_VOLUME = 10**12

_EMAIL = re.compile(r"[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{5,18}[0-9]")
_MCC = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, slots=True)
class ApplicationInput:
    """A business's application, checked."""

    company_name: str
    shop_name: str
    license: str
    legal_representative: str
    phone: str
    email: str
    city: str
    address: str
    mcc: str
    monthly_volume: int
    terminal_count: int


def clean_text(text: str) -> str:
    """Blanks trimmed and runs of white space made one; control characters removed."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    return " ".join(kept.split())


def normalize_email(text: str) -> str | None:
    """The e-mail in lower case, or None when it is not an address."""
    email = text.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return None
    return email


def check_password(password: str, again: str | None = None, *, email: str = "") -> Text | None:
    """Why ``password`` cannot be used (None: it can)."""
    if again is not None and password != again:
        return Text("两次输入的密码不一致", "the two passwords differ")
    if len(password) < MIN_PASSWORD:
        return Text(
            f"密码至少 {MIN_PASSWORD} 个字符",
            f"the password has at least {MIN_PASSWORD} characters",
        )
    if len(password) > MAX_PASSWORD:
        return Text(f"密码最多 {MAX_PASSWORD} 个字符", f"at most {MAX_PASSWORD} characters")
    if email and password.strip().lower() == email.strip().lower():
        return Text("密码不能与电子邮箱相同", "the password is not the e-mail address")
    if len(set(password)) < 4:
        return Text("密码过于简单", "the password is too simple")
    return None


def _length(zh: str, en: str, low: int, high: int) -> Text:
    return Text(f"{zh}须为 {low}-{high} 个字符", f"the {en} is {low}-{high} characters")


def parse_application(
    form: Mapping[str, str], currency: str = "CNY", *, language: str = "en"
) -> tuple[ApplicationInput | None, dict[str, Text]]:
    """The application from the form's fields, or None and the errors by field. The
    monthly volume is read as a person of ``language`` types amounts."""
    errors: dict[str, Text] = {}

    def text(name: str, zh: str, en: str, low: int, high: int) -> str:
        value = clean_text(form.get(name, ""))
        if not low <= len(value) <= high:
            errors[name] = _length(zh, en, low, high)
        return value

    company = text("company_name", "公司名称", "company name", 2, 64)
    shop = clean_text(form.get("shop_name", "")) or company[:25]
    if not 1 <= len(shop) <= 25:
        errors["shop_name"] = _length("店铺名称", "shop name", 1, 25)
    legal = text("legal_representative", "法定代表人", "legal representative", 2, 32)
    city = text("city", "城市", "city", 1, 15)
    address = text("address", "经营地址", "shop address", 4, 128)
    licence = normalize_uscc(form.get("license", ""))
    if not is_valid_uscc(licence):
        errors["license"] = Text(
            "统一社会信用代码无效（18 位，GB 32100 校验位）",
            "not a valid unified social credit code (18 characters, GB 32100 check)",
        )
    phone = clean_text(form.get("phone", ""))
    if not _PHONE.fullmatch(phone):
        errors["phone"] = Text("联系电话格式错误", "not a phone number")
    email = normalize_email(form.get("email", ""))
    if email is None:
        errors["email"] = Text("电子邮箱格式错误", "not an e-mail address")
    mcc = form.get("mcc", "").strip()
    if not _MCC.fullmatch(mcc):
        errors["mcc"] = Text("商户类别码须为 4 位数字", "the MCC is 4 digits")
    volume = -1
    try:
        volume = read_amount(
            form.get("monthly_volume", ""),
            currency,
            locale=language,
            maximum=_MAX_VOLUME,
            allow_zero=True,
            field="monthly_volume",
        )
    except MoneyError as exc:
        errors["monthly_volume"] = exc.text
    count_text = form.get("terminal_count", "").strip()
    count = int(count_text) if count_text.isdigit() and len(count_text) <= 3 else 0
    if not 1 <= count <= MAX_TERMINALS:
        errors["terminal_count"] = Text(
            f"终端数量须为 1-{MAX_TERMINALS}", f"1-{MAX_TERMINALS} terminals"
        )
    if errors:
        return None, errors
    assert email is not None
    return (
        ApplicationInput(
            company, shop, licence, legal, phone, email, city, address, mcc, volume, count
        ),
        {},
    )
