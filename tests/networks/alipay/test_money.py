"""Yuan text and fen, both ways exact; a text that is not a whole number of fen is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.networks.alipay.money import AmountError, to_fen, to_yuan


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_fen_to_yuan_and_back(fen: int) -> None:
    text = to_yuan(fen)
    assert to_fen(text) == fen
    whole, _, cents = text.lstrip("-").partition(".")
    assert len(cents) == 2 and whole.isdigit()


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0.01", 1), ("12.3", 1230), ("12", 1200), (" 7.05\t", 705), ("-0.10", -10), ("0.00", 0)],
)
def test_yuan_as_alipay_writes_them(text: str, fen: int) -> None:
    assert to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "1,00", "1e2", "NaN", "0x10", "1.", ".5", "一"])
def test_not_amounts(text: str) -> None:
    with pytest.raises(AmountError):
        to_fen(text)


def test_only_integers_are_fen() -> None:
    with pytest.raises(AmountError):
        to_yuan(1.5)  # type: ignore[arg-type]
    with pytest.raises(AmountError):
        to_yuan(True)
    assert to_yuan(1) == "0.01" and to_yuan(123456) == "1234.56"
