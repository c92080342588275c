"""Properties of the amount limits' currencies (:mod:`scanpay.host.domain.risk`).

An amount is compared only with a limit in its own currency; rows in other
currencies never change a decision; a rule in force only in other currencies
refuses (fail closed); and the shipped defaults are whole amounts in each
currency's own minor units.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.risk import (
    CURRENCY_UNITS,
    RULES,
    Kind,
    Limit,
    RiskFacts,
    RiskInput,
    RiskOutcome,
    Rule,
    Scope,
    assess,
    default_limits,
    default_pin_above,
    resolve_limits,
)
from scanpay.money import currencies, get_currency

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
MERCHANT, TERMINAL, WALLET = "M000001", "T000001", "0000000018"
CODES = [c.alpha for c in currencies()]
PRICED = [rule for rule, spec in RULES.items() if spec.priced]

amounts = st.integers(min_value=1, max_value=10**12)
values = st.integers(min_value=0, max_value=10**12)
two_currencies = st.lists(st.sampled_from(CODES), min_size=2, max_size=2, unique=True)
# Scopes that apply to the transaction below (a grocer: MCC class "grocery").
parties = st.sampled_from(
    [
        (Scope.DEFAULT, ""),
        (Scope.MCC_CLASS, "grocery"),
        (Scope.MERCHANT, MERCHANT),
        (Scope.TERMINAL, TERMINAL),
        (Scope.WALLET, WALLET),
    ]
)
actions = st.sampled_from([RiskOutcome.DECLINE, RiskOutcome.REVIEW])


def tx(amount: int, currency: str, *, training: bool = False) -> RiskInput:
    return RiskInput(
        Kind.PAYMENT, MERCHANT, "5411", amount, currency, NOW, TERMINAL, WALLET, training
    )


def row(
    rule: Rule, value: int, currency: str, party: tuple[Scope, str], action: RiskOutcome
) -> Limit:
    return Limit(rule, value, action, party[0], party[1], currency=currency)


def decide(rows: list[Limit], t: RiskInput) -> tuple[RiskOutcome, tuple[str, ...]]:
    limits = resolve_limits(
        rows,
        merchant_id=MERCHANT,
        mcc="5411",
        currency=t.currency,
        terminal_id=TERMINAL,
        wallet=WALLET,
    )
    decision = assess(t, RiskFacts(), limits)
    return decision.outcome, decision.reasons


@given(
    pair=two_currencies,
    own=st.lists(st.tuples(st.sampled_from(PRICED), values, parties, actions), min_size=1),
    others=st.lists(st.tuples(st.sampled_from(PRICED), values, parties, actions)),
    amount=amounts,
)
def test_rows_in_other_currencies_never_change_a_decision(
    pair: list[str],
    own: list[tuple[Rule, int, tuple[Scope, str], RiskOutcome]],
    others: list[tuple[Rule, int, tuple[Scope, str], RiskOutcome]],
    amount: int,
) -> None:
    mine, theirs = pair
    own_rows = [row(r, v, mine, p, a) for r, v, p, a in own]
    # Every rule the other currency has is priced in this one too (else it fails closed).
    priced_here = {r for r, _, _, _ in own}
    other_rows = [row(r, v, theirs, p, a) for r, v, p, a in others if r in priced_here]
    t = tx(amount, mine)
    assert decide(own_rows + other_rows, t) == decide(own_rows, t)


@given(pair=two_currencies, value=values, other=values, amount=amounts, party=parties)
def test_an_amount_is_compared_with_the_limit_of_its_own_currency(
    pair: list[str], value: int, other: int, amount: int, party: tuple[Scope, str]
) -> None:
    mine, theirs = pair
    rows = [
        row(Rule.TXN_AMOUNT, value, mine, (Scope.DEFAULT, ""), RiskOutcome.DECLINE),
        # A more specific row in another currency: never the one compared.
        row(Rule.TXN_AMOUNT, other, theirs, party, RiskOutcome.DECLINE),
    ]
    outcome, reasons = decide(rows, tx(amount, mine))
    assert (outcome is RiskOutcome.DECLINE) is (amount > value)
    assert reasons == (("txn_amount",) if amount > value else ())


@given(
    pair=two_currencies,
    rule=st.sampled_from(PRICED),
    value=values,
    amount=amounts,
    party=parties,
    action=actions,
)
def test_a_rule_in_force_only_in_other_currencies_refuses_every_amount(
    pair: list[str],
    rule: Rule,
    value: int,
    amount: int,
    party: tuple[Scope, str],
    action: RiskOutcome,
) -> None:
    mine, theirs = pair
    rows = [row(rule, value, theirs, party, action)]
    t = tx(amount, mine)
    limits = resolve_limits(
        rows, merchant_id=MERCHANT, mcc="5411", currency=mine, terminal_id=TERMINAL, wallet=WALLET
    )
    decision = assess(t, RiskFacts(), limits)
    assert (decision.outcome, decision.code, decision.reasons) == (
        RiskOutcome.DECLINE,
        "57",
        (str(rule),),
    )
    (result,) = decision.results
    assert result.unpriced and mine in result.detail
    # Training sales move play money: the money rules do not run on them at all.
    assert decide(rows, tx(amount, mine, training=True)) == (RiskOutcome.APPROVE, ())
    # The rule switched off in every currency (an approve row) refuses nothing.
    off = [row(rule, value, theirs, party, RiskOutcome.APPROVE)]
    assert decide(off, t) == (RiskOutcome.APPROVE, ())


@given(
    rule=st.sampled_from(list(Rule)),
    currency=st.one_of(st.sampled_from(CODES), st.text(max_size=4)),
)
def test_a_limit_has_a_currency_exactly_when_it_is_an_amount(rule: Rule, currency: str) -> None:
    spec = RULES[rule]
    extra = {
        "window_seconds": 60 if spec.window else None,
        "lock_seconds": 60 if spec.lock else None,
    }
    valid = currency in CODES if spec.priced else currency == ""
    try:
        made = Limit(rule, 5, currency=currency, **extra)  # type: ignore[arg-type]
    except ValueError:
        assert not valid
    else:
        assert valid and made.currency == currency


@given(code=st.sampled_from(CODES))
def test_shipped_defaults_are_whole_amounts_in_each_currencys_minor_units(code: str) -> None:
    exponent = get_currency(code).exponent
    shipped = default_limits(code)
    if code not in CURRENCY_UNITS:
        # No default for this currency: every payment asks for the PIN; no amount limits.
        assert (default_pin_above(code), shipped) == (0, [])
        return
    unit = CURRENCY_UNITS[code] * 10**exponent
    assert default_pin_above(code) == unit
    assert shipped and {lim.currency for lim in shipped} == {code}
    assert {lim.rule for lim in shipped} == set(PRICED)
    assert all(lim.value % 10**exponent == 0 and lim.value >= unit for lim in shipped)
    by = {(lim.rule, lim.scope, lim.key): lim.value for lim in shipped}
    everyone = by[(Rule.TXN_AMOUNT, Scope.DEFAULT, "")]
    # Riskier classes get less; a day holds more than one payment; the PIN comes first.
    assert by[(Rule.TXN_AMOUNT, Scope.MCC_CLASS, "high_risk")] < everyone
    assert by[(Rule.DAILY_AMOUNT, Scope.DEFAULT, "")] > everyone
    assert default_pin_above(code) < by[(Rule.WALLET_TXN_AMOUNT, Scope.DEFAULT, "")]


def test_the_cny_defaults_are_the_ones_shipped_before_currencies() -> None:
    by = {(lim.rule, lim.scope, lim.key): lim.value for lim in default_limits("CNY")}
    assert by[(Rule.TXN_AMOUNT, Scope.DEFAULT, "")] == 5_000_000
    assert by[(Rule.DAILY_AMOUNT, Scope.MCC_CLASS, "high_risk")] == 5_000_000
    assert default_pin_above("CNY") == 100_000
    # The currencies of the issue, each in its own minor units.
    assert default_pin_above("KWD") == 40_000  # 40.000 KWD, not 1000.000
    assert dict(
        (
            code,
            {(lim.rule, lim.scope): lim.value for lim in default_limits(code)}[
                (Rule.TXN_AMOUNT, Scope.DEFAULT)
            ],
        )
        for code in ("JPY", "IDR", "KWD")
    ) == {"JPY": 1_000_000, "IDR": 10_000_000_000, "KWD": 2_000_000}
