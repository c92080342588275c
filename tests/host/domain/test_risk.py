"""The risk rules, one by one, at their thresholds; scopes; the lockout arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanpay.host.domain.risk import (
    RULES,
    Kind,
    Limit,
    RiskFacts,
    RiskInput,
    RiskOutcome,
    Rule,
    Scope,
    applicable,
    assess,
    lockout_until,
    mcc_class,
    resolve_limits,
)

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DECLINE, REVIEW, APPROVE = RiskOutcome.DECLINE, RiskOutcome.REVIEW, RiskOutcome.APPROVE


def tx(amount: int = 1_000, kind: Kind = Kind.PAYMENT, **extra: object) -> RiskInput:
    base: dict[str, object] = {
        "kind": kind,
        "merchant_id": "M000001",
        "mcc": "5411",
        "amount": amount,
        "currency": "CNY",
        "now": NOW,
        "terminal_id": "T000001",
        "wallet": "0000000018",
    }
    base.update(extra)
    return RiskInput(**base)  # type: ignore[arg-type]


def one(
    rule: Rule, value: int, action: RiskOutcome = DECLINE, **extra: object
) -> dict[Rule, Limit]:
    if RULES[rule].priced:
        extra.setdefault("currency", "CNY")  # an amount limit is in the transactions' currency
    return {rule: Limit(rule, value, action, **extra)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "facts", "amount", "value", "fires"),
    [
        (Rule.TXN_AMOUNT, RiskFacts(), 10_000, 10_000, False),
        (Rule.TXN_AMOUNT, RiskFacts(), 10_001, 10_000, True),
        (Rule.DAILY_AMOUNT, RiskFacts(merchant_day_total=9_000), 1_000, 10_000, False),
        (Rule.DAILY_AMOUNT, RiskFacts(merchant_day_total=9_001), 1_000, 10_000, True),
        (Rule.WALLET_TXN_AMOUNT, RiskFacts(), 500, 499, True),
        (Rule.WALLET_DAILY_AMOUNT, RiskFacts(wallet_day_total=4_500), 500, 5_000, False),
        (Rule.WALLET_DAILY_AMOUNT, RiskFacts(wallet_day_total=4_501), 500, 5_000, True),
    ],
)
def test_amount_rules_at_their_thresholds(
    rule: Rule, facts: RiskFacts, amount: int, value: int, fires: bool
) -> None:
    decision = assess(tx(amount), facts, one(rule, value))
    assert decision.outcome is (DECLINE if fires else APPROVE)
    assert decision.code == ("57" if fires else "00")
    assert decision.reasons == ((str(rule),) if fires else ())
    assert [r.rule for r in decision.results] == [rule]
    assert str(amount) in decision.results[0].detail


def test_velocity_counts_this_payment() -> None:
    limits = one(Rule.VELOCITY, 3, window_seconds=60)
    assert assess(tx(), RiskFacts(terminal_recent=2), limits).outcome is APPROVE
    fired = assess(tx(), RiskFacts(terminal_recent=3), limits)
    assert fired.outcome is DECLINE and "4 payments in 60 s" in fired.results[0].detail


def test_duplicate_flags_for_review_by_default_action() -> None:
    limits = one(Rule.DUPLICATE, 1, REVIEW, window_seconds=120)
    assert assess(tx(), RiskFacts(duplicates=0), limits).outcome is APPROVE
    flagged = assess(tx(), RiskFacts(duplicates=1), limits)
    assert (flagged.outcome, flagged.code, flagged.flags) == (REVIEW, "00", "duplicate")


def test_refund_share_compares_with_the_days_sales() -> None:
    limits = one(Rule.REFUND_SHARE, 500_000, REVIEW)  # 50 %
    refund = tx(2_000, Kind.REFUND)
    # 3 000 refunded + 2 000 = 5 000 of 10 000 sales: exactly half is allowed.
    ok = RiskFacts(day_sales=10_000, day_refunds=3_000)
    assert assess(refund, ok, limits).outcome is APPROVE
    over = RiskFacts(day_sales=10_000, day_refunds=3_001)
    assert assess(refund, over, limits).outcome is REVIEW
    # No sales today at all: any refund is above the share.
    assert assess(refund, RiskFacts(), limits).flags == "refund_share"


def test_failed_codes_lock_the_terminal_for_a_while() -> None:
    limits = one(Rule.FAILED_CODES, 3, window_seconds=300, lock_seconds=900)
    fails = tuple(NOW - timedelta(seconds=s) for s in (100, 50, 10))
    locked = assess(tx(), RiskFacts(failures=fails), limits)
    assert locked.outcome is DECLINE and "locked until" in locked.results[0].detail
    # Two failures are not enough; three spread wider than the window are not either.
    assert assess(tx(), RiskFacts(failures=fails[1:]), limits).outcome is APPROVE
    spread = (NOW - timedelta(seconds=700), NOW - timedelta(seconds=350), NOW)
    assert assess(tx(), RiskFacts(failures=spread), limits).outcome is APPROVE
    # The lock runs 900 s from the third failure, then lifts.
    later = tx(now=NOW - timedelta(seconds=10) + timedelta(seconds=900))
    assert assess(later, RiskFacts(failures=fails), limits).outcome is APPROVE


def test_lockout_until_takes_the_latest_run() -> None:
    t = [NOW + timedelta(seconds=s) for s in (0, 10, 20, 1000, 1010, 1020)]
    assert lockout_until(t, 3, 60, 900) == t[5] + timedelta(seconds=900)
    assert lockout_until(t[:2], 3, 60, 900) is None
    assert lockout_until(list(reversed(t[:3])), 3, 20, 5) == t[2] + timedelta(seconds=5)
    assert lockout_until(t[:3], 3, 19, 5) is None


def test_training_sales_skip_money_rules_but_not_terminal_rules() -> None:
    limits = {
        **one(Rule.TXN_AMOUNT, 1),
        **one(Rule.VELOCITY, 1, window_seconds=60),
    }
    decision = assess(tx(5_000, training=True), RiskFacts(terminal_recent=1), limits)
    assert [r.rule for r in decision.results] == [Rule.VELOCITY]
    assert decision.outcome is DECLINE


def test_rules_apply_to_their_kinds_only() -> None:
    limits = {
        **one(Rule.REFUND_SHARE, 0),
        **one(Rule.TXN_AMOUNT, 1),
        **one(Rule.VELOCITY, 0, window_seconds=60),
        **one(Rule.DUPLICATE, 0, window_seconds=60),
    }
    assert [r.rule for r in assess(tx(), RiskFacts(), limits).results] == [
        Rule.VELOCITY,
        Rule.TXN_AMOUNT,
        Rule.DUPLICATE,
    ]
    order = tx(kind=Kind.ORDER_PAYMENT, terminal_id=None)
    assert list(applicable(order, limits)) == [Rule.TXN_AMOUNT]
    assert list(applicable(tx(kind=Kind.REFUND), limits)) == [Rule.REFUND_SHARE]
    # Wallet rules need a known payer.
    wallet_limits = one(Rule.WALLET_TXN_AMOUNT, 1)
    assert applicable(tx(wallet=None), wallet_limits) == {}


def test_decline_wins_over_review_and_every_result_is_kept() -> None:
    limits = {
        **one(Rule.DUPLICATE, 1, REVIEW, window_seconds=60),
        **one(Rule.TXN_AMOUNT, 10),
    }
    decision = assess(tx(100), RiskFacts(duplicates=2), limits)
    assert (decision.outcome, decision.reasons) == (DECLINE, ("txn_amount",))
    assert {r.rule: r.outcome for r in decision.results} == {
        Rule.TXN_AMOUNT: DECLINE,
        Rule.DUPLICATE: REVIEW,
    }
    assert decision.flags == "duplicate"
    assert decision.results[0].to_dict()["scope"] == "default"


def test_the_most_specific_limit_wins() -> None:
    cny = {"currency": "CNY"}
    rows = [
        Limit(Rule.TXN_AMOUNT, 100, **cny),
        Limit(Rule.TXN_AMOUNT, 200, scope=Scope.MCC_CLASS, key="grocery", **cny),
        Limit(Rule.TXN_AMOUNT, 300, scope=Scope.MERCHANT, key="M000001", **cny),
        Limit(Rule.TXN_AMOUNT, 400, scope=Scope.MERCHANT, key="M000002", **cny),
        Limit(Rule.VELOCITY, 5, window_seconds=60),
        Limit(Rule.VELOCITY, 9, scope=Scope.TERMINAL, key="T000001", window_seconds=60),
        Limit(Rule.WALLET_TXN_AMOUNT, 50, scope=Scope.WALLET, key="0000000018", **cny),
    ]
    chosen = resolve_limits(
        rows,
        merchant_id="M000001",
        mcc="5411",
        currency="CNY",
        terminal_id="T000001",
        wallet="0000000018",
    )
    assert chosen[Rule.TXN_AMOUNT].value == 300
    assert chosen[Rule.VELOCITY].value == 9
    assert chosen[Rule.WALLET_TXN_AMOUNT].value == 50
    other = resolve_limits(rows, merchant_id="M000009", mcc="5812", currency="CNY")
    assert other[Rule.TXN_AMOUNT].value == 100  # a restaurant: no class row, the default
    assert Rule.WALLET_TXN_AMOUNT not in other
    grocer = resolve_limits(rows, merchant_id="M000009", mcc="5499", currency="CNY")
    assert grocer[Rule.TXN_AMOUNT].value == 200


def test_an_approve_row_switches_a_rule_off_for_its_scope() -> None:
    rows = [
        Limit(Rule.TXN_AMOUNT, 100, currency="CNY"),
        Limit(Rule.TXN_AMOUNT, 0, RiskOutcome.APPROVE, Scope.MERCHANT, "M000001", currency="CNY"),
    ]
    chosen = resolve_limits(rows, merchant_id="M000001", mcc="5411", currency="CNY")
    assert assess(tx(10**9), RiskFacts(), chosen).outcome is APPROVE
    assert assess(tx(10**9), RiskFacts(), chosen).results == ()


def test_mcc_classes() -> None:
    assert (mcc_class("5411"), mcc_class("5812"), mcc_class("7995"), mcc_class("1234")) == (
        "grocery",
        "restaurant",
        "high_risk",
        "general",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"rule": Rule.TXN_AMOUNT, "value": -1, "currency": "CNY"},
        {"rule": Rule.TXN_AMOUNT, "value": True, "currency": "CNY"},
        {"rule": Rule.TXN_AMOUNT, "value": 1, "scope": Scope.MERCHANT, "currency": "CNY"},
        {"rule": Rule.TXN_AMOUNT, "value": 1, "key": "M1", "currency": "CNY"},
        {"rule": Rule.TXN_AMOUNT, "value": 1},
        {"rule": Rule.DUPLICATE, "value": 1, "window_seconds": 60, "currency": "CNY"},
        {"rule": Rule.VELOCITY, "value": 1},
        {"rule": Rule.FAILED_CODES, "value": 3, "window_seconds": 60},
        {"rule": Rule.FAILED_CODES, "value": 0, "window_seconds": 60, "lock_seconds": 60},
    ],
)
def test_bad_limits_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Limit(**bad)  # type: ignore[arg-type]


def test_every_rule_is_described() -> None:
    assert set(RULES) == set(Rule)
    assert all(spec.kinds for spec in RULES.values())
