"""Alipay's yuan strings read to fen exactly, and written back the same."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scanpay.sim.alipay.money import MAX_FEN, fee_of, parse_yuan
from scanpay.sim.common.money import yuan


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_fen_round_trip(fen: int) -> None:
    assert parse_yuan(yuan(fen)) == fen
    assert parse_yuan(Decimal(yuan(fen))) == fen


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(min_value=0, max_value=99))
def test_one_or_two_decimals(whole: int, cents: int) -> None:
    fen = whole * 100 + cents
    expected = fen if 0 < fen <= MAX_FEN else None
    assert parse_yuan(f"{whole}.{cents:02d}") == expected
    if cents % 10 == 0:
        assert parse_yuan(f"{whole}.{cents // 10}") == expected
    if cents == 0:
        assert parse_yuan(str(whole)) == (whole * 100 if 0 < whole * 100 <= MAX_FEN else None)


@given(st.text(max_size=14))
def test_anything_else_is_refused_or_exact(text: str) -> None:
    fen = parse_yuan(text)
    if fen is not None:
        assert Decimal(text) * 100 == fen


def test_refused_forms() -> None:
    for bad in (
        "",
        "1.",
        ".5",
        "01.00",
        "1.001",
        "-1",
        "+1",
        "1e2",
        " 1",
        "0",
        "100000000.01",
        True,
        1.5,
    ):
        assert parse_yuan(bad) is None, bad


@given(st.integers(min_value=0, max_value=MAX_FEN), st.integers(min_value=0, max_value=10_000))
def test_fee_rounds_half_up(amount: int, rate: int) -> None:
    exact = Decimal(amount) * rate / 10_000
    fee = fee_of(amount, rate)
    assert fee - Decimal("0.5") <= exact < fee + Decimal("0.5")
