"""Posting rules and the ledger check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.ledger import (
    AccountKind,
    Book,
    Entry,
    LedgerFacts,
    Posting,
    UnbalancedEntry,
    capture,
    check_ledger,
    network_fees,
    opening,
    refund,
    return_capture,
    settlement,
)

R = Book.REAL


@given(st.integers(1, 10**12))
def test_builders_balance(amount: int) -> None:
    for entry in (
        opening(R, "CNY", "f", "w", amount),
        capture(R, "CNY", "w", "c", amount),
        return_capture(R, "CNY", "w", "c", amount),
    ):
        assert sum(p.amount for p in entry.postings) == 0
    pay = capture(R, "CNY", "w", "c", amount)
    back = return_capture(R, "CNY", "w", "c", amount)
    net: dict[str, int] = {}
    for p in pay.postings + back.postings:
        net[p.account] = net.get(p.account, 0) + p.amount
    assert set(net.values()) == {0}


@pytest.mark.parametrize(
    "postings",
    [
        (Posting("a", 5),),
        (Posting("a", 5), Posting("b", -4)),
        (Posting("a", 0), Posting("b", 0)),
        (Posting("a", 5), Posting("a", -5)),
    ],
)
def test_unbalanced_entries_are_refused(postings: tuple[Posting, ...]) -> None:
    with pytest.raises(UnbalancedEntry):
        Entry(R, "CNY", postings)


@pytest.mark.parametrize("amount", [0, -1, True])
def test_amounts_are_positive_integers(amount: int) -> None:
    with pytest.raises(UnbalancedEntry):
        capture(R, "CNY", "w", "c", amount)


def _facts(code: str, kind: AccountKind, balance: int, posted: int | None = None) -> LedgerFacts:
    return LedgerFacts(code, kind, R, "CNY", balance, balance if posted is None else posted)


def test_check_finds_each_broken_rule() -> None:
    good = [
        _facts("funding", AccountKind.ISSUER_FUNDING, -100),
        _facts("wallet", AccountKind.WALLET, 60),
        _facts("clearing", AccountKind.MERCHANT_CLEARING, 40),
    ]
    assert check_ledger(good, {"e1": 0}) == []
    broken = [
        _facts("funding", AccountKind.ISSUER_FUNDING, -100),
        _facts("wallet", AccountKind.WALLET, -5, 60),
        _facts("clearing", AccountKind.MERCHANT_CLEARING, 40, 41),
    ]
    problems = check_ledger(broken, {"e1": 0, "e2": 1})
    assert {(p.rule, p.subject) for p in problems} == {
        ("entry_unbalanced", "e2"),
        ("balance_mismatch", "wallet"),
        ("negative_balance", "wallet"),
        ("balance_mismatch", "clearing"),
        ("book_unbalanced", "real/CNY"),
    }


def test_only_customer_wallets_never_go_negative() -> None:
    # Settlement and fee accounts may: a day whose refunds exceed its sales is owed back.
    assert {k for k in AccountKind if not k.may_go_negative} == {AccountKind.WALLET}


def test_refund_and_settlement_entries_balance() -> None:
    back = refund(R, "CNY", "w", "c", 250)
    assert {(p.account, p.amount) for p in back.postings} == {("c", -250), ("w", 250)}
    day = settlement(R, "CNY", (("c", -1000), ("fee", 4), ("s", 996)), "settlement")
    assert sum(p.amount for p in day.postings) == 0
    with pytest.raises(UnbalancedEntry):
        settlement(R, "CNY", (("c", -1000), ("s", 999)), "off by one")
    with pytest.raises(UnbalancedEntry):
        refund(R, "CNY", "w", "c", 0)


@given(st.integers(min_value=-(10**12), max_value=10**12).filter(bool))
def test_network_fees_move_what_the_network_kept_either_way(amount: int) -> None:
    entry = network_fees(Book.REAL, "CNY", "network:alipay:real:CNY", "fees", amount)
    assert {p.account: p.amount for p in entry.postings} == {
        "network:alipay:real:CNY": amount,  # the network owes that much less
        "fees": -amount,  # the acquirer's expense (a fee given back lowers it)
    }
    for bad in (0, True, 1.5):
        with pytest.raises(UnbalancedEntry):
            network_fees(Book.REAL, "CNY", "a", "b", bad)  # type: ignore[arg-type]
    assert AccountKind.NETWORK_FEES.may_go_negative
