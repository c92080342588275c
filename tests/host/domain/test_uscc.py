"""GB 32100 check characters: the reference values and properties over generated codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.uscc import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    check_character,
    is_valid_uscc,
    normalize_uscc,
)

bodies = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


def test_reference_values() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y42")
    assert normalize_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "text",
    ["", "91350100M000100Y4", "91350100M000100Y433", "91350100I000100Y43", "9135010OM000100Y43"],
)
def test_wrong_shapes(text: str) -> None:
    assert not is_valid_uscc(text)


@given(bodies)
def test_the_computed_check_character_validates(body: str) -> None:
    assert is_valid_uscc(body + check_character(body))


@given(bodies, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_change_is_caught(body: str, at: int, ch: str) -> None:
    code = body + check_character(body)
    changed = code[:at] + ch + code[at + 1 :]
    # Weights 3^i mod 31 are all non-zero mod 31 (prime): every substitution changes the sum.
    assert is_valid_uscc(changed) == (changed == code)


def test_check_character_refuses_bad_bodies() -> None:
    with pytest.raises(ValueError):
        check_character("I" * 17)
