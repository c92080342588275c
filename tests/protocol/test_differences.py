"""Pure: a day-close difference as a sentence in both languages, never as identifiers
(moved here from the terminal's labels, so the host's portal says the same)."""

from __future__ import annotations

import pytest

from scanpay.i18n import Text
from scanpay.protocol.differences import describe_difference, status_label


@pytest.mark.parametrize(
    ("diff", "en", "zh"),
    [
        (
            {"out_trade_no": "T1", "kind": "payment", "terminal": "SUCCESS 1234",
             "host": "SUCCESS 1000"},
            "Payment T1: CNY 12.34 on this terminal, CNY 10.00 on the host",
            "付款 T1：本终端记 CNY 12.34，主机记 CNY 10.00",
        ),
        (
            {"out_trade_no": "T2", "kind": "payment", "terminal": "SUCCESS 500", "host": None,
             "terminal_status": "SUCCESS", "terminal_amount": 500},
            "Payment T2: this terminal has CNY 5.00 (paid); the host has no record",
            "付款 T2：本终端有 CNY 5.00（已支付），主机没有记录",
        ),
        (
            {"out_trade_no": "PR1", "kind": "refund", "terminal": None, "host": "SUCCESS 800",
             "host_status": "SUCCESS", "host_amount": 800},
            "Refund PR1: the host has CNY 8.00 (refunded); this terminal has no record",
            "退款 PR1：主机有 CNY 8.00（已退款），本终端没有记录",
        ),
        (
            {"out_trade_no": "T3", "kind": "payment", "terminal": "SUCCESS 700",
             "host": "FAILED 700"},
            "Payment T3 (CNY 7.00): paid on this terminal, declined on the host",
            "付款 T3（CNY 7.00）：本终端为“已支付”，主机为“失败”",
        ),
        (
            # Thousands grouped, as the terminal shows amounts.
            {"out_trade_no": "T4", "kind": "payment", "terminal": "SUCCESS 123400",
             "host": "SUCCESS 1234567"},
            "Payment T4: CNY 1,234.00 on this terminal, CNY 12,345.67 on the host",
            "付款 T4：本终端记 CNY 1,234.00，主机记 CNY 12,345.67",
        ),
    ],
)  # fmt: skip
def test_a_difference_is_a_sentence(diff: dict[str, object], en: str, zh: str) -> None:
    said = describe_difference(diff, "CNY")
    assert (said.en, said.zh_cn) == (en, zh)
    assert "{" not in said.en and "SUCCESS" not in said.en


def test_no_raw_status_reaches_people() -> None:
    assert status_label("SOMETHING_NEW") == Text("状态未知", "in an unknown state")
    assert status_label("SUCCESS", "refund") == Text("已退款", "refunded")
    assert status_label(None) == Text("状态未知", "in an unknown state")
