"""The chaos harness's own parts, without processes: codes, plans, the kill schedule."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from scanpay.chaos.config import ChaosConfig, SalePlan
from scanpay.chaos.customers import (
    CodeBook,
    CodeKind,
    Customer,
    NetworkBook,
    NetworkCodeKind,
    NetworkWallet,
    Role,
)
from scanpay.chaos.faults import schedule
from scanpay.codes import parse_payment_code
from scanpay.host.domain.wallet_codes import (
    CodeFormat,
    CodeOutcome,
    cpm_fields,
    luhn_digit,
    verify_cpm,
    verify_digits,
)

FMT = CodeFormat()
NOW = 1_800_000_000


class FakeTime:
    """A clock that moves only when the code book sleeps."""

    def __init__(self) -> None:
        self.now = float(NOW)
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def customers(rich: int = 3) -> list[Customer]:
    made = []
    for i, role in enumerate([Role.RICH] * rich + [Role.PIN, Role.POOR]):
        account = f"{i + 1:09d}"
        made.append(Customer(account + luhn_digit(account), bytes([i + 1]) * 32, role, 100, "1"))
    return made


def book(rich: int = 3) -> tuple[CodeBook, FakeTime]:
    time = FakeTime()
    people = customers(rich)
    return CodeBook(FMT, people, random.Random(1), clock=time.clock, sleep=time.sleep), time


def secret_of(codes: CodeBook, account: str) -> bytes:
    return next(c.secret for c in codes.customers if c.account == account)


def otp_part(text: str) -> str:
    return text[len(FMT.prefix) + FMT.account_digits :]


def test_fresh_codes_are_live_and_never_handed_out_twice() -> None:
    codes, time = book(rich=3)
    seen = set()
    for _ in range(18):  # 3 accounts x 6 live steps: no waiting yet
        code = codes.issue(CodeKind.VALID)
        check = verify_digits(FMT, secret_of(codes, code.account), otp_part(code.text), NOW)
        assert check.outcome is CodeOutcome.VALID
        assert check.step is not None
        assert NOW // 5 - CodeBook.BACK_STEPS <= check.step <= NOW // 5 + CodeBook.AHEAD_STEPS
        assert (code.account, check.step) not in seen
        seen.add((code.account, check.step))
    assert time.slept == 0
    # Every live step of every account is used: the next code waits for a new step.
    code = codes.issue(CodeKind.VALID)
    assert time.slept >= 0.25
    check = verify_digits(FMT, secret_of(codes, code.account), otp_part(code.text), int(time.now))
    assert check.outcome is CodeOutcome.VALID and (code.account, check.step) not in seen


def test_each_kind_is_what_it_says() -> None:
    codes, _ = book()
    expired = codes.issue(CodeKind.EXPIRED)
    check = verify_digits(FMT, secret_of(codes, expired.account), otp_part(expired.text), NOW)
    assert check.outcome is CodeOutcome.EXPIRED
    invalid = codes.issue(CodeKind.INVALID)
    check = verify_digits(FMT, secret_of(codes, invalid.account), otp_part(invalid.text), NOW)
    assert check.outcome is CodeOutcome.INVALID
    shown = codes.issue(CodeKind.VALID)
    reused = codes.issue(CodeKind.REUSED)
    assert reused.kind is CodeKind.REUSED and reused.text == shown.text
    roles = {c.account: c.role for c in codes.customers}
    assert roles[codes.issue(CodeKind.INSUFFICIENT).account] is Role.POOR
    assert roles[codes.issue(CodeKind.PIN_CONFIRMED).account] is Role.PIN
    assert roles[codes.issue(CodeKind.PIN_ABANDONED).account] is Role.PIN


def test_reused_with_nothing_shown_yet_is_an_expired_code() -> None:
    codes, _ = book()
    assert codes.issue(CodeKind.REUSED).kind is CodeKind.EXPIRED


def test_cpm_codes_verify_and_their_counter_rises() -> None:
    codes, _ = book(rich=1)
    counters = []
    for _ in range(3):
        code = codes.issue(CodeKind.VALID_CPM)
        parsed = parse_payment_code(code.text)
        fields = cpm_fields(FMT, parsed)  # type: ignore[arg-type]
        assert fields is not None and fields.account == code.account
        assert verify_cpm(FMT, secret_of(codes, code.account), fields, NOW).outcome is (
            CodeOutcome.VALID
        )
        counters.append(fields.atc)
    assert counters == [1, 2, 3]


def test_sale_plans_are_seeded_and_mixed() -> None:
    assert SalePlan.make(7, 42) == SalePlan.make(7, 42)
    assert SalePlan.make(7, 42) != SalePlan.make(8, 42)
    plans = [SalePlan.make(3, i) for i in range(3000)]
    kinds = Counter(p.code for p in plans)
    assert set(kinds) == set(CodeKind)
    cancels = Counter(p.cancel for p in plans)
    assert 0.02 < cancels["before"] / 3000 < 0.06 and 0.04 < cancels["after"] / 3000 < 0.08
    refunds = Counter(p.refund for p in plans)
    assert all(refunds[k] > 0 for k in ("partial", "full", "partial_then_rest"))
    assert all(p.amount >= 200 for p in plans if p.code is CodeKind.INSUFFICIENT)
    assert all(1 <= p.amount <= 50_000 for p in plans)


def test_the_kill_schedule() -> None:
    config = ChaosConfig(sales=1000, fault_rate=0.2, db="postgresql", terminals=3, seed=5)
    hosts, agents, restarts = config.strikes()
    assert (hosts, agents, restarts) == (4, 13, 1)
    strikes = schedule(config)
    assert strikes == schedule(config)  # seeded
    kinds = Counter(s.kind for s in strikes)
    assert kinds == {"host": hosts, "agent": agents, "postgres": restarts}
    assert [s.at for s in strikes] == sorted(s.at for s in strikes)
    assert all(30 <= s.at <= 950 for s in strikes)
    assert all(s.target < 2 for s in strikes if s.kind == "host")  # two hosts on PostgreSQL
    armed = [s.arm for s in strikes if s.kind == "agent" and s.arm]
    # Every other agent kill arms the next failpoint, the common states first.
    assert sorted(armed) == sorted(
        ["SUBMITTED", "APPROVED", "CONFIRMED", "UNKNOWN", "USER_PAYING", "REVERSING", "DECLINED"]
    )
    sqlite = ChaosConfig(sales=1000, fault_rate=0.2, db="sqlite", terminals=3)
    assert not [s for s in schedule(sqlite) if s.kind == "postgres"]
    calm = ChaosConfig(sales=1000, fault_rate=0.0)
    assert schedule(calm) == [] and calm.strikes() == (0, 0, 0)
    assert ChaosConfig(sales=10, fault_rate=0.2).strikes() == (1, 4, 0)  # at least one each


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sales": 0},
        {"terminals": 0},
        {"fault_rate": 1.5},
        {"db": "oracle"},
        {"network_share": -0.1},
        {"network_share": 1.5},
    ],
)
def test_config_refuses_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ChaosConfig(**kwargs)  # type: ignore[arg-type]


def test_network_sale_plans_leave_the_built_in_plans_as_they_were() -> None:
    plain = [SalePlan.make(3, i) for i in range(2000)]
    mixed = [SalePlan.make(3, i, network_share=0.4) for i in range(2000)]
    network = [m for m in mixed if m.network is not None]
    assert 0.3 < len(network) / 2000 < 0.5
    # A sale not drawn for the network is planned exactly as without one.
    assert all(m == p for m, p in zip(mixed, plain, strict=True) if m.network is None)
    assert all(p.network is None for p in plain)
    everything = [SalePlan.make(3, i, network_share=1.0) for i in range(2000)]
    assert all(p.network is not None for p in everything)
    assert set(Counter(p.network for p in everything)) == set(NetworkCodeKind)
    # A network's sales are refunded like the wallet's (back through the network); a
    # code whose first refund answers PROCESSING always has one asked.
    refunds = Counter(p.refund for p in network)
    assert {"partial", "full", "partial_then_rest", "none"} == set(refunds)
    assert 0.1 < (len(network) - refunds["none"]) / len(network) < 0.4
    processing = [p for p in everything if p.network is NetworkCodeKind.REFUND_PROCESSING]
    assert processing and all(p.refund != "none" for p in processing)
    assert all(p.amount >= 200 for p in everything if p.network is NetworkCodeKind.POOR)
    assert SalePlan.make(3, 5, network_share=1.0) == SalePlan.make(3, 5, network_share=1.0)


def test_with_a_network_every_other_host_kill_waits_for_a_call_in_flight() -> None:
    config = ChaosConfig(sales=2000, fault_rate=0.2, db="sqlite", network_share=0.5, seed=4)
    hosts = [s for s in schedule(config) if s.kind == "host"]
    assert len(hosts) == config.strikes()[0] == 8
    assert sum(s.in_call for s in hosts) == 4
    # The same blows fall as without a network; only the aim differs.
    calm = ChaosConfig(sales=2000, fault_rate=0.2, db="sqlite", seed=4)
    assert [replace(s, in_call=False) for s in schedule(config)] == schedule(calm)
    assert not any(s.in_call for s in schedule(calm))


def test_the_network_code_book_asks_the_simulator_for_each_kind() -> None:
    asked: list[tuple[str, str, dict[str, object] | None]] = []

    def admin(method: str, path: str, body: dict[str, object] | None) -> dict[str, object]:
        asked.append((method, path, body))
        return {"auth_code": f"13{len(asked):016d}"}

    wallets = [NetworkWallet(1, 10**9), NetworkWallet(2, 10**9), NetworkWallet(3, 100, poor=True)]
    book = NetworkBook(wallets, random.Random(1), admin, {NetworkCodeKind.SLOW: 4.0})
    first = book.issue(NetworkCodeKind.VALID)
    assert asked[-1] == ("POST", "/sim/wallets/1/codes", None)
    assert book.issue(NetworkCodeKind.SLOW).account == "2"
    assert asked[-1][2] == {"outcome": "SLOW", "seconds": 4.0}
    assert book.issue(NetworkCodeKind.POOR).account == "3"
    assert book.issue(NetworkCodeKind.SYSTEMERROR).kind is NetworkCodeKind.SYSTEMERROR
    assert asked[-1][2] == {"outcome": "SYSTEMERROR"}
    made = len(asked)
    reused = book.issue(NetworkCodeKind.REUSED)
    assert len(asked) == made  # shown again, not made
    assert reused.text in {first.text, *(f"13{n:016d}" for n in range(1, made + 1))}
    assert all(len(f"13{n:016d}") == 18 for n in range(1, made + 1))


def test_network_sales_are_split_between_the_networks() -> None:
    both = [SalePlan.make(3, i, 0.5, ("wechat_pay", "alipay")) for i in range(2000)]
    alone = [SalePlan.make(3, i, 0.5) for i in range(2000)]
    vias = Counter(p.via for p in both if p.network is not None)
    assert set(vias) == {"wechat_pay", "alipay"}
    assert 0.4 < vias["alipay"] / sum(vias.values()) < 0.6
    # The same sales go to a network, with the same plan, whichever network it is.
    assert [replace(p, via="wechat_pay") for p in both] == alone
    assert all(
        p.via == "alipay" for p in (SalePlan.make(3, i, 1.0, ("alipay",)) for i in range(50))
    )
    with pytest.raises(ValueError):
        ChaosConfig(networks=("wechat_pay", "visa"))
    with pytest.raises(ValueError):
        ChaosConfig(networks=())


@pytest.mark.parametrize(
    ("trade", "state"),
    [
        ({"status": "TRADE_SUCCESS", "total": 100, "refunded": 0}, "SUCCESS"),
        ({"status": "TRADE_SUCCESS", "total": 100, "refunded": 30}, "REFUND"),
        ({"status": "WAIT_BUYER_PAY", "total": 100, "refunded": 0}, "USERPAYING"),
        (
            {"status": "TRADE_CLOSED", "total": 100, "refunded": 100, "cancel_action": "refund"},
            "REVOKED",
        ),
        (
            {"status": "TRADE_CLOSED", "total": 100, "refunded": 100, "paid_at": "2026-12-08"},
            "REFUND",
        ),
        ({"status": "TRADE_CLOSED", "total": 100, "refunded": 0, "decline": "X"}, "PAYERROR"),
        (
            {"status": "TRADE_CLOSED", "total": 100, "refunded": 0, "cancel_action": "close"},
            "CLOSED",
        ),
    ],
)
def test_an_alipay_trade_in_the_invariants_words(trade: dict[str, object], state: str) -> None:
    from scanpay.chaos.rails import order_state

    assert order_state(trade) == state
