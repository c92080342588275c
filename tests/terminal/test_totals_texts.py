"""Day-close arithmetic (worked out by hand), screen texts, error catalog."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from scanpay.protocol.result_codes import RESULT_CODES
from scanpay.terminal.errors import CATALOG, HTTP_STATUS, TerminalError
from scanpay.terminal.refund import RefundRecord, RefundState
from scanpay.terminal.sale import HostResult, ReversalReason, Sale, SaleState
from scanpay.terminal.texts import ACTIONS, STATE_LABELS, screen_for, texts_catalog
from scanpay.terminal.totals import business_day, day_totals

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 14)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZONE).timestamp()


def sale(no: str, amount: int, state: SaleState, when: float, **kw: object) -> Sale:
    return Sale(
        out_trade_no=no,
        amount=amount,
        currency=str(kw.pop("currency", "CNY")),
        operator_id="c01",
        created_at=when - 5,
        state=state,
        submitted_at=when,
        **kw,  # type: ignore[arg-type]
    )


def refund(
    no: str, trade: str, amount: int, state: RefundState, when: float, **kw: object
) -> RefundRecord:
    return RefundRecord(
        out_refund_no=no,
        out_trade_no=trade,
        amount=amount,
        currency="CNY",
        operator_id="c01",
        approved_by="s01",
        created_at=when - 1,
        state=state,
        finished_at=when,
        **kw,  # type: ignore[arg-type]
    )


def test_day_totals_worked_by_hand() -> None:
    prev, nxt = date(2026, 3, 13), date(2026, 3, 15)
    sales = [
        sale("A", 1000, SaleState.APPROVED, at(DAY, 10), wallet="scanpay"),
        sale(
            "B",
            2000,
            SaleState.PARTIALLY_REFUNDED,
            at(DAY, 11),
            wallet="wechat_pay",
            refunded_amount=500,
        ),
        sale("C", 300, SaleState.REFUNDED, at(DAY, 12), wallet="scanpay", refunded_amount=300),
        sale("D", 400, SaleState.DECLINED, at(DAY, 13)),
        sale("E", 100, SaleState.CANCELLED, at(DAY, 13)),
        sale("F", 700, SaleState.REVERSED, at(DAY, 14)),
        sale("G", 999, SaleState.APPROVED, at(DAY, 15), training=True),
        sale("H", 5000, SaleState.APPROVED, at(prev, 23, 59, 59)),
        sale("I", 600, SaleState.APPROVED, at(DAY, 23, 59, 59), wallet="scanpay"),
        sale("J", 50, SaleState.APPROVED, at(nxt, 0, 0, 0)),
        sale("K", 70, SaleState.APPROVED, at(DAY, 9), currency="USD"),
        sale("L", 80, SaleState.UNKNOWN, at(DAY, 9)),
    ]
    refunds = [
        refund("B-R1", "B", 500, RefundState.SUCCESS, at(DAY, 16)),
        refund("C-R1", "C", 300, RefundState.SUCCESS, at(DAY, 17)),
        refund("A-R1", "A", 100, RefundState.FAILED, at(DAY, 17)),
        refund("G-R1", "G", 999, RefundState.SUCCESS, at(DAY, 18), training=True),
        refund("H-R1", "H", 1000, RefundState.SUCCESS, at(prev, 23)),
    ]
    t = day_totals(DAY, "CNY", sales, refunds, ZONE)
    # Payments: A 1000 + B 2000 + C 300 + I 600 (refunded ones still count as paid).
    assert (t.count, t.total) == (4, 3900)
    # Refunds of the day: B-R1 500 + C-R1 300.
    assert (t.refund_count, t.refund_total, t.net) == (2, 800, 3100)
    assert (t.declined, t.cancelled, t.reversed) == (1, 1, 1)
    assert (t.training_count, t.training_total) == (1, 999)
    assert [(w.wallet, w.count, w.total) for w in t.by_wallet] == [
        ("scanpay", 3, 1900),
        ("wechat_pay", 1, 2000),
    ]
    assert [(x.kind, x.out_trade_no, x.status, x.amount) for x in t.lines] == [
        ("payment", "A", "SUCCESS", 1000),
        ("payment", "B", "PARTIALLY_REFUNDED", 2000),
        ("payment", "C", "REFUNDED", 300),
        ("payment", "I", "SUCCESS", 600),
        ("refund", "B-R1", "SUCCESS", 500),
        ("refund", "C-R1", "SUCCESS", 300),
    ]
    assert t.to_dict()["net"] == 3100


def test_business_day_is_the_terminal_timezone_day() -> None:
    moment = at(DAY, 0, 30)  # 16:30 UTC the day before
    assert business_day(moment, ZONE) == DAY
    assert business_day(moment, ZoneInfo("UTC")) == date(2026, 3, 13)


# ---------------------------------------------------------------------- texts


def _in_state(state: SaleState, code: str | None = None) -> Sale:
    s = Sale.open("T1", 100, "CNY", operator_id="c", now=0.0)
    return replace(
        s,
        state=state,
        result=HostResult(code) if code else None,
        submitted_at=1.0 if state != SaleState.NEW else None,
        reversal_reason=ReversalReason.TIMEOUT,
    )


@pytest.mark.parametrize("state", list(SaleState))
def test_every_state_has_a_screen_in_both_languages(state: SaleState) -> None:
    screen = screen_for(_in_state(state))
    for text in (screen.title, screen.message, screen.action):
        assert text.zh_cn and text.en and text.zh_cn != text.en
    assert set(screen.actions) <= set(ACTIONS)
    assert screen.to_dict()["title"]["zh-CN"] == STATE_LABELS[state].zh_cn


@pytest.mark.parametrize("code", ["14", "51", "54", "55", "57", "75", "12", "63", "26"])
def test_declined_screen_says_what_the_result_code_says(code: str) -> None:
    screen = screen_for(_in_state(SaleState.DECLINED, code))
    assert screen.message == RESULT_CODES[code].message
    assert screen.action == RESULT_CODES[code].action
    assert screen.code == code and screen.tone == "error"


def test_waiting_screen_counts_down_to_the_customer_deadline() -> None:
    s = _in_state(SaleState.USER_PAYING)
    s = replace(s, customer_deadline_at=123.0)
    screen = screen_for(s)
    assert screen.id == "waiting_customer" and screen.countdown_to == 123.0
    assert screen.actions == ("cancel",)


def test_texts_catalog_covers_states_actions_and_codes() -> None:
    data = texts_catalog()
    assert set(data["states"]) == {s.value for s in SaleState}
    assert set(data["result_codes"]) == set(RESULT_CODES)
    assert data["actions"]["confirm"]["zh-CN"] == "确认收款"


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_error_has_both_languages_and_a_status(code: str) -> None:
    text = CATALOG[code]
    assert text.zh_cn and text.en
    assert 400 <= HTTP_STATUS[code] < 600


def test_terminal_error_formats_values_and_serialises() -> None:
    exc = TerminalError("pin_locked", seconds=30)
    assert exc.http_status == 429
    assert "30" in exc.message("en") and "30" in exc.message("zh-CN")
    assert exc.to_dict()["code"] == "pin_locked"
