"""Daily reconciliation's matching (pure): a statement made from the host's own records
matches with no break, each planted break is found once and alone, the order of the
lines never matters, and a line twice is a break, not two matches."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.reconciliation import (
    KIND_TEXTS,
    REVERSAL_PREFIX,
    Break,
    BreakKind,
    HostRefund,
    HostTrade,
    Result,
    is_reversal,
    match,
)
from scanpay.host.domain.reconciliation_detail import (
    DETAIL_TEXTS,
    Detail,
    DetailCode,
    detail_text,
)
from scanpay.i18n import Text
from scanpay.networks.port import StatementKind, StatementLine

K = BreakKind
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Beijing

amounts = st.integers(min_value=1, max_value=10_000_000)
currencies = st.sampled_from(["CNY", "CNY", "CNY", "HKD"])
#: How a host trade stands, and the lines the network then writes for it.
SCENARIOS = (
    "captured",  # SUCCESS at both
    "captured_elsewhere",  # captured on another day: no line today
    "failed",  # declined: no line
    "waiting",  # still USER_PAYING: no line
    "reversed_pair",  # charged and reversed the same day: SUCCESS + REVERSE refund line
    "revoked",  # a REVOKED line
    "closed",  # closed before payment: a CLOSED line
    "reversal_only",  # charged on an earlier day, reversed today
)


def payment_line(
    trade_no: str, amount: int, currency: str = "CNY", status: str = "SUCCESS", n: int = 0
) -> StatementLine:
    return StatementLine(
        trade_no=trade_no,
        transaction_id=f"42{zlib.crc32(trade_no.encode()):020d}",
        kind=StatementKind.PAYMENT,
        amount=amount,
        currency=currency,
        status=status,
        time=NOON + timedelta(seconds=n),
    )


def refund_line(
    trade_no: str, refund_no: str, amount: int, currency: str = "CNY", n: int = 0
) -> StatementLine:
    return replace(
        payment_line(trade_no, amount, currency, "REFUND", n),
        kind=StatementKind.REFUND,
        refund_no=refund_no,
    )


def reversal_line(trade_no: str, amount: int, currency: str = "CNY") -> StatementLine:
    line = payment_line(trade_no, amount, currency)
    return refund_line(trade_no, REVERSAL_PREFIX + line.transaction_id, amount, currency, 60)


@dataclass
class World:
    """The host's trades, the statement the network would write for them, and how many
    trades and refunds should match."""

    host: list[HostTrade] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)
    matched: int = 0

    def add(self, trade: HostTrade, *lines: StatementLine, matched: int = 0) -> None:
        self.host.append(trade)
        self.lines.extend(lines)
        self.matched += matched

    def run(self, lines: list[StatementLine] | None = None) -> Result:
        return match(self.host, self.lines if lines is None else lines)


def _trade(
    pk: int, no: str, scenario: str, amount: int, currency: str, refunds: list[int]
) -> World:
    world = World()
    captured = scenario in ("captured", "captured_elsewhere")
    on_day = scenario == "captured"
    status = {
        "captured": "SUCCESS",
        "captured_elsewhere": "SUCCESS",
        "failed": "FAILED",
        "waiting": "USER_PAYING",
        "closed": "FAILED",
    }.get(scenario, "REVERSED")
    made = tuple(
        HostRefund(f"R{no}-{i}", part, currency, on_day=on_day)
        for i, part in enumerate(refunds if captured else [])
    )
    trade = HostTrade(
        no,
        amount,
        currency,
        "PARTIALLY_REFUNDED" if made else status,
        captured=captured,
        on_day=on_day,
        payment_id=pk,
        refunds=made,
    )
    lines: list[StatementLine] = []
    if on_day:
        lines.append(payment_line(no, amount, currency))
        lines += [refund_line(no, r.refund_no, r.amount, currency) for r in made]
    elif scenario == "reversed_pair":
        lines += [payment_line(no, amount, currency), reversal_line(no, amount, currency)]
    elif scenario in ("revoked", "closed"):
        lines.append(payment_line(no, amount, currency, scenario.upper()))
    elif scenario == "reversal_only":
        lines.append(reversal_line(no, amount, currency))
    on_network = scenario in ("captured", "reversed_pair", "revoked", "closed", "reversal_only")
    world.add(trade, *lines, matched=int(on_network) + (len(made) if on_day else 0))
    return world


@st.composite
def worlds(draw: st.DrawFn, min_captured: int = 1) -> World:
    """The host's trades of a day in every state, and the network's statement of them."""
    count = draw(st.integers(min_value=0, max_value=12))
    numbers = draw(st.lists(st.integers(0, 10**9), min_size=count, max_size=count, unique=True))
    world = World()
    scenarios = ["captured"] * min_captured + [draw(st.sampled_from(SCENARIOS)) for _ in numbers]
    for i, scenario in enumerate(scenarios):
        no = f"P{i:03d}{numbers[i] if i < len(numbers) else i:021d}"
        refunds = draw(st.lists(st.integers(1, 500), max_size=2))
        one = _trade(i, no, scenario, draw(amounts), draw(currencies), refunds)
        world.add(one.host[0], *one.lines, matched=one.matched)
    # A trade another system made and reversed under the same account: nothing is held.
    if draw(st.booleans()):
        world.lines.append(payment_line("FOREIGN1", draw(amounts), status="REVOKED"))
    return world


# ------------------------------------------------------------------ planting one break


Planter = Callable[[World, st.DataObject], str]


def _captured(world: World, no: str, amount: int, currency: str = "CNY") -> HostTrade:
    trade = HostTrade(no, amount, currency, "SUCCESS", captured=True, on_day=True, payment_id=7)
    world.host.append(trade)
    return trade


def plant_network_only(world: World, data: st.DataObject) -> str:
    if data.draw(st.booleans()):  # charged under a number the host never sent
        world.lines.append(payment_line("ZZNEW", data.draw(amounts)))
        return "ZZNEW"
    # charged at the network, failed (or waiting, or reversed) at the host
    status = data.draw(st.sampled_from(["FAILED", "USER_PAYING", "REVERSED"]))
    amount = data.draw(amounts)
    world.host.append(HostTrade("ZZNEW", amount, "CNY", status, False, on_day=False))
    world.lines.append(payment_line("ZZNEW", amount))
    return "ZZNEW"


def plant_host_only(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    _captured(world, "ZZNEW", amount)
    if data.draw(st.booleans()):  # the network reversed what the host kept
        world.lines += [payment_line("ZZNEW", amount), reversal_line("ZZNEW", amount)]
    return "ZZNEW"


def plant_amount_mismatch(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    _captured(world, "ZZNEW", amount)
    world.lines.append(payment_line("ZZNEW", amount + data.draw(st.integers(1, 100))))
    return "ZZNEW"


def plant_currency_mismatch(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    _captured(world, "ZZNEW", amount, "CNY")
    world.lines.append(payment_line("ZZNEW", amount, "USD"))
    return "ZZNEW"


def plant_refund_network_only(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    _captured(world, "ZZNEW", amount)
    world.lines.append(payment_line("ZZNEW", amount))
    world.lines.append(refund_line("ZZNEW", "AT-THE-PLATFORM", data.draw(amounts)))
    world.matched += 1
    return "ZZNEW"


def plant_refund_host_only(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    trade = _captured(world, "ZZNEW", amount)
    world.host[-1] = replace(trade, refunds=(HostRefund("RZ1", min(amount, 10), "CNY"),))
    world.lines.append(payment_line("ZZNEW", amount))
    world.matched += 1
    return "ZZNEW"


def plant_refund_amount_mismatch(world: World, data: st.DataObject) -> str:
    amount = data.draw(amounts)
    trade = _captured(world, "ZZNEW", amount)
    world.host[-1] = replace(trade, refunds=(HostRefund("RZ1", 10, "CNY"),))
    world.lines += [payment_line("ZZNEW", amount), refund_line("ZZNEW", "RZ1", 11)]
    world.matched += 1
    return "ZZNEW"


def plant_duplicate_line(world: World, data: st.DataObject) -> str:
    line = data.draw(st.sampled_from(world.lines))
    world.lines.append(line)
    return line.trade_no


def plant_unknown_status(world: World, data: st.DataObject) -> str:
    world.lines.append(payment_line("ZZNEW", data.draw(amounts), status="PAYERROR"))
    return "ZZNEW"


PLANTERS: dict[BreakKind, Planter] = {
    K.NETWORK_ONLY: plant_network_only,
    K.HOST_ONLY: plant_host_only,
    K.AMOUNT_MISMATCH: plant_amount_mismatch,
    K.CURRENCY_MISMATCH: plant_currency_mismatch,
    K.REFUND_NETWORK_ONLY: plant_refund_network_only,
    K.REFUND_HOST_ONLY: plant_refund_host_only,
    K.REFUND_AMOUNT_MISMATCH: plant_refund_amount_mismatch,
    K.DUPLICATE_LINE: plant_duplicate_line,
    K.UNKNOWN_STATUS: plant_unknown_status,
}


# ------------------------------------------------------------------------------ tests


def test_every_kind_has_a_planter_and_words_in_both_languages() -> None:
    assert set(PLANTERS) == set(BreakKind) == set(KIND_TEXTS)
    assert all(t.zh_cn and t.en for t in KIND_TEXTS.values())


@given(worlds(min_captured=0))
def test_a_statement_made_from_the_hosts_records_matches_with_no_break(world: World) -> None:
    result = world.run()
    assert result.breaks == () and result.clean
    assert result.matched == world.matched


@given(worlds(), st.data())
def test_the_order_of_the_lines_does_not_matter(world: World, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(BreakKind)))
    PLANTERS[kind](world, data)
    shuffled = data.draw(st.permutations(world.lines))
    assert world.run(list(shuffled)) == world.run()


@pytest.mark.parametrize("kind", sorted(BreakKind))
@given(world=worlds(), data=st.data())
def test_each_planted_break_is_found_once_and_nothing_else(
    kind: BreakKind, world: World, data: st.DataObject
) -> None:
    trade_no = PLANTERS[kind](world, data)
    result = world.run()
    assert result.count() == Counter({kind: 1}), result.breaks
    [found] = result.breaks
    assert found.trade_no == trade_no
    # What was not planted still matches.
    assert result.matched == world.matched


@given(worlds(), st.integers(min_value=1, max_value=3))
def test_a_line_repeated_is_a_break_each_time_never_a_second_match(
    world: World, times: int
) -> None:
    result = world.run(world.lines * (times + 1))
    assert result.matched == world.matched
    assert result.count() == Counter({K.DUPLICATE_LINE: len(world.lines) * times})


@given(worlds(), st.data())
def test_an_unknown_status_is_used_for_nothing_else(world: World, data: st.DataObject) -> None:
    captured = [t for t in world.host if t.on_day and t.captured]
    trade = data.draw(st.sampled_from(captured))
    extra = payment_line(trade.trade_no, trade.amount, trade.currency, "NOTPAY")
    result = world.run([*world.lines, extra])
    assert result.count() == Counter({K.UNKNOWN_STATUS: 1})
    assert result.matched == world.matched


def test_what_each_break_says() -> None:
    world = World()
    _captured(world, "A1", 500)
    world.lines.append(payment_line("A1", 600, n=1))
    failed = HostTrade("B1", 300, "CNY", "FAILED", False, False, payment_id=42)
    world.host.append(failed)
    world.lines.append(payment_line("B1", 300))
    world.lines.append(payment_line("C1", 200, "HKD"))
    by_trade = {b.trade_no: b for b in world.run().breaks}
    assert by_trade["A1"] == Break(
        K.AMOUNT_MISMATCH,
        "A1",
        transaction_id=payment_line("A1", 600).transaction_id,
        payment_id=7,
        host_amount=500,
        network_amount=600,
        currency="CNY",
    )
    assert by_trade["B1"].kind is K.NETWORK_ONLY
    failed_detail = by_trade["B1"].detail
    assert (by_trade["B1"].payment_id, failed_detail) == (
        42,
        Detail(DetailCode.HOST_STATUS, ("FAILED",)),
    )
    assert failed_detail is not None
    assert failed_detail.text() == Text("本机构记录的状态为 FAILED", "the host has it FAILED")
    assert by_trade["C1"].kind is K.NETWORK_ONLY and by_trade["C1"].payment_id is None
    assert (by_trade["C1"].network_amount, by_trade["C1"].currency) == (200, "HKD")
    assert by_trade["C1"].detail == Detail(DetailCode.NO_SUCH_PAYMENT)


def test_every_kind_of_detail_is_said_in_both_languages_and_read_back_as_stored() -> None:
    world = World()
    _captured(world, "A1", 500)
    world.lines.append(payment_line("A1", 500, "HKD"))
    world.lines.append(payment_line("B1", 300, status="NOTPAY"))
    world.lines += [payment_line("C1", 200), payment_line("C1", 200)]
    details = {b.trade_no: b.detail for b in world.run().breaks}
    assert details["A1"] == Detail(DetailCode.NETWORK_CURRENCY, ("HKD",))
    assert details["B1"] == Detail(DetailCode.STATUS, ("NOTPAY",))
    seen = Detail(DetailCode.SEEN_ALREADY, ("payment", "SUCCESS"))
    assert seen in {b.detail for b in world.run().breaks if b.trade_no == "C1"}
    assert seen.text() == Text("支付记录（SUCCESS）重复出现", "payment line SUCCESS seen already")
    assert set(DETAIL_TEXTS) == set(DetailCode)
    for code in DetailCode:
        values = {DetailCode.SEEN_ALREADY: ("refund", "A:B")}.get(code, ("X:Y",))
        detail = Detail(code, values) if "{" in DETAIL_TEXTS[code].en else Detail(code)
        assert Detail.parse(detail.stored()) == detail  # a network's ":" kept in its value
        said = detail_text(detail.stored())
        assert said is not None and said.zh_cn != said.en and "{" not in said.zh_cn + said.en
    # Nothing, an older row's English note, a code with the wrong values: shown as stored.
    assert detail_text("") is None
    for stored in ("no line on the statement", "status", "no_line:x", "nonsense:1"):
        assert Detail.parse(stored) is None
        assert detail_text(stored) == Text(stored, stored)
    with pytest.raises(ValueError):
        Detail(DetailCode.HOST_STATUS)


def test_a_reversal_is_told_from_a_refund_by_its_number() -> None:
    line = payment_line("A1", 100)
    assert is_reversal(reversal_line("A1", 100))
    assert not is_reversal(refund_line("A1", "R1", 100))
    assert not is_reversal(refund_line("A1", REVERSAL_PREFIX + "0" + line.transaction_id, 100))
    assert not is_reversal(line)


def test_a_sale_reversed_across_midnight_is_network_only_on_its_first_day() -> None:
    reversed_ = HostTrade("A1", 100, "CNY", "REVERSED", captured=False, on_day=False)
    first = match([reversed_], [payment_line("A1", 100)])
    assert first.count() == Counter({K.NETWORK_ONLY: 1})
    second = match([reversed_], [reversal_line("A1", 100)])
    assert second.clean and second.matched == 1


def test_a_sale_captured_after_midnight_and_booked_before_it_is_no_break() -> None:
    late = HostTrade("A1", 100, "CNY", "SUCCESS", captured=True, on_day=True)
    assert match([late], []).count() == Counter({K.HOST_ONLY: 1})
    excused = match([late], [], earlier=[payment_line("A1", 100)])
    assert excused.clean and excused.matched == 0  # it matched on the day it was booked
    # Only a charge excuses it: a reversal the day before does not.
    assert not match([late], [], earlier=[payment_line("A1", 100, status="REVOKED")]).clean


def test_a_refund_booked_the_day_before_is_no_break() -> None:
    trade = HostTrade(
        "A1", 100, "CNY", "REFUNDED", True, False, refunds=(HostRefund("R1", 100, "CNY"),)
    )
    assert match([trade], []).count() == Counter({K.REFUND_HOST_ONLY: 1})
    assert match([trade], [], earlier=[refund_line("A1", "R1", 100)]).clean


def test_a_refund_of_a_trade_the_host_does_not_know_is_refund_network_only() -> None:
    result = match([], [refund_line("A1", "R1", 100)])
    assert [(b.kind, b.refund_no, b.payment_id) for b in result.breaks] == [
        (K.REFUND_NETWORK_ONLY, "R1", None)
    ]


def test_a_captured_trade_of_another_day_is_compared_never_missed() -> None:
    earlier = HostTrade("A1", 100, "CNY", "SUCCESS", captured=True, on_day=False)
    assert match([earlier], []).clean
    assert match([earlier], [payment_line("A1", 100)]).matched == 1
    assert match([earlier], [payment_line("A1", 101)]).count() == Counter({K.AMOUNT_MISMATCH: 1})


def test_two_host_trades_under_one_number_are_refused() -> None:
    trade = HostTrade("A1", 100, "CNY", "SUCCESS", captured=True, on_day=True)
    with pytest.raises(ValueError, match="A1"):
        match([trade, trade], [])
    twice = replace(trade, refunds=(HostRefund("R1", 1, "CNY"), HostRefund("R1", 2, "CNY")))
    with pytest.raises(ValueError, match="R1"):
        match([twice], [])
