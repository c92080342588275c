"""A break's detail (:attr:`~scanpay.host.domain.reconciliation.Break.detail`): what the
matcher noticed beyond the break's kind, in either language. Pure.

A detail is a stable :class:`DetailCode` and its values (a status, a currency: the
host's or the network's own words, shown as they are). The database keeps it as one
short string, the code and its values joined by ``:`` (``host_status:FAILED``), so
that the reader's language is chosen when it is read, not when it is found; rows
written before details had codes hold an English note, which
:func:`detail_text` shows as it is in both languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from scanpay.i18n import Text

__all__ = ["DETAIL_TEXTS", "Detail", "DetailCode", "detail_text"]

_SEPARATOR = ":"


class DetailCode(StrEnum):
    """What a detail says; the values are stable (stored)."""

    NO_LINE = "no_line"
    REVERSED_AT_NETWORK = "reversed_at_network"
    NO_SUCH_PAYMENT = "no_such_payment"
    HOST_STATUS = "host_status"
    """Value: the host's status of the payment."""
    NETWORK_CURRENCY = "network_currency"
    """Value: the network's currency."""
    NO_SUCH_REFUND = "no_such_refund"
    SEEN_ALREADY = "seen_already"
    """Values: the line's kind (``payment``, ``refund``) and its status."""
    STATUS = "status"
    """Value: the line's status, one the matcher does not know."""


#: Each code in words; ``{value}``, ``{line}`` and ``{status}`` are its values.
DETAIL_TEXTS: Mapping[DetailCode, Text] = MappingProxyType(
    {
        DetailCode.NO_LINE: Text("对账单中没有该笔记录", "no line on the statement"),
        DetailCode.REVERSED_AT_NETWORK: Text("网络已撤销该交易", "reversed at the network"),
        DetailCode.NO_SUCH_PAYMENT: Text("本机构没有该笔支付", "no such payment at the host"),
        DetailCode.HOST_STATUS: Text("本机构记录的状态为 {value}", "the host has it {value}"),
        DetailCode.NETWORK_CURRENCY: Text("网络的币种为 {value}", "network {value}"),
        DetailCode.NO_SUCH_REFUND: Text("本机构没有该笔退款", "no such refund at the host"),
        DetailCode.SEEN_ALREADY: Text(
            "{line}记录（{status}）重复出现", "{line} line {status} seen already"
        ),
        DetailCode.STATUS: Text("状态 {value}", "status {value}"),
    }
)

# How many values each code carries (a stored string is split into no more).
_ARITY: Mapping[DetailCode, int] = MappingProxyType(
    {
        DetailCode.HOST_STATUS: 1,
        DetailCode.NETWORK_CURRENCY: 1,
        DetailCode.SEEN_ALREADY: 2,
        DetailCode.STATUS: 1,
    }
)
# A statement line's kind in words; another one is shown as it is.
_LINE_WORDS: Mapping[str, Text] = MappingProxyType(
    {"payment": Text("支付", "payment"), "refund": Text("退款", "refund")}
)


@dataclass(frozen=True, slots=True)
class Detail:
    """A detail: its code and its values (as many as the code takes)."""

    code: DetailCode
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.values) != _ARITY.get(self.code, 0):
            raise ValueError(f"{self.code.value} takes {_ARITY.get(self.code, 0)} values")

    def stored(self) -> str:
        """The detail as the database keeps it: ``code`` or ``code:value[:value]``."""
        return _SEPARATOR.join((self.code.value, *self.values))

    @classmethod
    def parse(cls, stored: str) -> Detail | None:
        """The detail :meth:`stored` wrote; None for anything else (an older note).
        The last value keeps any ``:`` of its own (a network's status may have one)."""
        name, separator, rest = stored.partition(_SEPARATOR)
        try:
            code = DetailCode(name)
        except ValueError:
            return None
        arity = _ARITY.get(code, 0)
        if not arity:
            return None if separator else cls(code)
        values = tuple(rest.split(_SEPARATOR, arity - 1)) if separator else ()
        return cls(code, values) if len(values) == arity else None

    def text(self) -> Text:
        """The detail in both languages."""
        words = DETAIL_TEXTS[self.code]
        if self.code is DetailCode.SEEN_ALREADY:
            line, status = self.values
            said = _LINE_WORDS.get(line, Text(line, line))
            return Text(
                words.zh_cn.format(line=said.zh_cn, status=status),
                words.en.format(line=said.en, status=status),
            )
        return words.format(value=self.values[0]) if self.values else words


def detail_text(stored: str) -> Text | None:
    """What a stored detail says, in both languages; None for no detail. A note that is
    not a detail's stored form (a row older than the codes) is shown as it is."""
    if not stored:
        return None
    found = Detail.parse(stored)
    return found.text() if found is not None else Text(stored, stored)
