"""Settlement arithmetic: half-up fees per line, totals, postings, the CSV, business days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.settlement import (
    CSV_COLUMNS,
    Movement,
    MovementKind,
    day_bounds,
    line_fee,
    render_csv,
    settle,
    settlement_postings,
)

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("amount", "ppm", "fee"),
    [
        (10_000, 3_800, 38),  # 100.00 at 0.38 % = 0.38 exactly
        (1_333, 3_800, 5),  # 5.0654 fen -> 5
        (2_550, 3_800, 10),  # 9.69 fen -> 10
        (125, 4_000, 1),  # exactly 0.5 fen rounds up
        (124, 4_000, 0),  # 0.496 fen rounds down
        (131, 3_800, 0),  # 0.4978 fen
        (132, 3_800, 1),  # 0.5016 fen
        (1, 0, 0),
    ],
)
def test_fee_is_rounded_half_up_in_minor_units(amount: int, ppm: int, fee: int) -> None:
    assert line_fee(amount, ppm) == fee


@given(st.integers(0, 10**12), st.integers(0, 100_000))
def test_fee_is_the_nearest_integer_halves_up(amount: int, ppm: int) -> None:
    exact_twice = 2 * amount * ppm  # twice the fee, in millionths of a minor unit
    fee = line_fee(amount, ppm)
    assert 2 * fee * 1_000_000 - 1_000_000 <= exact_twice < 2 * fee * 1_000_000 + 1_000_000


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=SH)


MOVES = [
    Movement(MovementKind.PAYMENT, _at(9), "S-1", 10_000),
    Movement(MovementKind.PAYMENT, _at(10), "S-2", 2_550),
    Movement(MovementKind.REFUND, _at(11), "S-2", 500, "S-2-R1"),
    Movement(MovementKind.PAYMENT, _at(12), "S-3", 700),
    Movement(MovementKind.REVERSAL, _at(12, 1), "S-3", 700),
]


def test_a_day_worked_out_by_hand() -> None:
    figures = settle(MOVES, 3_800)
    # Fees: 38 (100.00), 10 (25.50 -> 9.69), -2 (5.00 -> 1.90), 3 (7.00 -> 2.66), -3.
    assert [(line.amount, line.fee) for line in figures.lines] == [
        (10_000, 38),
        (2_550, 10),
        (-500, -2),
        (700, 3),
        (-700, -3),
    ]
    assert (figures.payments.count, figures.payments.amount, figures.payments.fee) == (
        3,
        13_250,
        51,
    )
    assert (figures.refunds.count, figures.refunds.amount, figures.refunds.fee) == (1, -500, -2)
    assert (figures.reversals.count, figures.reversals.amount) == (1, -700)
    assert (figures.gross, figures.fee, figures.net) == (12_050, 46, 12_004)
    postings = settlement_postings(figures, clearing="c", fee_income="f", settlement="s")
    assert postings == [("c", -12_050), ("f", 46), ("s", 12_004)]
    assert sum(amount for _, amount in postings) == 0


def test_an_empty_day_moves_nothing_and_zero_postings_are_left_out() -> None:
    empty = settle([], 3_800)
    assert (empty.gross, empty.fee, empty.net, empty.lines) == (0, 0, 0, ())
    assert settlement_postings(empty, clearing="c", fee_income="f", settlement="s") == []
    free = settle([Movement(MovementKind.PAYMENT, _at(9), "S-1", 100)], 0)
    assert settlement_postings(free, clearing="c", fee_income="f", settlement="s") == [
        ("c", -100),
        ("s", 100),
    ]


def test_a_day_of_refunds_only_is_owed_by_the_merchant() -> None:
    figures = settle([Movement(MovementKind.REFUND, _at(9), "OLD-1", 10_000, "R-1")], 3_800)
    assert (figures.gross, figures.fee, figures.net) == (-10_000, -38, -9_962)
    postings = settlement_postings(figures, clearing="c", fee_income="f", settlement="s")
    assert postings == [("c", 10_000), ("f", -38), ("s", -9_962)]


def test_the_settlement_file() -> None:
    text = render_csv(
        settle(MOVES, 3_800),
        merchant_id="M000001",
        day=date(2026, 3, 2),
        currency="CNY",
        zone=SH,
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == [
        "D", "M000001", "2026-03-02", "CNY", "payment", "2026-03-02T09:00:00+08:00",
        "S-1", "", "1", "100.00", "0.38", "99.62",
    ]  # fmt: skip
    assert rows[3][4:] == ["refund", "2026-03-02T11:00:00+08:00", "S-2", "S-2-R1", "1",
                           "-5.00", "-0.02", "-4.98"]  # fmt: skip
    totals = {r[4]: r[8:] for r in rows if r[0] == "T"}
    assert totals == {
        "payment": ["3", "132.50", "0.51", "131.99"],
        "refund": ["1", "-5.00", "-0.02", "-4.98"],
        "reversal": ["1", "-7.00", "-0.03", "-6.97"],
        "all": ["5", "120.50", "0.46", "120.04"],
    }
    assert len(rows) == 1 + 5 + 4


def test_business_days_are_local_midnights() -> None:
    start, end = day_bounds(date(2026, 3, 2), SH)
    assert start.astimezone(UTC) == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert (end - start).total_seconds() == 86_400
    # A daylight-saving day is 23 hours long where the clocks go forward.
    ny = ZoneInfo("America/New_York")
    start, end = day_bounds(date(2026, 3, 8), ny)
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600
