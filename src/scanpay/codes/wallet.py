"""Wallet payment codes (付款码): the digits a customer's wallet app shows.

Which wallet issued a code is told by its length and prefix. The rules are
configuration, not code: :data:`DEFAULT_WALLET_RULES` holds the documented
ones (research-emvqr.md §5) and a deployment passes its own table, for
example with the built-in wallet's prefix changed, through
:meth:`WalletRules.from_mapping`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from scanpay.codes.errors import CodeError, Problem
from scanpay.codes.mask import mask_text

__all__ = [
    "DEFAULT_WALLET_RULES",
    "WalletCode",
    "WalletRule",
    "WalletRules",
    "parse_wallet_code",
]


@dataclass(frozen=True, slots=True)
class WalletRule:
    """A wallet's code shape: a full-match ``pattern`` and an optional ``lenient`` one."""

    wallet: str
    pattern: str
    lenient: str | None = None

    def matches(self, text: str) -> Literal["strict", "lenient"] | None:
        if re.fullmatch(self.pattern, text):
            return "strict"
        if self.lenient and re.fullmatch(self.lenient, text):
            return "lenient"
        return None


@dataclass(frozen=True, slots=True)
class WalletRules:
    """An ordered table of wallet rules; the first match wins."""

    rules: tuple[WalletRule, ...]

    @classmethod
    def from_mapping(cls, data: Sequence[Mapping[str, Any]]) -> WalletRules:
        """Rules from JSON-like data: ``[{"wallet", "regex", "lenient_regex"?}, ...]``."""
        rules = []
        for item in data:
            pattern = str(item["regex"])
            lenient = item.get("lenient_regex")
            re.compile(pattern)
            if lenient is not None:
                re.compile(str(lenient))
            rules.append(WalletRule(str(item["wallet"]), pattern, lenient and str(lenient)))
        return cls(tuple(rules))

    def with_builtin_prefix(self, prefix: str, length: int = 18) -> WalletRules:
        """This table with the built-in wallet ("scanpay") answering to ``prefix``."""
        if not prefix.isdigit() or not 1 <= len(prefix) < length:
            raise ValueError("the built-in wallet prefix is digits, shorter than the code")
        rule = WalletRule("scanpay", f"{prefix}[0-9]{{{length - len(prefix)}}}")
        return WalletRules((rule, *(r for r in self.rules if r.wallet != "scanpay")))


DEFAULT_WALLET_RULES = WalletRules.from_mapping(
    [
        # The built-in wallet of the scanpay host: 18 digits starting 88.
        {"wallet": "scanpay", "regex": r"88[0-9]{16}"},
        # WeChat Pay: 18 digits, 10-15; the server has been quoted accepting 16 too.
        {"wallet": "wechat_pay", "regex": r"1[0-5][0-9]{16}", "lenient_regex": r"1[0-6][0-9]{16}"},
        # Alipay: 16-24 digits, 25-30; face-pay tokens "fp" + 33 characters.
        {"wallet": "alipay", "regex": r"(2[5-9]|30)[0-9]{14,22}"},
        {"wallet": "alipay_facepay", "regex": r"fp[0-9A-Za-z]{33}"},
        # UnionPay QuickPass C2B: 19 digits starting 62.
        {"wallet": "unionpay_quickpass", "regex": r"62[0-9]{17}"},
    ]
)


@dataclass(frozen=True, slots=True)
class WalletCode:
    """A one-time wallet payment code and the wallet its shape points to."""

    kind: ClassVar[Literal["wallet"]] = "wallet"

    payload: str
    wallet: str
    warnings: tuple[Problem, ...] = ()

    @property
    def scheme(self) -> str:
        return self.wallet

    def mask(self) -> str:
        """First 6 and last 4 digits at most."""
        return f"{self.wallet} {mask_text(self.payload)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scheme": self.wallet,
            "wallet": self.wallet,
            "code": mask_text(self.payload),
            "length": len(self.payload),
            "warnings": [w.to_dict() for w in self.warnings],
        }


def parse_wallet_code(text: str, rules: WalletRules | None = None) -> WalletCode:
    """Tell which wallet a payment code belongs to; :class:`CodeError` if none."""
    table = DEFAULT_WALLET_RULES if rules is None else rules
    lenient: WalletRule | None = None
    for rule in table.rules:
        match = rule.matches(text)
        if match == "strict":
            return WalletCode(text, rule.wallet)
        if match == "lenient" and lenient is None:
            lenient = rule
    if lenient is not None:
        warning = Problem("lenient_wallet_match", "warning", None, 0, lenient.wallet)
        return WalletCode(text, lenient.wallet, (warning,))
    raise CodeError.single(
        "unknown_wallet_code", offset=0, detail=f"{len(text)} characters, {mask_text(text)}"
    )
