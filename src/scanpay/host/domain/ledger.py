"""Double-entry posting rules.

Every movement of money is one :class:`Entry`: a set of postings, one per
account, whose signed amounts sum to zero (a positive amount raises the
account's balance). An account's balance is the sum of its postings; customer
accounts may never go below zero. Pure: the services write entries to the
database and feed the stored totals back to :func:`check_ledger`.

Books keep real money and training-mode money apart: an entry lives in one
book and one currency, and each book balances on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AccountKind",
    "Book",
    "Entry",
    "LedgerFacts",
    "LedgerProblem",
    "Posting",
    "UnbalancedEntry",
    "capture",
    "check_ledger",
    "network_fees",
    "opening",
    "refund",
    "return_capture",
    "settlement",
]


class Book(StrEnum):
    """Real money, or the training wallet's play money."""

    REAL = "real"
    TRAINING = "training"


class AccountKind(StrEnum):
    """What an account stands for, and so whether it may go below zero."""

    #: A built-in wallet customer's money: the issuer owes it to the customer.
    WALLET = "wallet"
    #: Money the acquirer owes a merchant for captured payments, until settlement.
    MERCHANT_CLEARING = "merchant_clearing"
    #: Money paid out to a merchant (issue 5's settlement moves clearing here).
    MERCHANT_SETTLEMENT = "merchant_settlement"
    #: The acquirer's fee income (issue 5).
    FEE_INCOME = "fee_income"
    #: Where wallet balances come from (cash in at the issuer); its balance is minus the
    #: total of money loaded, so it is the one kind that normally sits below zero.
    ISSUER_FUNDING = "issuer_funding"
    #: What a payment network owes the acquirer for the payments it approved (WeChat Pay
    #: pays them out later): a capture through a network takes the money from here, so
    #: it sits below zero until the network's settlement is booked.
    NETWORK_CLEARING = "network_clearing"
    #: What the payment networks charged the acquirer (their fees, from their daily
    #: statements): an expense, so it sits below zero.
    NETWORK_FEES = "network_fees"

    @property
    def may_go_negative(self) -> bool:
        # A clearing account can dip below zero when a reversal or refund follows a
        # settlement, and a settlement account when a day's refunds exceed its sales:
        # the merchant then owes the acquirer. Fee income can when a refund gives back
        # a fee collected at a higher rate. Customers' money never can.
        return self is not AccountKind.WALLET


@dataclass(frozen=True, slots=True)
class Posting:
    """``amount`` minor units onto ``account`` (positive raises its balance)."""

    account: str
    amount: int


class UnbalancedEntry(ValueError):
    """An entry whose postings do not sum to zero, or that moves nothing."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A balanced set of postings in one book and currency."""

    book: Book
    currency: str
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise UnbalancedEntry("an entry needs at least two postings")
        if sum(p.amount for p in self.postings) != 0:
            raise UnbalancedEntry("postings must sum to zero")
        if any(p.amount == 0 for p in self.postings):
            raise UnbalancedEntry("a posting moves money")
        if len({p.account for p in self.postings}) != len(self.postings):
            raise UnbalancedEntry("one posting per account")

    def reversed(self, memo: str = "") -> Entry:
        """The entry that undoes this one."""
        undo = tuple(Posting(p.account, -p.amount) for p in self.postings)
        return Entry(self.book, self.currency, undo, memo or f"reversal of {self.memo}")


def _positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise UnbalancedEntry("amounts are positive integer minor units")
    return amount


def opening(book: Book, currency: str, funding: str, wallet: str, amount: int) -> Entry:
    """Load ``amount`` onto a wallet from the issuer's funding account."""
    amount = _positive(amount)
    postings = (Posting(funding, -amount), Posting(wallet, amount))
    return Entry(book, currency, postings, "wallet load")


def capture(book: Book, currency: str, payer: str, clearing: str, amount: int) -> Entry:
    """A payment: the payer's wallet to the merchant's clearing account."""
    amount = _positive(amount)
    return Entry(book, currency, (Posting(payer, -amount), Posting(clearing, amount)), "payment")


def return_capture(book: Book, currency: str, payer: str, clearing: str, amount: int) -> Entry:
    """A reversal of a captured payment: the whole amount back to the payer."""
    return capture(book, currency, payer, clearing, amount).reversed("reversal")


def refund(book: Book, currency: str, payer: str, clearing: str, amount: int) -> Entry:
    """A refund: ``amount`` (all or part of a payment) from the clearing account to the payer."""
    amount = _positive(amount)
    return Entry(book, currency, (Posting(clearing, -amount), Posting(payer, amount)), "refund")


def network_fees(book: Book, currency: str, network: str, fees: str, amount: int) -> Entry:
    """A network's fees of a day, ``amount`` (negative: fees given back) kept out of what
    it pays the acquirer: the network clearing account owes that much less, the fee
    expense account bears it."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise UnbalancedEntry("a fee entry moves a non-zero integer amount")
    postings = (Posting(network, amount), Posting(fees, -amount))
    return Entry(book, currency, postings, "network fees")


def settlement(
    book: Book, currency: str, postings: tuple[tuple[str, int], ...], memo: str
) -> Entry:
    """A settlement: the day's gross out of clearing, into fee income and the merchant's
    settlement account (see :mod:`scanpay.host.domain.settlement` for the figures)."""
    return Entry(book, currency, tuple(Posting(a, amount) for a, amount in postings), memo)


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """What the database says about one account: kind, stored balance, sum of its postings."""

    account: str
    kind: AccountKind
    book: Book
    currency: str
    balance: int
    posted: int


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    """One broken ledger rule: ``rule`` (a stable name) and what is wrong."""

    rule: str
    subject: str
    detail: str


def check_ledger(
    accounts: Iterable[LedgerFacts], entry_sums: Mapping[str, int]
) -> list[LedgerProblem]:
    """Every rule the ledger must keep, given each account's facts and each entry's sum.

    Rules: each entry sums to zero (``entry_unbalanced``); each book and
    currency sums to zero (``book_unbalanced``); each stored balance equals the
    sum of the account's postings (``balance_mismatch``); no account whose kind
    forbids it is below zero (``negative_balance``).
    """
    problems = [
        LedgerProblem("entry_unbalanced", entry, f"postings sum to {total}")
        for entry, total in sorted(entry_sums.items())
        if total != 0
    ]
    books: dict[tuple[Book, str], int] = {}
    for facts in accounts:
        key = (facts.book, facts.currency)
        books[key] = books.get(key, 0) + facts.posted
        if facts.balance != facts.posted:
            problems.append(
                LedgerProblem(
                    "balance_mismatch",
                    facts.account,
                    f"stored balance {facts.balance}, postings sum to {facts.posted}",
                )
            )
        if facts.balance < 0 and not facts.kind.may_go_negative:
            problems.append(
                LedgerProblem("negative_balance", facts.account, f"balance {facts.balance}")
            )
    for (book, currency), total in sorted(books.items()):
        if total != 0:
            problems.append(
                LedgerProblem("book_unbalanced", f"{book}/{currency}", f"sums to {total}")
            )
    return problems
