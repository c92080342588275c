"""EMV merchant-presented QR codes (EMVCo QRCPS-MPM): read, check, write.

:func:`parse_mpm` walks the payload, checks every rule of the specification
and returns a :class:`MerchantPresentedCode`. A rule broken in a way that
makes the code unusable is an error (:class:`CodeError`, listing every
problem found); a rule that deployed codes break while staying readable (PFI
"02", a lower-case CRC, a PromptPay code with no MCC...) is a warning on the
result. :func:`build_mpm` writes a code that parses back byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from scanpay.codes import tlv
from scanpay.codes.crc import mpm_crc
from scanpay.codes.errors import CodeError, Problem, Severity
from scanpay.codes.mask import mask_text
from scanpay.codes.schemes import (
    MANDATORY_EXEMPT,
    PRIMITIVE_NETWORKS,
    SCHEME_RULES,
    SchemeRule,
    identify,
)
from scanpay.codes.tlv import DataObject
from scanpay.money import Money, MoneyError, format_amount, get_currency, parse_amount

__all__ = [
    "ADDITIONAL_DATA_NAMES",
    "AccountTemplate",
    "AdditionalData",
    "MerchantAccount",
    "MerchantLanguage",
    "MerchantPresentedCode",
    "build_mpm",
    "parse_mpm",
]

ADDITIONAL_DATA_NAMES: dict[str, str] = {
    "01": "bill_number",
    "02": "mobile_number",
    "03": "store_label",
    "04": "loyalty_number",
    "05": "reference_label",
    "06": "customer_label",
    "07": "terminal_label",
    "08": "purpose",
    "09": "consumer_data_request",
}
_ADDITIONAL_DATA_IDS = {name: ident for ident, name in ADDITIONAL_DATA_NAMES.items()}

# Root objects with a fixed length (EMVCo MPM Table 3.6) and the rule code a
# wrong value breaks. The value must also be digits, except 58 (ans).
_FIXED: dict[str, tuple[int, str]] = {
    "52": (4, "bad_mcc"),
    "53": (3, "bad_currency"),
    "58": (2, "bad_country"),
}
_MAX_LENGTH: dict[str, int] = {"54": 13, "56": 13, "57": 5, "59": 25, "60": 15, "61": 10}
_AMOUNT_TEXT = re.compile(r"[0-9]*\.?[0-9]*")
_PERCENT = re.compile(r"([0-9]{1,2})(?:\.([0-9]{0,2}))?")
_CRC_TAIL = re.compile(r"6304([0-9A-Fa-f]{4})\Z")


def _is_merchant_account(ident: str) -> bool:
    return "02" <= ident <= "51"


def _is_template(ident: str) -> bool:
    return "26" <= ident <= "51"


@dataclass(frozen=True, slots=True)
class MerchantAccount:
    """One merchant account information object (root ID 02-51).

    IDs 02-25 are primitive (a card network's merchant ID in ``value``);
    26-51 are templates whose ``fields`` start with the GUI in sub-ID 00.
    ``payee`` is the account the money goes to, when the scheme defines it.
    """

    id: str
    value: str
    gui: str | None = None
    scheme: str | None = None
    variant: str = ""
    fields: tuple[DataObject, ...] = ()
    payee: str | None = None
    payee_kind: str | None = None

    def get(self, sub_id: str) -> str | None:
        """The value of a sub-object, or ``None``."""
        return next((f.value for f in self.fields if f.id == sub_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "gui": self.gui,
            "scheme": self.scheme,
            "variant": self.variant or None,
            "payee": self.payee,
            "payee_kind": self.payee_kind,
            "fields": {f.id: f.value for f in self.fields} if self.fields else None,
            "value": None if self.fields else self.value,
        }


@dataclass(frozen=True, slots=True)
class AdditionalData:
    """The additional data field template (root ID 62)."""

    objects: tuple[DataObject, ...]

    def get(self, key: str) -> str | None:
        """A sub-object by ID ("05") or name ("reference_label")."""
        ident = _ADDITIONAL_DATA_IDS.get(key, key)
        return next((o.value for o in self.objects if o.id == ident), None)

    @property
    def bill_number(self) -> str | None:
        return self.get("01")

    @property
    def reference_label(self) -> str | None:
        return self.get("05")

    @property
    def terminal_label(self) -> str | None:
        return self.get("07")

    def to_dict(self) -> dict[str, str]:
        """Named sub-objects by name, the others (RFU, payment-system specific) by ID."""
        return {ADDITIONAL_DATA_NAMES.get(o.id, o.id): o.value for o in self.objects}


@dataclass(frozen=True, slots=True)
class MerchantLanguage:
    """Merchant information in an alternate language (root ID 64)."""

    language: str
    name: str
    city: str | None = None


@dataclass(frozen=True, slots=True)
class MerchantPresentedCode:
    """A parsed merchant-presented code. Every value is kept exactly as written."""

    kind: ClassVar[Literal["emv_mpm"]] = "emv_mpm"

    payload: str
    objects: tuple[DataObject, ...]
    merchant_accounts: tuple[MerchantAccount, ...]
    additional_data: AdditionalData | None = None
    language_template: MerchantLanguage | None = None
    warnings: tuple[Problem, ...] = ()
    _index: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def get(self, ident: str) -> str | None:
        """The raw value of root data object ``ident``, or ``None``."""
        return self._index.get(ident)

    @property
    def payload_format(self) -> str | None:
        return self.get("00")

    @property
    def point_of_initiation(self) -> str | None:
        return self.get("01")

    @property
    def is_dynamic(self) -> bool:
        """True for a one-transaction code (point of initiation "12")."""
        return self.get("01") == "12"

    @property
    def mcc(self) -> str | None:
        return self.get("52")

    @property
    def currency(self) -> str | None:
        """ISO 4217 numeric code as written ("156")."""
        return self.get("53")

    @property
    def currency_alpha(self) -> str | None:
        code = self.get("53")
        return get_currency(code).alpha if code else None

    @property
    def amount_text(self) -> str | None:
        """Tag 54 exactly as written ("23.7"), or ``None``."""
        return self.get("54")

    @property
    def amount(self) -> int | None:
        """The amount in minor units, or ``None`` when the code leaves it to the payer.

        A zero amount ("00.00", seen on deployed static codes) means no amount.
        Raises :class:`CodeError` (``bad_amount``, field 54) when the amount has
        more decimals than the currency allows ("23.723" in CNY): such a code
        can be read and shown but not paid.
        """
        text, currency = self.get("54"), self.get("53")
        if text is None or currency is None or not text.strip("0."):
            return None
        try:
            return parse_amount(text, currency)
        except MoneyError as exc:
            raise CodeError.single(
                "bad_amount", field="54", offset=self._offset("54"), detail=exc.text.en
            ) from None

    @property
    def money(self) -> Money | None:
        """The amount as :class:`Money`, or ``None`` (see :attr:`amount`)."""
        minor = self.amount
        alpha = self.currency_alpha
        return None if minor is None or alpha is None else Money(minor, alpha)

    @property
    def tip_indicator(self) -> str | None:
        return self.get("55")

    @property
    def country(self) -> str | None:
        return self.get("58")

    @property
    def merchant_name(self) -> str | None:
        return self.get("59")

    @property
    def merchant_city(self) -> str | None:
        return self.get("60")

    @property
    def postal_code(self) -> str | None:
        return self.get("61")

    @property
    def crc(self) -> str | None:
        return self.get("63")

    @property
    def gui(self) -> str | None:
        """The GUI of the first merchant account template (IDs 26-51)."""
        return next((a.gui for a in self.merchant_accounts if a.gui is not None), None)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Every scheme the code can be paid with, in payload order, without repeats."""
        found: list[str] = []
        for account in self.merchant_accounts:
            if account.scheme and account.scheme not in found:
                found.append(account.scheme)
        return tuple(found)

    @property
    def scheme(self) -> str | None:
        """The code's main scheme: its first recognised template, else its card network."""
        for account in self.merchant_accounts:
            if account.scheme and account.gui is not None:
                return account.scheme
        if self.country == "IN" and any(a.gui is None for a in self.merchant_accounts):
            return "bharatqr"
        return self.schemes[0] if self.schemes else None

    @property
    def payee(self) -> MerchantAccount | None:
        """The first merchant account that names a payee."""
        return next((a for a in self.merchant_accounts if a.payee), None)

    def _offset(self, ident: str) -> int | None:
        return next((o.offset for o in self.objects if o.id == ident), None)

    def encode(self) -> str:
        """The payload written again from the data objects, with a fresh upper-case CRC."""
        body = tlv.encode(o for o in self.objects if o.id != "63") + "6304"
        return body + mpm_crc(body)

    def mask(self) -> str:
        """What may be shown or logged: merchant, city, amount and payee (masked)."""
        payee = self.payee
        parts = [
            self.scheme or "emv",
            self.merchant_name or "?",
            self.merchant_city or "",
            f"{self.amount_text} {self.currency_alpha or self.currency}"
            if self.amount_text
            else "",
            mask_text(payee.payee) if payee and payee.payee else "",
        ]
        return " / ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, for ``scanpay code parse --json`` and the host's API."""
        try:
            amount: int | None = self.amount
            amount_error: dict[str, Any] | None = None
        except CodeError as exc:
            amount, amount_error = None, exc.to_dict()
        return {
            "kind": self.kind,
            "scheme": self.scheme,
            "schemes": list(self.schemes),
            "payload_format": self.payload_format,
            "point_of_initiation": self.point_of_initiation,
            "dynamic": self.is_dynamic,
            "merchant_name": self.merchant_name,
            "merchant_city": self.merchant_city,
            "postal_code": self.postal_code,
            "mcc": self.mcc,
            "currency": self.currency,
            "currency_alpha": self.currency_alpha,
            "country": self.country,
            "amount": amount,
            "amount_text": self.amount_text,
            "amount_error": amount_error,
            "tip_indicator": self.tip_indicator,
            "convenience_fee_fixed": self.get("56"),
            "convenience_fee_percentage": self.get("57"),
            "crc": self.crc,
            "gui": self.gui,
            "merchant_accounts": [a.to_dict() for a in self.merchant_accounts],
            "additional_data": self.additional_data.to_dict() if self.additional_data else None,
            "language_template": (
                {
                    "language": self.language_template.language,
                    "name": self.language_template.name,
                    "city": self.language_template.city,
                }
                if self.language_template
                else None
            ),
            "unreserved": {o.id: o.value for o in self.objects if "65" <= o.id <= "99"},
            "warnings": [w.to_dict() for w in self.warnings],
        }


class _Checker:
    """Collects the problems of one payload."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(
        self,
        code: str,
        severity: Severity,
        obj: DataObject | None = None,
        detail: str = "",
        *,
        field: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.problems.append(
            Problem(
                code,
                severity,
                field if field is not None else (obj.id if obj else None),
                offset if offset is not None else (obj.offset if obj else None),
                detail,
            )
        )

    def error(self, code: str, obj: DataObject | None = None, detail: str = "", **kw: Any) -> None:
        self.add(code, "error", obj, detail, **kw)

    def warn(self, code: str, obj: DataObject | None = None, detail: str = "", **kw: Any) -> None:
        self.add(code, "warning", obj, detail, **kw)


def _check_crc(text: str, check: _Checker) -> None:
    match = _CRC_TAIL.search(text)
    if match is None:
        check.error(
            "crc_mismatch",
            field="63",
            offset=max(len(text) - 8, 0),
            detail="the payload must end with 6304 and 4 hex digits",
        )
        return
    written = match.group(1)
    expected = mpm_crc(text[:-4])
    if written.upper() != expected:
        check.error("crc_mismatch", field="63", offset=len(text) - 8, detail=f"expected {expected}")
    elif written != expected:
        check.warn("crc_lowercase", field="63", offset=len(text) - 8)


def _walk_template(
    obj: DataObject, check: _Checker, code: str, *, strict: bool = True
) -> tuple[DataObject, ...] | None:
    """Sub-objects of a template, checking duplicates and empty values."""
    children, problems = tlv.walk(obj.value, base=obj.offset + 4, field=f"{obj.id}.")
    if problems:
        if strict:
            first = problems[0]
            check.error(code, field=first.field, offset=first.offset, detail=first.detail)
        return None
    seen: set[str] = set()
    for child in children:
        where = f"{obj.id}.{child.id}"
        if child.id in seen:
            check.error("duplicate_id", field=where, offset=child.offset)
        seen.add(child.id)
        if not child.value:
            check.error("empty_value", field=where, offset=child.offset)
    return tuple(children)


def _merchant_account(obj: DataObject, check: _Checker) -> MerchantAccount:
    if not _is_template(obj.id):
        return MerchantAccount(
            obj.id,
            obj.value,
            scheme=PRIMITIVE_NETWORKS.get(obj.id),
            payee=obj.value,
            payee_kind="merchant_id",
        )
    children = _walk_template(obj, check, "bad_template")
    if children is None:
        return MerchantAccount(obj.id, obj.value)
    subs = {c.id: c.value for c in children}
    gui = subs.get("00")
    if gui is None:
        check.error("bad_template", obj, "no globally unique identifier (00)")
        return MerchantAccount(obj.id, obj.value, fields=children)
    if len(gui) > 32:
        check.error("too_long", field=f"{obj.id}.00", offset=obj.offset + 4, detail="GUI > 32")
    spec = identify(gui, subs, obj.id)
    if spec is None:
        return MerchantAccount(obj.id, obj.value, gui=gui, fields=children)
    payee = payee_kind = None
    for sub_id, kind in spec.payee_keys.items():
        if sub_id in subs:
            payee, payee_kind = subs[sub_id], kind
            break
    if spec.scheme == "vietqr" and payee_kind == "bank_account":
        # NAPAS nests {00 bank BIN, 01 account} inside sub-ID 01.
        inner, problems = tlv.walk(subs["01"])
        parts = {o.id: o.value for o in inner}
        if not problems and "00" in parts and "01" in parts:
            payee = f"{parts['00']}:{parts['01']}"
    return MerchantAccount(
        obj.id, obj.value, gui, spec.scheme, spec.variant, children, payee, payee_kind
    )


def _check_amount_like(obj: DataObject, check: _Checker, code: str, zero: Severity) -> None:
    if not _AMOUNT_TEXT.fullmatch(obj.value) or obj.value == ".":
        check.error(code, obj, f"{obj.value!r} is not digits with at most one '.'")
    elif not obj.value.strip("0."):
        # Deployed static codes carry "00.00": readable, treated as no amount.
        check.add(code, zero, obj, "amount is zero")


def _check_root_object(obj: DataObject, check: _Checker) -> None:
    ident, value = obj.id, obj.value
    if ident == "00" and value != "01":
        check.warn("bad_payload_format", obj, f"{value!r}")
    elif ident == "01" and value not in ("11", "12"):
        check.error("bad_point_of_initiation", obj, f"{value!r}")
    elif ident in _FIXED:
        size, code = _FIXED[ident]
        ok = len(value) == size and (ident == "58" or (value.isascii() and value.isdigit()))
        if not ok:
            check.error(code, obj, f"{value!r}")
        elif ident == "53":
            try:
                get_currency(value)
            except MoneyError:
                check.error("unknown_currency", obj, f"{value!r}")
    if ident in _MAX_LENGTH and len(value) > _MAX_LENGTH[ident]:
        check.error("too_long", obj, f"{len(value)} > {_MAX_LENGTH[ident]}")
    if ident == "54":
        _check_amount_like(obj, check, "bad_amount", "warning")
    elif ident == "56":
        _check_amount_like(obj, check, "bad_tip", "error")
    elif ident == "57":
        match = _PERCENT.fullmatch(value)
        hundredths = (
            int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0")) if match else 0
        )
        if not 1 <= hundredths <= 9999:
            check.error("bad_tip", obj, "percentage must be 00.01-99.99")


def _check_tip(index: Mapping[str, DataObject], check: _Checker) -> None:
    tip = index.get("55")
    if tip is not None and tip.value not in ("01", "02", "03"):
        check.error("bad_tip", tip, f"indicator {tip.value!r}")
    indicator = tip.value if tip else None
    if "56" in index and indicator != "02":
        check.error("bad_tip", index["56"], "fixed fee (56) needs indicator 02")
    if "57" in index and indicator != "03":
        check.error("bad_tip", index["57"], "percentage fee (57) needs indicator 03")
    if indicator == "02" and "56" not in index:
        check.error("bad_tip", tip, "indicator 02 needs a fixed fee (56)")
    if indicator == "03" and "57" not in index:
        check.error("bad_tip", tip, "indicator 03 needs a percentage fee (57)")


def _additional_data(obj: DataObject, check: _Checker) -> AdditionalData | None:
    children = _walk_template(obj, check, "bad_template")
    if children is None:
        return None
    for child in children:
        where = f"62.{child.id}"
        if "01" <= child.id <= "08" and len(child.value) > 25:
            check.error("bad_additional_data", field=where, offset=child.offset, detail="> 25")
        elif child.id == "09" and (
            len(child.value) > 3
            or set(child.value) - set("AME")
            or len(set(child.value)) != len(child.value)
        ):
            check.error(
                "bad_additional_data",
                field=where,
                offset=child.offset,
                detail="09 takes distinct letters A, M, E",
            )
    return AdditionalData(children)


def _language(obj: DataObject, check: _Checker) -> MerchantLanguage | None:
    children = _walk_template(obj, check, "bad_language_template")
    if children is None:
        return None
    subs = {c.id: c for c in children}
    lang, name = subs.get("00"), subs.get("01")
    if lang is None or len(lang.value) != 2 or name is None:
        check.error("bad_language_template", obj, "needs 00 (2-letter language) and 01 (name)")
        return None
    if len(name.value) > 25:
        check.error("too_long", field="64.01", offset=name.offset, detail="> 25")
    city = subs.get("02")
    if city is not None and len(city.value) > 15:
        check.error("too_long", field="64.02", offset=city.offset, detail="> 15")
    return MerchantLanguage(lang.value, name.value, city.value if city else None)


def _check_mandatory(
    index: Mapping[str, DataObject],
    accounts: Sequence[MerchantAccount],
    check: _Checker,
    end: int,
) -> None:
    if not accounts:
        check.error("missing_merchant_account", offset=0, field="02-51")
    exempt: frozenset[str] = frozenset()
    for account in accounts:
        if account.scheme in MANDATORY_EXEMPT:
            exempt = MANDATORY_EXEMPT[account.scheme]
            break
    for ident in ("52", "53", "58", "59", "60"):
        if ident not in index:
            severity: Severity = "warning" if ident in exempt else "error"
            check.add("missing_field", severity, field=ident, offset=end, detail=f"no {ident}")


def _check_scheme_rules(
    index: Mapping[str, DataObject],
    accounts: Sequence[MerchantAccount],
    rules: Mapping[str, Sequence[SchemeRule]],
    check: _Checker,
) -> None:
    for scheme in dict.fromkeys(a.scheme for a in accounts if a.scheme):
        for rule in rules.get(scheme, ()):
            obj = index.get(rule.id)
            if obj is not None and obj.value not in rule.allowed:
                check.error("scheme_rule", obj, f"{scheme} allows {sorted(rule.allowed)}")


def parse_mpm(
    text: str, *, scheme_rules: Mapping[str, Sequence[SchemeRule]] | None = None
) -> MerchantPresentedCode:
    """Parse and check a merchant-presented payload.

    Raises :class:`CodeError` listing every problem when any is an error;
    otherwise the result's ``warnings`` lists the strict rules it breaks.
    ``scheme_rules`` replaces the built-in per-scheme restrictions.
    """
    if not isinstance(text, str) or not text:
        raise CodeError.single("not_a_payment_code", detail="empty")
    check = _Checker()
    _check_crc(text, check)
    objects, walk_problems = tlv.walk(text)
    check.problems.extend(walk_problems)
    complete = not walk_problems
    if not objects or objects[0].id != "00":
        check.error("bad_tlv", objects[0] if objects else None, "00 must come first", offset=0)
    if complete and objects and objects[-1].id != "63":
        check.error("bad_tlv", objects[-1], "63 must come last")

    index: dict[str, DataObject] = {}
    for obj in objects:
        if obj.id in index:
            check.error("duplicate_id", obj)
            continue
        index[obj.id] = obj
        if not obj.value:
            check.error("empty_value", obj)
            continue
        _check_root_object(obj, check)

    accounts = [_merchant_account(o, check) for o in index.values() if _is_merchant_account(o.id)]
    additional = _additional_data(index["62"], check) if "62" in index else None
    language = _language(index["64"], check) if "64" in index else None
    for ident, obj in index.items():
        if "80" <= ident <= "99":
            # Unreserved templates are often opaque (DuitNow 82, TrueMoney 81):
            # keep them, never fail the code because of them.
            _walk_template(obj, check, "bad_template", strict=False)
    _check_tip(index, check)
    if complete:
        _check_mandatory(index, accounts, check, len(text))
    _check_scheme_rules(
        index, accounts, SCHEME_RULES if scheme_rules is None else scheme_rules, check
    )

    errors = [p for p in check.problems if p.severity == "error"]
    if errors:
        raise CodeError(_ordered(check.problems))
    return MerchantPresentedCode(
        payload=text,
        objects=tuple(objects),
        merchant_accounts=tuple(accounts),
        additional_data=additional,
        language_template=language,
        warnings=tuple(_ordered(check.problems)),
        _index={ident: obj.value for ident, obj in index.items()},
    )


def _ordered(problems: list[Problem]) -> list[Problem]:
    # Structure first: a broken frame or CRC explains the rest.
    rank = {"crc_mismatch": 0, "bad_tlv": 1}
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.severity != "error", rank.get(p.code, 2)))


@dataclass(frozen=True, slots=True)
class AccountTemplate:
    """A merchant account template for :func:`build_mpm`: ID 26-51, GUI, sub-objects."""

    id: str
    gui: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        return tlv.encode([("00", self.gui), *sorted(self.fields.items())])


def build_mpm(
    *,
    merchant_accounts: Sequence[AccountTemplate | tuple[str, str]],
    merchant_name: str,
    merchant_city: str,
    mcc: str,
    currency: str,
    country: str,
    amount: int | None = None,
    dynamic: bool | None = None,
    postal_code: str | None = None,
    tip: Literal["prompt"] | Money | str | None = None,
    additional_data: Mapping[str, str] | None = None,
    language: MerchantLanguage | None = None,
    unreserved: Mapping[str, str] | None = None,
) -> str:
    """Write a merchant-presented payload.

    ``amount`` is in minor units of ``currency`` (alphabetic or numeric code);
    a code with an amount is dynamic unless ``dynamic=False``. ``tip`` is
    "prompt" (55=01), a fixed fee as :class:`Money` (55=02) or a percentage
    text such as "3.5" (55=03). ``additional_data`` takes template 62 sub-objects
    by name ("reference_label", "bill_number", ...) or ID. The result is parsed
    before it is returned, so anything that breaks a rule raises
    :class:`CodeError` instead of producing a code a wallet would refuse.
    """
    try:
        cur = get_currency(currency)
    except MoneyError:
        raise CodeError.single("unknown_currency", field="53", detail=repr(currency)) from None
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise CodeError.single("bad_amount", field="54", detail="amount is integer minor units")
    if amount is not None and amount <= 0:
        raise CodeError.single("bad_amount", field="54", detail="amount must be positive")
    objects: list[tuple[str, str]] = [("00", "01")]
    is_dynamic = amount is not None if dynamic is None else dynamic
    objects.append(("01", "12" if is_dynamic else "11"))
    for account in merchant_accounts:
        if isinstance(account, AccountTemplate):
            objects.append((account.id, account.encode()))
        else:
            objects.append(account)
    objects += [("52", mcc), ("53", cur.numeric)]
    if amount is not None:
        objects.append(("54", format_amount(amount, cur)))
    if tip == "prompt":
        objects.append(("55", "01"))
    elif isinstance(tip, Money):
        objects += [("55", "02"), ("56", format_amount(tip.minor, cur))]
    elif isinstance(tip, str):
        objects += [("55", "03"), ("57", tip)]
    objects += [("58", country), ("59", merchant_name), ("60", merchant_city)]
    if postal_code is not None:
        objects.append(("61", postal_code))
    if additional_data:
        subs = sorted((_ADDITIONAL_DATA_IDS.get(k, k), v) for k, v in additional_data.items())
        objects.append(("62", tlv.encode(subs)))
    if language is not None:
        subs = [("00", language.language), ("01", language.name)]
        if language.city is not None:
            subs.append(("02", language.city))
        objects.append(("64", tlv.encode(subs)))
    for ident, value in sorted((unreserved or {}).items()):
        objects.append((ident, value))
    body = tlv.encode(objects) + "6304"
    payload = body + mpm_crc(body)
    parse_mpm(payload)
    return payload
