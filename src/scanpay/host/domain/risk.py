"""Risk rules: a table of limits and pure rules over one transaction and its history.

Every payment, order payment and refund is assessed before money moves. The
rules are fixed code; their thresholds are data: rows of a limits table
(:class:`Limit`), stored in the database and changed by the operator. A row
says which ``rule``, for which ``scope`` (everyone, an MCC class, one
merchant, terminal or wallet account), the threshold ``value``, and the
``action`` when the threshold is crossed: decline (result code ``57``), flag
for review (the transaction goes through, marked), or approve (the rule is off
for that scope). The most specific row wins (:func:`resolve_limits`).

=====================  =======================================================  =============
rule                   fires when                                               applies to
=====================  =======================================================  =============
``txn_amount``         amount > value                                           payment, order
``daily_amount``       merchant's captured total today + amount > value         payment, order
``wallet_txn_amount``  amount > value (per wallet account)                      payment, order
``wallet_daily_amount`` account's captured total today + amount > value         payment, order
``velocity``           > value payments by the terminal inside ``window``        payment
``failed_codes``       value failed codes inside ``window`` lock for ``lock`` s  payment, order
``duplicate``          >= value earlier payments with the same terminal,        payment
                       amount and payer inside ``window``
``refund_share``       refunds today + amount > value ppm of today's sales      refund
=====================  =======================================================  =============

``failed_codes`` is the brute-force defence: a 6-digit one-time code is
guessed with probability ~1.4e-5 per try, so after ``value`` failures in
``window`` seconds the terminal (or, for order payments, the wallet account)
takes no payments for ``lock`` seconds, and while locked no code is even
checked. Money rules do not apply to training sales (play money); the
terminal rules (velocity, failed codes) do.

Amounts are minor units of one currency. Every row of an amount rule
(``txn_amount``, ``daily_amount``, ``wallet_txn_amount``, ``wallet_daily_amount``:
:attr:`RuleSpec.priced`) carries its ISO 4217 ``currency`` and applies only to
transactions in that currency: 5 000 000 is 50 000.00 CNY but ¥5 000 000, and the
two must never be read as one another. Counts and shares (the other rules) have no
currency. An amount rule that is in force for the parties in some currency but has
no row in the transaction's currency *refuses* the transaction (fail closed, code
57, :attr:`RuleResult.unpriced`): without an exchange rate the host cannot know
what the limit is worth, and a limit nobody set must not be a limit nobody checks.
The shipped defaults (:func:`default_limits`, installed by migration 0004) are worth
about the same in every currency in :data:`CURRENCY_UNITS`.

Pure: the service reads the limits and the history (:class:`RiskFacts`) and
passes the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from scanpay.money import MoneyError, get_currency

__all__ = [
    "CURRENCY_UNITS",
    "MCC_CLASSES",
    "RULES",
    "SHIPPED_UNITS",
    "Kind",
    "Limit",
    "RiskDecision",
    "RiskFacts",
    "RiskInput",
    "RiskOutcome",
    "Rule",
    "RuleResult",
    "RuleSpec",
    "Scope",
    "applicable",
    "assess",
    "default_limits",
    "default_pin_above",
    "lockout_until",
    "mcc_class",
    "resolve_limits",
]


class RiskOutcome(StrEnum):
    """What a rule (or the whole assessment) says."""

    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW = "review"


class Kind(StrEnum):
    """The kind of transaction being assessed."""

    PAYMENT = "payment"  # the merchant scans the customer's code
    ORDER_PAYMENT = "order_payment"  # the customer's wallet pays the merchant's order QR
    REFUND = "refund"


class Rule(StrEnum):
    TXN_AMOUNT = "txn_amount"
    DAILY_AMOUNT = "daily_amount"
    WALLET_TXN_AMOUNT = "wallet_txn_amount"
    WALLET_DAILY_AMOUNT = "wallet_daily_amount"
    VELOCITY = "velocity"
    FAILED_CODES = "failed_codes"
    DUPLICATE = "duplicate"
    REFUND_SHARE = "refund_share"


class Scope(StrEnum):
    """Who a limit row is for; the more specific row wins."""

    DEFAULT = "default"
    MCC_CLASS = "mcc_class"
    MERCHANT = "merchant"
    WALLET = "wallet"
    TERMINAL = "terminal"


_SPECIFICITY = {
    Scope.TERMINAL: 5,
    Scope.WALLET: 4,
    Scope.MERCHANT: 3,
    Scope.MCC_CLASS: 2,
    Scope.DEFAULT: 1,
}

_K = Kind


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What a rule needs and where it applies (the table in the module docstring)."""

    rule: Rule
    kinds: frozenset[Kind]
    money: bool  # skipped for training transactions
    window: bool = False  # needs ``window_seconds``
    lock: bool = False  # needs ``lock_seconds``
    unit: str = "minor units"
    priced: bool = False  # the value is an amount: each row is in one currency


#: Every rule, in the order they are evaluated (the first decline is reported first).
RULES: dict[Rule, RuleSpec] = {
    spec.rule: spec
    for spec in (
        RuleSpec(
            Rule.FAILED_CODES,
            frozenset({_K.PAYMENT, _K.ORDER_PAYMENT}),
            False,
            True,
            True,
            "failures",
        ),
        RuleSpec(Rule.VELOCITY, frozenset({_K.PAYMENT}), False, True, unit="payments"),
        RuleSpec(Rule.TXN_AMOUNT, frozenset({_K.PAYMENT, _K.ORDER_PAYMENT}), True, priced=True),
        RuleSpec(Rule.DAILY_AMOUNT, frozenset({_K.PAYMENT, _K.ORDER_PAYMENT}), True, priced=True),
        RuleSpec(
            Rule.WALLET_TXN_AMOUNT, frozenset({_K.PAYMENT, _K.ORDER_PAYMENT}), True, priced=True
        ),
        RuleSpec(
            Rule.WALLET_DAILY_AMOUNT, frozenset({_K.PAYMENT, _K.ORDER_PAYMENT}), True, priced=True
        ),
        RuleSpec(Rule.DUPLICATE, frozenset({_K.PAYMENT}), True, True, unit="earlier payments"),
        RuleSpec(Rule.REFUND_SHARE, frozenset({_K.REFUND}), True, unit="ppm of the day's sales"),
    )
}

#: Merchant category codes grouped into the classes limits are set by; any other
#: MCC is ``general``. The groups follow ISO 18245 ranges where they are coherent.
MCC_CLASSES: dict[str, frozenset[str]] = {
    "grocery": frozenset({"5411", "5412", "5422", "5441", "5451", "5462", "5499"}),
    "restaurant": frozenset({"5811", "5812", "5813", "5814"}),
    "fuel": frozenset({"5541", "5542", "5983"}),
    "travel": frozenset({"4111", "4112", "4121", "4131", "4411", "4511", "4722", "7011"}),
    # Quasi-cash, money transfer, gambling and the like: the usual laundering channels.
    "high_risk": frozenset(
        {"4829", "5933", "5966", "5967", "6010", "6011", "6051", "6211", "7273", "7995"}
    ),
}


def mcc_class(mcc: str) -> str:
    """The class an MCC belongs to (``general`` when it is in none)."""
    return next((name for name, codes in MCC_CLASSES.items() if mcc in codes), "general")


#: One "unit" of each currency the host ships amount limits for, in major units: a round
#: amount worth about 1 000 CNY (about 140 USD in 2026). The shipped limits are
#: multiples of it (:data:`SHIPPED_UNITS`), so they are worth about the same everywhere;
#: 1 000 CNY is the PIN amount the built-in wallet has always had. Currencies not here
#: have no defaults: the operator sets their limits (until then they are refused).
CURRENCY_UNITS: Mapping[str, int] = {
    "AED": 500,
    "AUD": 200,
    "BRL": 800,
    "CAD": 200,
    "CHF": 100,
    "CNY": 1_000,
    "EUR": 150,
    "GBP": 100,
    "HKD": 1_000,
    "IDR": 2_000_000,
    "INR": 12_000,
    "JPY": 20_000,
    "KHR": 500_000,
    "KRW": 200_000,
    "KWD": 40,
    "MOP": 1_000,
    "MYR": 600,
    "PHP": 8_000,
    "SAR": 500,
    "SGD": 200,
    "THB": 5_000,
    "TWD": 5_000,
    "USD": 150,
    "VND": 3_000_000,
}

#: The shipped amount limits, in units of :data:`CURRENCY_UNITS` (for CNY exactly the
#: limits of migration 0002): (rule, scope, key) -> units.
SHIPPED_UNITS: Mapping[tuple[Rule, Scope, str], int] = {
    (Rule.TXN_AMOUNT, Scope.DEFAULT, ""): 50,
    (Rule.TXN_AMOUNT, Scope.MCC_CLASS, "restaurant"): 10,
    (Rule.TXN_AMOUNT, Scope.MCC_CLASS, "high_risk"): 5,
    (Rule.DAILY_AMOUNT, Scope.DEFAULT, ""): 500,
    (Rule.DAILY_AMOUNT, Scope.MCC_CLASS, "high_risk"): 50,
    (Rule.WALLET_TXN_AMOUNT, Scope.DEFAULT, ""): 20,
    (Rule.WALLET_DAILY_AMOUNT, Scope.DEFAULT, ""): 50,
}


def _unit(currency: str) -> int:
    """One unit of ``currency`` in its minor units (0: the host ships none for it)."""
    units = CURRENCY_UNITS.get(currency)
    return 0 if units is None else units * 10 ** get_currency(currency).exponent


def default_pin_above(currency: str) -> int:
    """The PIN amount of a new wallet account in ``currency``, in its minor units: one
    unit (40.000 KWD, ¥20 000, 1 000.00 CNY). 0 for a currency with no default: every
    payment then asks for the PIN, the safe side."""
    return _unit(currency)


def default_limits(currency: str) -> list[Limit]:
    """The shipped amount limits in ``currency`` (empty when it has no defaults)."""
    unit = _unit(currency)
    if not unit:
        return []
    return [
        Limit(rule, units * unit, RiskOutcome.DECLINE, scope, key, currency=currency)
        for (rule, scope, key), units in SHIPPED_UNITS.items()
    ]


def _is_currency(code: str) -> bool:
    try:
        return get_currency(code).alpha == code
    except MoneyError:
        return False


@dataclass(frozen=True, slots=True)
class Limit:
    """One row of the limits table. ``currency``: the ISO 4217 code an amount rule's
    value is in (minor units); empty for counts and shares."""

    rule: Rule
    value: int
    action: RiskOutcome = RiskOutcome.DECLINE
    scope: Scope = Scope.DEFAULT
    key: str = ""
    window_seconds: int | None = None
    lock_seconds: int | None = None
    currency: str = ""

    def __post_init__(self) -> None:
        spec = RULES[self.rule]
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise ValueError("a limit's value is a non-negative integer")
        if spec.priced and not _is_currency(self.currency):
            raise ValueError(f"{self.rule} is an amount: it needs its ISO 4217 currency")
        if not spec.priced and self.currency != "":
            raise ValueError(f"{self.rule} is not an amount: it has no currency")
        if (self.scope is Scope.DEFAULT) != (self.key == ""):
            raise ValueError("a default limit has no key; any other scope needs one")
        if spec.window and (self.window_seconds is None or self.window_seconds <= 0):
            raise ValueError(f"{self.rule} needs a positive window in seconds")
        if spec.lock and (self.lock_seconds is None or self.lock_seconds <= 0):
            raise ValueError(f"{self.rule} needs a positive lock in seconds")
        if self.rule is Rule.FAILED_CODES and self.value < 1:
            raise ValueError("failed_codes needs at least one failure to lock")


@dataclass(frozen=True, slots=True)
class RiskInput:
    """The transaction being assessed: ``amount`` minor units of ``currency``.
    ``wallet`` is the payer's account, when known."""

    kind: Kind
    merchant_id: str
    mcc: str
    amount: int
    currency: str
    now: datetime
    terminal_id: str | None = None
    wallet: str | None = None
    training: bool = False


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """What the service read from the database, excluding the transaction itself."""

    #: The merchant's captured payments today (business day), minor units.
    merchant_day_total: int = 0
    #: The payer account's captured payments today.
    wallet_day_total: int = 0
    #: Payments of this terminal inside the velocity window.
    terminal_recent: int = 0
    #: When each failed code (of this terminal, or this account) happened, inside the lookback.
    failures: tuple[datetime, ...] = ()
    #: Earlier payments with the same terminal, amount and payer inside the duplicate window.
    duplicates: int = 0
    #: The merchant's captured sales today, and its refunds today (for refund_share).
    day_sales: int = 0
    day_refunds: int = 0


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict on one transaction, with the numbers it compared."""

    rule: Rule
    outcome: RiskOutcome
    scope: Scope
    detail: str
    #: Refused because the rule has no limit in the transaction's currency.
    unpriced: bool = False

    def to_dict(self) -> dict[str, str | bool]:
        shown: dict[str, str | bool] = {
            "rule": str(self.rule),
            "outcome": str(self.outcome),
            "scope": str(self.scope),
            "detail": self.detail,
        }
        if self.unpriced:
            shown["unpriced"] = True
        return shown


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """The verdict: outcome, the result code when declined, the rules that fired, all results."""

    outcome: RiskOutcome
    code: str = "00"
    reasons: tuple[str, ...] = ()
    results: tuple[RuleResult, ...] = ()

    @property
    def flags(self) -> str | None:
        """The rules that flagged the transaction for review, comma-separated (None: none)."""
        flagged = [str(r.rule) for r in self.results if r.outcome is RiskOutcome.REVIEW]
        return ",".join(flagged) or None


def resolve_limits(
    limits: Iterable[Limit],
    *,
    merchant_id: str,
    mcc: str,
    currency: str,
    terminal_id: str | None = None,
    wallet: str | None = None,
) -> dict[Rule, Limit]:
    """For each rule, the most specific row that applies to these parties; for an amount
    rule, among its rows in ``currency``.

    An amount rule with no row in ``currency`` that is in force for the parties in
    another currency (a row whose action is not approve) maps to that row, the most
    specific one: :func:`assess` refuses the transaction on it (fail closed) and never
    compares the amount with its value.
    """
    parties = {
        Scope.DEFAULT: "",
        Scope.MCC_CLASS: mcc_class(mcc),
        Scope.MERCHANT: merchant_id,
        Scope.TERMINAL: terminal_id,
        Scope.WALLET: wallet,
    }
    chosen: dict[Rule, Limit] = {}
    elsewhere: dict[Rule, Limit] = {}
    for limit in limits:
        if parties[limit.scope] != limit.key:
            continue
        pick = chosen
        if RULES[limit.rule].priced and limit.currency != currency:
            if limit.action is RiskOutcome.APPROVE:
                continue  # switched off there: no evidence the rule is in force
            pick = elsewhere
        best = pick.get(limit.rule)
        if best is None or _SPECIFICITY[limit.scope] > _SPECIFICITY[best.scope]:
            pick[limit.rule] = limit
    for rule, limit in elsewhere.items():
        chosen.setdefault(rule, limit)
    return chosen


def _unpriced(limit: Limit, tx: RiskInput) -> bool:
    """Whether ``limit`` stands for an amount rule with no limit in ``tx``'s currency."""
    return RULES[limit.rule].priced and limit.currency != tx.currency


def lockout_until(
    failures: Sequence[datetime], max_failures: int, window_seconds: int, lock_seconds: int
) -> datetime | None:
    """When the latest lock ends: ``max_failures`` failures inside ``window_seconds``
    start a lock of ``lock_seconds`` from the last of them. None: never locked.

    The service passes the failures of the last ``window + lock`` seconds: older
    ones cannot lock anything that is still running.
    """
    times = sorted(failures)
    window = timedelta(seconds=window_seconds)
    end: datetime | None = None
    for i in range(max_failures - 1, len(times)):
        if times[i] - times[i - max_failures + 1] <= window:
            candidate = times[i] + timedelta(seconds=lock_seconds)
            end = candidate if end is None or candidate > end else end
    return end


def _check(rule: Rule, limit: Limit, tx: RiskInput, facts: RiskFacts) -> tuple[bool, str]:
    """Whether ``rule`` fires, and the comparison it made (for the audit trail)."""
    value = limit.value
    if _unpriced(limit, tx):
        return True, f"no {rule} limit in {tx.currency} (only in {limit.currency})"
    if rule is Rule.TXN_AMOUNT:
        return tx.amount > value, f"amount {tx.amount} vs limit {value}"
    if rule is Rule.DAILY_AMOUNT:
        total = facts.merchant_day_total + tx.amount
        return total > value, f"merchant today {total} vs limit {value}"
    if rule is Rule.WALLET_TXN_AMOUNT:
        return tx.amount > value, f"amount {tx.amount} vs wallet limit {value}"
    if rule is Rule.WALLET_DAILY_AMOUNT:
        total = facts.wallet_day_total + tx.amount
        return total > value, f"wallet today {total} vs limit {value}"
    if rule is Rule.VELOCITY:
        count = facts.terminal_recent + 1
        return count > value, f"{count} payments in {limit.window_seconds} s vs limit {value}"
    if rule is Rule.FAILED_CODES:
        assert limit.window_seconds is not None and limit.lock_seconds is not None
        until = lockout_until(facts.failures, value, limit.window_seconds, limit.lock_seconds)
        if until is not None and tx.now < until:
            return True, f"locked until {until.isoformat()} after {value} failed codes"
        return False, f"{len(facts.failures)} recent failed codes, lock at {value}"
    if rule is Rule.DUPLICATE:
        return (
            facts.duplicates >= value,
            f"{facts.duplicates} same payments in {limit.window_seconds} s (flag at {value})",
        )
    assert rule is Rule.REFUND_SHARE
    refunds = facts.day_refunds + tx.amount
    # Integers only: refunds / sales > value / 1e6  <=>  refunds * 1e6 > value * sales.
    fired = refunds * 1_000_000 > value * facts.day_sales
    return fired, f"refunds today {refunds} vs sales {facts.day_sales} at {value} ppm"


def applicable(tx: RiskInput, limits: Mapping[Rule, Limit]) -> dict[Rule, Limit]:
    """The rules that will run on ``tx`` (in evaluation order), so that the service reads
    only the history they need. A limit whose action is approve switches its rule off."""
    chosen: dict[Rule, Limit] = {}
    for rule, spec in RULES.items():
        limit = limits.get(rule)
        if limit is None or limit.action is RiskOutcome.APPROVE:
            continue
        if tx.kind not in spec.kinds or (spec.money and tx.training):
            continue
        if rule in (Rule.VELOCITY, Rule.DUPLICATE) and tx.terminal_id is None:
            continue
        if rule in (Rule.WALLET_TXN_AMOUNT, Rule.WALLET_DAILY_AMOUNT) and tx.wallet is None:
            continue
        chosen[rule] = limit
    return chosen


def assess(tx: RiskInput, facts: RiskFacts, limits: Mapping[Rule, Limit]) -> RiskDecision:
    """Run every rule that applies to ``tx`` and has a limit.

    The outcome is decline (code 57) when any rule declines, review when any
    flags, approve otherwise; ``results`` lists every rule that ran. An amount rule
    whose limit is in another currency than ``tx`` (see :func:`resolve_limits`)
    declines whatever its action: it cannot be checked, so it is not passed.
    """
    results: list[RuleResult] = []
    for rule, limit in applicable(tx, limits).items():
        fired, detail = _check(rule, limit, tx, facts)
        unpriced = _unpriced(limit, tx)
        outcome = (
            RiskOutcome.DECLINE if unpriced else limit.action if fired else RiskOutcome.APPROVE
        )
        results.append(RuleResult(rule, outcome, limit.scope, detail, unpriced))
    declined = tuple(str(r.rule) for r in results if r.outcome is RiskOutcome.DECLINE)
    flagged = tuple(str(r.rule) for r in results if r.outcome is RiskOutcome.REVIEW)
    if declined:
        return RiskDecision(RiskOutcome.DECLINE, "57", declined, tuple(results))
    if flagged:
        return RiskDecision(RiskOutcome.REVIEW, "00", flagged, tuple(results))
    return RiskDecision(RiskOutcome.APPROVE, "00", (), tuple(results))
