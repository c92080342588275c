"""respCode to our outcome and result code, and amounts: every branch of the table."""

from __future__ import annotations

import pytest

from scanpay.networks import Outcome
from scanpay.networks.results import decline_message as any_decline_message
from scanpay.networks.unionpay.codes import UNIONPAY_CODES, code_rule, decline_message, pay_answer
from scanpay.networks.unionpay.money import AmountError, to_fen, to_txn_amt


def test_an_approval_needs_the_reply_to_say_it_succeeded() -> None:
    paid = pay_answer("00", "00", "512345678901234567890")
    assert (paid.outcome, paid.result_code, paid.transaction_id) == (
        Outcome.APPROVED,
        "00",
        "512345678901234567890",
    )
    for orig in (None, "", "05", "01"):
        accepted = pay_answer("00", orig)
        assert (accepted.outcome, accepted.result_code, accepted.network_code) == (
            Outcome.UNKNOWN,
            "91",
            "00",
        )
        assert "Querying" in accepted.message.en


@pytest.mark.parametrize(
    ("code", "outcome", "ours"),
    [
        ("03", Outcome.UNKNOWN, "91"),
        ("04", Outcome.UNKNOWN, "91"),
        ("05", Outcome.UNKNOWN, "91"),
        ("06", Outcome.UNKNOWN, "91"),
        ("12", Outcome.UNKNOWN, "91"),  # duplicate: a retry of ours may have paid it
        ("37", Outcome.UNKNOWN, "91"),
        ("42", Outcome.UNKNOWN, "91"),  # charged: never a decline
        ("74", Outcome.UNKNOWN, "91"),
        ("75", Outcome.UNKNOWN, "91"),
        ("70", Outcome.USER_PAYING, "09"),
        ("82", Outcome.USER_PAYING, "09"),
        ("10", Outcome.DECLINED, "58"),
        ("11", Outcome.DECLINED, "58"),
        ("13", Outcome.DECLINED, "58"),
        ("14", Outcome.DECLINED, "58"),
        ("31", Outcome.DECLINED, "58"),
        ("01", Outcome.DECLINED, "05"),
        ("30", Outcome.DECLINED, "05"),
        ("33", Outcome.DECLINED, "57"),
        ("45", Outcome.DECLINED, "12"),
        ("36", Outcome.DECLINED, "95"),
        ("64", Outcome.DECLINED, "51"),
        ("65", Outcome.DECLINED, "55"),
        ("67", Outcome.DECLINED, "75"),
        ("80", Outcome.DECLINED, "54"),
        ("88", Outcome.DECLINED, "14"),
        ("99", Outcome.DECLINED, "05"),
        ("47", Outcome.DECLINED, "05"),  # not in the published list: generic
        ("ZZ", Outcome.DECLINED, "05"),
    ],
)
def test_the_table(code: str, outcome: Outcome, ours: str) -> None:
    answer = pay_answer(code)
    assert (answer.outcome, answer.result_code, answer.network_code) == (outcome, ours, code)
    assert answer.message.zh_cn and answer.message.en


def test_every_row_is_a_valid_answer_and_none_approves() -> None:
    assert len(UNIONPAY_CODES) >= 60
    for code, rule in UNIONPAY_CODES.items():
        answer = pay_answer(code)  # PayAnswer checks outcome against result code
        assert answer.outcome is not Outcome.APPROVED
        assert rule.message.zh_cn.strip() and rule.message.en.strip()
    assert code_rule("ZZ").outcome is Outcome.DECLINED


def test_no_code_is_no_answer() -> None:
    assert pay_answer(None).outcome is Outcome.UNKNOWN
    assert pay_answer(" ").network_code is None


def test_decline_messages() -> None:
    assert decline_message("64") == UNIONPAY_CODES["64"].message
    assert decline_message("05") is None and decline_message("ZZ") is None
    assert any_decline_message("unionpay", "64") == UNIONPAY_CODES["64"].message
    assert any_decline_message("unionpay", "12") is None


def test_txn_amt() -> None:
    assert to_txn_amt(1) == "1" and to_txn_amt(1230) == "1230"
    assert to_fen("1230") == 1230 and to_fen("000000001230") == 1230
    for bad_fen in (0, -1, True, 10**12, 1.5):
        with pytest.raises(AmountError):
            to_txn_amt(bad_fen)  # type: ignore[arg-type]
    for bad in ("", "12.30", "-1", "1e3", "1 2", "0x10", "1234567890123"):
        with pytest.raises(AmountError):
            to_fen(bad)
