"""The QR structure module against segno's encoder (an independent implementation)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from scanpay.vision import _qr


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (1, ()),
        (2, (6, 18)),
        (7, (6, 22, 38)),
        (32, (6, 34, 60, 86, 112, 138)),
        (40, (6, 30, 58, 86, 114, 142, 170)),
    ],
)
def test_alignment_positions_match_annex_e(version: int, expected: tuple[int, ...]) -> None:
    assert _qr.alignment_positions(version) == expected


@pytest.mark.parametrize("version", range(1, 41))
def test_block_table_fills_exactly_the_data_area(version: int) -> None:
    rows, _ = _qr.placement(version)
    for level in _qr.EC_LEVELS:
        # Every version/level's codewords fill the data modules, bar the
        # 0-7 remainder bits.
        assert 0 <= rows.size - 8 * _qr.blocks(version, level).total < 8


@pytest.mark.parametrize("version", [1, 2, 5, 7, 10, 21, 40])
@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_sampled_segno_symbol_decodes_and_rebuilds_exactly(version: int, level: str) -> None:
    code = segno.make_qr(f"v{version}{level}", version=version, error=level, boost_error=False)
    matrix = np.asarray(code.matrix, dtype=bool)
    decoded = _qr.decode_matrix(matrix, version)
    assert decoded is not None
    assert (decoded.level, decoded.mask) == (level, code.mask)
    assert decoded.errors == (0,) * len(_qr.blocks(version, level).data_lengths)
    assert np.array_equal(_qr.ideal_matrix(decoded), matrix)


def test_errors_within_capacity_are_corrected_and_counted() -> None:
    rng = random.Random(7)
    version, level = 5, "Q"
    code = segno.make_qr("error correction", version=version, error=level, boost_error=False)
    clean = np.asarray(code.matrix, dtype=bool)
    rows, cols = _qr.placement(version)
    damaged = clean.copy()
    structure = _qr.blocks(version, level)
    n_blocks = len(structure.data_lengths)
    # Codewords 0..n_blocks*3-1 of the stream are the first 3 of every block.
    for k in range(3 * n_blocks):
        bit = 8 * k + rng.randrange(8)
        damaged[rows[bit], cols[bit]] ^= True
    decoded = _qr.decode_matrix(damaged, version)
    assert decoded is not None
    assert decoded.errors == (3,) * n_blocks
    assert decoded.unused_ec < 1.0
    assert np.array_equal(_qr.ideal_matrix(decoded), clean)


def test_beyond_capacity_is_refused() -> None:
    code = segno.make_qr("too much damage", version=2, error="L", boost_error=False)
    matrix = np.asarray(code.matrix, dtype=bool)
    rows, cols = _qr.placement(2)
    for k in range(8):  # 8 codeword errors > 10 EC codewords / 2
        matrix[rows[8 * k], cols[8 * k]] ^= True
    assert _qr.decode_matrix(matrix, 2) is None


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.integers(0, 255), min_size=1, max_size=60),
    n_ec=st.integers(2, 30),
    seed=st.integers(0, 2**16),
)
def test_reed_solomon_corrects_up_to_half_the_ec_codewords(
    data: list[int], n_ec: int, seed: int
) -> None:
    block = data + _qr.rs_encode(data, n_ec)
    rng = random.Random(seed)
    damaged = list(block)
    wrong = rng.sample(range(len(block)), k=min(n_ec // 2, len(block)))
    for i in wrong:
        damaged[i] ^= rng.randrange(1, 256)
    fixed = _qr.rs_correct(damaged, n_ec)
    assert fixed is not None
    assert fixed[0] == block
    assert fixed[1] == len(wrong)


def test_format_and_version_words_match_the_standard() -> None:
    # ISO/IEC 18004 annex C table C.1 and annex D table D.1 examples.
    assert _qr.format_bits("M", 0) == 0x5412
    assert _qr.format_bits("L", 0) == 0x77C4
    assert _qr.format_bits("H", 7) == 0x083B
    assert _qr.version_bits(7) == 0x07C94
    assert _qr.version_bits(40) == 0x28C69
