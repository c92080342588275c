"""The pure invariant checks: each holds on a consistent world and catches its breach."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scanpay.chaos.facts import (
    Facts,
    HostPayment,
    HostRefund,
    InvariantResult,
    MoveKind,
    Movement,
    SettledLine,
    TerminalRefund,
    TerminalSale,
)
from scanpay.chaos.invariants import (
    charged_once,
    check_all,
    customers_lost_what_terminals_show,
    journal_and_host_agree,
    journals_intact,
    ledger_balances,
    no_double_charge,
    no_negative_balance,
    nothing_in_doubt,
    settlement_agrees,
    unpaid_moved_nothing,
)

T = "T000001"
CAP, RET, REF = MoveKind.CAPTURE, MoveKind.RETURN, MoveKind.REFUND


def world() -> Facts:
    """Four sales on one terminal, every party agreeing:

    S1 approved 1000; S2 approved 500, then 200 refunded; S3 captured late and
    reversed (REVERSED); S4 declined; S5 cancelled before it was sent.
    """
    sales = [
        TerminalSale(T, "S1", "APPROVED", 1000, 0, True),
        TerminalSale(T, "S2", "PARTIALLY_REFUNDED", 500, 200, True),
        TerminalSale(T, "S3", "REVERSED", 300, 0, True),
        TerminalSale(T, "S4", "DECLINED", 700, 0, True),
        TerminalSale(T, "S5", "CANCELLED", 900, 0, False),
    ]
    refunds = [TerminalRefund(T, "S2-R1", "S2", "SUCCESS", 200)]
    payments = [
        HostPayment(T, "S1", "SUCCESS", 1000),
        HostPayment(T, "S2", "PARTIALLY_REFUNDED", 500, 200),
        HostPayment(T, "S3", "REVERSED", 300),
        HostPayment(T, "S4", "FAILED", 700),
    ]
    movements = [
        Movement("S1", CAP, 1000),
        Movement("S2", CAP, 500),
        Movement("S2", REF, 200, "S2-R1"),
        Movement("S3", CAP, 300),
        Movement("S3", RET, 300),
    ]
    settled = [
        SettledLine("S1", "payment", 1000),
        SettledLine("S2", "payment", 500),
        SettledLine("S2", "refund", 200, "S2-R1"),
        SettledLine("S3", "payment", 300),
        SettledLine("S3", "reversal", 300),
    ]
    return Facts(
        sales=sales,
        refunds=refunds,
        payments=payments,
        host_refunds=[HostRefund("S2-R1", "S2", "SUCCESS", 200)],
        movements=movements,
        settled=settled,
        wallets_opened=10_000,
        wallets_now={"A": 6_000, "B": 2_700},  # 1000 + 300 net out of 10 000
        ledger_entries=7,
        chains_checked=40,
    )


def failing(result: InvariantResult) -> str:
    assert not result.ok, f"{result.name} should have failed"
    assert result.violation_count == len(result.violations) or result.violation_count > 20
    return " | ".join(result.violations)


def test_a_consistent_world_passes_every_invariant() -> None:
    results = check_all(world())
    assert [r.name for r in results if not r.ok] == []
    assert {r.name for r in results} >= {
        "charged_once",
        "unpaid_moved_nothing",
        "no_double_charge",
        "nothing_in_doubt",
        "ledger_balances",
        "no_negative_balance",
        "customers_paid_what_was_shown",
        "journals_and_host_agree",
        "settlement_agrees",
        "chains_intact",
    }
    checked = {r.name: r.checked for r in results}
    assert checked["charged_once"] == 2 and checked["unpaid_moved_nothing"] == 3
    assert checked["settlement_agrees"] == 5


def test_double_capture_of_an_approved_sale() -> None:
    facts = world()
    facts = replace(facts, movements=[*facts.movements, Movement("S1", CAP, 1000)])
    assert "captured 2 times" in failing(charged_once(facts))
    assert "S1: captured 2 times" in failing(no_double_charge(facts))
    assert "captures [1000, 1000]" in failing(settlement_agrees(facts))


def test_approved_sale_never_captured_or_captured_wrong() -> None:
    facts = world()
    missing = replace(facts, movements=[m for m in facts.movements if m.out_trade_no != "S1"])
    assert "captured 0 times" in failing(charged_once(missing))
    wrong = replace(
        facts,
        movements=[Movement("S1", CAP, 999), *facts.movements[1:]],
    )
    assert "captured 999, the sale is 1000" in failing(charged_once(wrong))


def test_approved_sale_that_the_ledger_reversed() -> None:
    facts = world()
    facts = replace(facts, movements=[*facts.movements, Movement("S1", RET, 1000)])
    text = failing(charged_once(facts))
    assert "reversed in the ledger" in text and "paid 0 net" in text


def test_declined_sale_that_kept_the_money() -> None:
    facts = world()
    facts = replace(facts, movements=[*facts.movements, Movement("S4", CAP, 700)])
    assert "S4 DECLINED: the customer is out 700" in failing(unpaid_moved_nothing(facts))
    # Reversed sale whose return never happened: a lost reversal.
    lost = replace(world(), movements=[m for m in world().movements if m.kind is not RET])
    assert "S3 REVERSED: the customer is out 300" in failing(unpaid_moved_nothing(lost))


def test_money_for_an_unknown_sale_or_returned_twice() -> None:
    facts = world()
    stray = replace(facts, movements=[*facts.movements, Movement("S9", CAP, 10)])
    assert "no terminal knows" in failing(no_double_charge(stray))
    twice = replace(facts, movements=[*facts.movements, Movement("S3", RET, 300)])
    text = failing(no_double_charge(twice))
    assert "returned 2 times" in text and "more than was taken" in text
    refund_twice = replace(facts, movements=[*facts.movements, Movement("S2", REF, 200, "S2-R1")])
    assert "refund S2-R1 paid 2 times" in failing(no_double_charge(refund_twice))


@pytest.mark.parametrize("state", ["SUBMITTED", "UNKNOWN", "USER_PAYING", "REVERSING", "NEW"])
def test_a_sale_left_in_doubt(state: str) -> None:
    facts = world()
    sales = [replace(facts.sales[0], state=state), *facts.sales[1:]]
    assert "S1 " + state in failing(nothing_in_doubt(replace(facts, sales=sales)))


def test_refunds_reversals_and_pin_waits_left_in_doubt() -> None:
    facts = world()
    assert "refund UNKNOWN" in failing(
        nothing_in_doubt(replace(facts, refunds=[replace(facts.refunds[0], state="UNKNOWN")]))
    )
    assert "reversal not acknowledged" in failing(
        nothing_in_doubt(replace(facts, reversals_waiting=["T000001/S3"]))
    )
    waiting = [*facts.payments, HostPayment(T, "S6", "USER_PAYING", 5)]
    assert "still USER_PAYING" in failing(nothing_in_doubt(replace(facts, payments=waiting)))


def test_ledger_and_balances() -> None:
    facts = world()
    assert ledger_balances(facts).ok and no_negative_balance(facts).ok
    broken = replace(facts, ledger_problems=["entry_unbalanced entry 4: sums to 1"])
    assert "entry_unbalanced" in failing(ledger_balances(broken))
    negative = replace(facts, wallets_now={"A": 6_001, "B": -1})
    assert "wallet B: -1" in failing(no_negative_balance(negative))


def test_customers_out_of_pocket_must_match_the_receipts() -> None:
    facts = world()
    assert customers_lost_what_terminals_show(facts).ok
    short = replace(facts, wallets_now={"A": 5_900, "B": 2_700})
    assert "customers are out 1400, terminals show 1300" in failing(
        customers_lost_what_terminals_show(short)
    )


def test_journal_and_host_disagree_on_status() -> None:
    facts = world()
    payments = [HostPayment(T, "S1", "FAILED", 1000), *facts.payments[1:]]
    assert "S1 APPROVED: the host says FAILED" in failing(
        journal_and_host_agree(replace(facts, payments=payments))
    )
    paid = [*facts.payments[:3], HostPayment(T, "S4", "SUCCESS", 700)]
    assert "S4 DECLINED: the host says SUCCESS" in failing(
        journal_and_host_agree(replace(facts, payments=paid))
    )


def test_journal_and_host_one_to_one() -> None:
    facts = world()
    orphan = [*facts.payments, HostPayment(T, "S8", "SUCCESS", 10)]
    assert "S8: host SUCCESS, no terminal sale" in failing(
        journal_and_host_agree(replace(facts, payments=orphan))
    )
    never_sent = [*facts.payments, HostPayment(T, "S5", "REVERSED", 900)]
    assert "never sent, but the host has it" in failing(
        journal_and_host_agree(replace(facts, payments=never_sent))
    )
    missing = [p for p in facts.payments if p.out_trade_no != "S1"]
    assert "the host has no such payment" in failing(
        journal_and_host_agree(replace(facts, payments=missing))
    )
    other = [HostPayment("T000009", "S1", "SUCCESS", 1000), *facts.payments[1:]]
    assert "the host has it from T000009" in failing(
        journal_and_host_agree(replace(facts, payments=other))
    )


def test_refund_disagreements() -> None:
    facts = world()
    # The bug the chaos run found: the terminal says FAILED, the host paid it.
    failed_here = replace(facts.refunds[0], state="FAILED")
    sale = replace(facts.sales[1], state="APPROVED", refunded_amount=0)
    text = failing(
        journal_and_host_agree(
            replace(facts, refunds=[failed_here], sales=[facts.sales[0], sale, *facts.sales[2:]])
        )
    )
    assert "FAILED at the terminal, paid by the host" in text
    unknown = replace(facts, refunds=[])
    assert "paid by the host, unknown to the terminal" in failing(journal_and_host_agree(unknown))
    not_paid = replace(facts, host_refunds=[HostRefund("S2-R1", "S2", "FAILED", 200)])
    assert "the host has FAILED 200" in failing(journal_and_host_agree(not_paid))
    sums = replace(facts, sales=[facts.sales[0], replace(facts.sales[1], refunded_amount=150)])
    assert "its refunds sum to 200" in failing(journal_and_host_agree(sums))


def test_settlement_must_match_line_for_line() -> None:
    facts = world()
    no_reversal = replace(facts, settled=[s for s in facts.settled if s.kind != "reversal"])
    text = failing(settlement_agrees(no_reversal))
    assert "settled reversals []" in text and "S3 REVERSED: settled 300" in text
    extra = replace(facts, settled=[*facts.settled, SettledLine("S7", "payment", 5)])
    assert "S7: settled, but no terminal knows the sale" in failing(settlement_agrees(extra))
    odd = replace(facts, settled=[*facts.settled, SettledLine("S1", "bonus", 5)])
    assert "unknown settlement line 'bonus'" in failing(settlement_agrees(odd))
    wrong_refund = [
        *facts.settled[:2],
        SettledLine("S2", "refund", 200, "S2-R9"),
        *facts.settled[3:],
    ]
    assert "refunds {'S2-R1': [200]}" in failing(
        settlement_agrees(replace(facts, settled=wrong_refund))
    )


def test_broken_chains() -> None:
    facts = replace(world(), chain_problems=["T000001: journal chain broken at event 7"])
    assert "event 7" in failing(journals_intact(facts))


def test_many_violations_are_counted_but_few_are_kept() -> None:
    facts = world()
    stray = [Movement(f"X{i}", CAP, 1) for i in range(50)]
    result = no_double_charge(replace(facts, movements=[*facts.movements, *stray]))
    assert result.violation_count == 50 and len(result.violations) == 20
    data = result.to_dict()
    assert data["ok"] is False and data["violations"] == 50 and len(data["examples"]) == 20
