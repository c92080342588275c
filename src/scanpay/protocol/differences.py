"""A day-close difference in words (pure), for everyone who shows one to a person.

The host answers a terminal's day close with its differences in identifiers
(``out_trade_no``, ``kind``, ``SUCCESS 1234`` or each side's status and amount in
minor units). The terminal's screen and Z-report and the merchant portal show the
same sentence instead, in zh-CN and en, with amounts formatted in their currency;
it lives here, beside the answer it reads, so the host need not import the
terminal to say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanpay.i18n import Text
from scanpay.money import MoneyError, show_amount

__all__ = ["describe_difference", "status_label"]

_STATUSES: dict[str, Text] = {
    "SUCCESS": Text("已支付", "paid"),
    "PARTIALLY_REFUNDED": Text("部分退款", "partly refunded"),
    "REFUNDED": Text("已全额退款", "refunded in full"),
    "FAILED": Text("失败", "declined"),
    "REVERSED": Text("已撤销", "reversed"),
    "USER_PAYING": Text("等待顾客确认", "waiting for the customer"),
}
_REFUND_STATUSES: dict[str, Text] = {
    "SUCCESS": Text("已退款", "refunded"),
    "FAILED": Text("退款失败", "failed"),
}
_UNKNOWN_STATUS = Text("状态未知", "in an unknown state")


def status_label(status: str | None, kind: str = "payment") -> Text:
    """A host status of a payment (or of a refund) in words."""
    table = _REFUND_STATUSES if kind == "refund" else _STATUSES
    return table.get(status or "", _UNKNOWN_STATUS)


def _side(diff: Mapping[str, Any], side: str) -> tuple[str, int] | None:
    """(status, amount) of one side of a difference; None when that side lacks the line.
    Reads the structured fields, or the older ``"STATUS AMOUNT"`` text."""
    status, amount = diff.get(f"{side}_status"), diff.get(f"{side}_amount")
    if isinstance(status, str) and isinstance(amount, int):
        return status, amount
    text = diff.get(side)
    if not isinstance(text, str) or not text.strip():
        return None
    head, _, tail = text.strip().rpartition(" ")
    if head and tail.isdigit():
        return head, int(tail)
    return text.strip(), 0


def _money(minor: int, currency: str) -> str:
    try:
        # Grouped as the terminal shows amounts (zh-CN and en both write 1,234.00).
        return f"{currency} {show_amount(minor, currency)}"
    except MoneyError:
        return f"{currency} {minor}"


def describe_difference(diff: Mapping[str, Any], currency: str) -> Text:
    """One line of the host's day-close differences as a sentence, both languages.

    ``diff`` is the host's difference (``out_trade_no``, ``kind``, and each side's
    status and amount, or ``None`` for the side that lacks the line)."""
    kind = "refund" if diff.get("kind") == "refund" else "payment"
    noun = Text("退款", "Refund") if kind == "refund" else Text("付款", "Payment")
    number = str(diff.get("out_trade_no") or "")
    mine, theirs = _side(diff, "terminal"), _side(diff, "host")
    if mine is None and theirs is None:
        return Text(f"{noun.zh_cn} {number}：记录不一致", f"{noun.en} {number} does not match")
    if mine is None:
        assert theirs is not None
        amount, state = _money(theirs[1], currency), status_label(theirs[0], kind)
        return Text(
            f"{noun.zh_cn} {number}：主机有 {amount}（{state.zh_cn}），本终端没有记录",
            f"{noun.en} {number}: the host has {amount} ({state.en}); this terminal has no record",
        )
    if theirs is None:
        amount, state = _money(mine[1], currency), status_label(mine[0], kind)
        return Text(
            f"{noun.zh_cn} {number}：本终端有 {amount}（{state.zh_cn}），主机没有记录",
            f"{noun.en} {number}: this terminal has {amount} ({state.en}); the host has no record",
        )
    if mine[1] != theirs[1]:
        here, there = _money(mine[1], currency), _money(theirs[1], currency)
        return Text(
            f"{noun.zh_cn} {number}：本终端记 {here}，主机记 {there}",
            f"{noun.en} {number}: {here} on this terminal, {there} on the host",
        )
    amount = _money(mine[1], currency)
    here_state, there_state = status_label(mine[0], kind), status_label(theirs[0], kind)
    return Text(
        f"{noun.zh_cn} {number}（{amount}）：本终端为“{here_state.zh_cn}”，"
        f"主机为“{there_state.zh_cn}”",
        f"{noun.en} {number} ({amount}): {here_state.en} on this terminal, "
        f"{there_state.en} on the host",
    )
