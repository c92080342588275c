"""The scheduled reconciliation (issue 17) of real WeChat Pay payments, on SQLite and
PostgreSQL: the host reconciles each Beijing day by itself from 10:00 the next day,
once; asks again for a statement that was not ready only after the retry interval,
and only for three days back; does nothing when ``SCANPAY_RECONCILE_AT`` is ``off``;
two processes at once do a day once; ``serve``'s loop and ``scanpay host sweep
--reconcile`` run it.

Both clocks (the host's and the WeChat Pay simulator's) are the tests' own and move
together. Each test takes days of its own, a few days after the last test's, so the
days it looks at are its own (the shops of the tests before have no trade on them:
their statements are empty, their runs ``done``).
"""

from __future__ import annotations

import json
import threading
import time as clock_time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from host import network_kit
from host.kit import serve_in_thread
from host.network_kit import BEIJING, WECHAT, Shop, host_cli, run_audits, run_of, stack_fixture
from scanpay.cli.host import _shared
from scanpay.host.api import app as host_app
from scanpay.host.clock import Clock
from scanpay.host.db.engine import Database
from scanpay.host.services import audit, reconcile_schedule
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconcile_schedule import claim, due, reconcile_due
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.services.reconciliation_records import (
    RunInfo,
    RunStatus,
    list_breaks,
    list_runs,
)
from scanpay.host.settings import HostSettings

DAY = timedelta(days=1)
#: Days between one test's day and the next test's: the schedule looks 3 days back.
GAP = 5
START = datetime(2026, 3, 2, 12, 0, tzinfo=BEIJING)
DONE, NOT_READY = RunStatus.DONE, RunStatus.STATEMENT_NOT_READY


class Stack(network_kit.Stack):
    """The simulator and a host, moved from day to day in Beijing."""

    def new_day(self, days: int = GAP, at: time = time(12, 0)) -> date:
        """Both clocks on a day no test used, :data:`GAP` days on."""
        return super().new_day(days, at)

    def next_day_at(self, day: date, hour: int, minute: int = 0, second: int = 0) -> None:
        """Both clocks on the day after ``day``, at that time in Beijing."""
        self.set(datetime.combine(day + DAY, time(hour, minute, second), BEIJING))


stack = stack_fixture("reconcile_schedule", START, Stack)


def _run_of(runs: list[RunInfo], shop: Shop, day: date) -> RunInfo:
    return run_of(runs, shop.merchant_id, day)


def _stored(stack: Stack, shop: Shop, day: date) -> RunInfo:
    [run] = list_runs(stack.ctx, day=day, network=WECHAT, channel_key=shop.merchant_id)
    return run


def _audits(stack: Stack, shop: Shop, day: date) -> list[audit.AuditEntry]:
    return run_audits(stack.ctx, shop.merchant_id, day)


def _days(runs: list[RunInfo]) -> set[date]:
    return {r.day for r in runs}


@contextmanager
def _host_process(stack: Stack, **settings: Any) -> Iterator[HostContext]:
    """Another host process on the stack's database: its own connections (and its own
    settings, when given), the stack's clock."""
    ctx = HostContext(
        replace(stack.ctx.settings, **settings),
        Database(stack.ctx.settings.database_url),
        stack.host.clock,
    )
    try:
        yield ctx
    finally:
        ctx.close()
        ctx.db.dispose()


def _flush(stack: Stack, day: date) -> None:
    """Reconcile the days before ``day`` (the tests before left them due), at 09:00 on
    the day after it: nothing of ``day`` runs."""
    stack.next_day_at(day, 9)
    assert day not in _days(reconcile_due(stack.ctx))
    assert due(stack.ctx, WECHAT) == []


# ------------------------------------------------------------------------------ tests


def test_a_day_is_reconciled_once_from_ten_oclock_beijing_time_the_next_day(
    stack: Stack,
) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    shop.pay(amount=1)

    stack.next_day_at(day, 9, 59, 59)
    early = reconcile_due(stack.ctx)  # the days before (the tests before theirs)
    assert day not in _days(early)
    assert list_runs(stack.ctx, day=day) == []

    stack.next_day_at(day, 10)
    assert due(stack.ctx, WECHAT) == [day]
    runs = reconcile_due(stack.ctx)
    assert _days(runs) == {day}
    mine = _run_of(runs, shop, day)
    assert (mine.status, mine.matched, mine.lines, mine.open_breaks) == (DONE, 2, 2, 0)
    # The other shops' channels (the tests before): no trade that day, done too.
    assert {r.status for r in runs} == {DONE}
    assert len({r.channel_key for r in runs}) == len(runs)

    for _ in range(3):  # done: never again, however often it is looked at
        stack.advance(3600)
        assert reconcile_due(stack.ctx) == []
    stored = _stored(stack, shop, day)
    assert (stored.id, stored.ran_at) == (mine.id, mine.ran_at)
    [record] = _audits(stack, shop, day)
    assert (record.actor, record.data["status"]) == (str(audit.HOST), "done")


def test_the_scheduled_run_settles_by_policy_what_the_host_can(stack: Stack) -> None:
    """A sale the network charged and the host failed: the scheduled run finds the
    break and, by policy, reverses it at the network and resolves it."""
    day = stack.new_day()
    shop = Shop.open(stack)
    failed = shop.pay()
    shop.change(failed, status="FAILED")
    before = stack.sim.balance(shop.wallet_id)
    _flush(stack, day)
    stack.next_day_at(day, 10)
    mine = _run_of(reconcile_due(stack.ctx), shop, day)
    assert mine.open_breaks == 1  # as found; then the policy ran
    [found] = list_breaks(stack.ctx, day=day, merchant=shop.merchant_id)
    assert found.trade_no == failed and found.resolved_by == "host:policy"
    assert stack.sim.balance(shop.wallet_id) == before + network_kit.AMOUNT


def test_a_statement_not_ready_is_asked_for_again_only_after_the_retry_interval(
    stack: Stack,
) -> None:
    day = stack.new_day()
    ready, waiting = Shop.open(stack), Shop.open(stack)
    ready.pay()
    waiting.pay()
    waiting.lose_the_key()
    # Their runs of the days before are not ready either (no key), but these shops
    # did not exist then: those days are not due for them.
    _flush(stack, day)

    stack.next_day_at(day, 10)
    first = reconcile_due(stack.ctx)
    assert _days(first) == {day}
    late = _run_of(first, waiting, day)
    assert (late.status, late.network_code) == (NOT_READY, "channel_secret_missing")
    assert _run_of(first, ready, day).status is DONE

    stack.next_day_at(day, 10, 29, 59)
    assert reconcile_due(stack.ctx) == []
    waiting.get_the_key_back()  # the statement could be had now: not asked for before time
    assert reconcile_due(stack.ctx) == []
    assert _stored(stack, waiting, day).ran_at == late.ran_at

    stack.next_day_at(day, 10, 30)  # 1800 seconds after the first run
    again = reconcile_due(stack.ctx)
    assert _days(again) == {day}
    now = _run_of(again, waiting, day)
    assert (now.id, now.status, now.matched, now.network_code) == (late.id, DONE, 1, None)
    assert _run_of(again, ready, day).id == _run_of(first, ready, day).id
    assert reconcile_due(stack.ctx) == []
    statuses = [e.data["status"] for e in reversed(_audits(stack, waiting, day))]
    assert statuses == ["statement_not_ready", "done"]


def test_a_day_is_given_up_once_older_than_the_days_back(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    shop.lose_the_key()
    _flush(stack, day)
    try:
        stack.next_day_at(day, 10)
        assert _run_of(reconcile_due(stack.ctx), shop, day).status is NOT_READY
        for later in (day + DAY, day + 2 * DAY):  # still one of the 3 latest due days
            stack.next_day_at(later, 10)
            run = _run_of(reconcile_due(stack.ctx), shop, day)
            assert run.status is NOT_READY and run.ran_at == stack.ctx.now()
        stack.next_day_at(day + 3 * DAY, 10)  # the 4th day after: out of the window
        runs = reconcile_due(stack.ctx)
        assert day not in _days(runs) and day + 3 * DAY in _days(runs)
        assert _stored(stack, shop, day).ran_at == stack.ctx.now() - DAY
        assert len(_audits(stack, shop, day)) == 3
    finally:
        shop.get_the_key_back()


def test_off_disables_it_and_the_hour_is_the_settings(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    with (
        _host_process(stack, reconcile_at=None) as off,
        _host_process(stack, reconcile_at=time(6, 0)) as at_six,
    ):
        stack.next_day_at(day, 5, 59)
        assert day not in _days(reconcile_due(at_six))  # the days before only
        stack.next_day_at(day, 6)
        assert due(off, WECHAT) == [] and reconcile_due(off) == []
        assert due(stack.ctx, WECHAT) == []  # at 10:00 by default
        assert list_runs(stack.ctx, day=day) == []
        runs = reconcile_due(at_six)
        assert _days(runs) == {day}
        assert _run_of(runs, shop, day).status is DONE


def test_two_processes_at_once_do_the_day_once(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    _flush(stack, day)
    stack.next_day_at(day, 10)
    with _host_process(stack) as one, _host_process(stack) as two:
        with claim(one, WECHAT) as held:
            assert held
            with claim(two, WECHAT) as also:
                assert not also  # never waits: the other process skips the network
            assert reconcile_due(two) == []
        assert list_runs(stack.ctx, day=day) == []

        barrier = threading.Barrier(2)
        made: dict[int, list[RunInfo]] = {}
        failed: list[BaseException] = []

        def work(n: int, ctx: HostContext) -> None:
            try:
                barrier.wait(timeout=30)
                made[n] = reconcile_due(ctx)
            except BaseException as exc:
                failed.append(exc)

        threads = [threading.Thread(target=work, args=pair) for pair in enumerate((one, two))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not failed and len(made) == 2
    keys = [r.channel_key for r in made[0] + made[1] if r.day == day]
    assert shop.merchant_id in keys and len(keys) == len(set(keys))  # each channel once
    stored = list_runs(stack.ctx, day=day)
    assert sorted(r.channel_key for r in stored) == sorted(keys)
    assert len(_audits(stack, shop, day)) == 1
    assert reconcile_due(stack.ctx) == []


def test_a_day_that_fails_is_logged_and_the_next_days_go_on(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    _flush(stack, day)
    stack.set(datetime.combine(day + DAY, time(12, 0), BEIJING))
    shop.pay()  # the day after has a trade too
    stack.next_day_at(day + DAY, 10)
    assert due(stack.ctx, WECHAT) == [day, day + DAY]
    real = reconcile  # the name the schedule calls it by is replaced

    def failing_on_the_first_day(ctx: HostContext, when: date, network: str) -> list[RunInfo]:
        if when == day:
            raise RuntimeError("the first day failed")
        return real(ctx, when, network)

    monkeypatch.setattr(reconcile_schedule, "reconcile", failing_on_the_first_day)
    runs = reconcile_due(stack.ctx)
    assert _days(runs) == {day + DAY} and _run_of(runs, shop, day + DAY).matched == 1
    [logged] = [r for r in caplog.records if "failed" in r.getMessage()]
    assert logged.getMessage() == f"scheduled reconciliation of {WECHAT} {day} failed"
    assert logged.exc_info is not None

    monkeypatch.undo()
    assert _days(reconcile_due(stack.ctx)) == {day}  # no run of it yet: no retry to wait for


def test_the_host_process_runs_it_by_itself_unless_off(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(host_app, "_RECONCILE_EVERY", 0.05)  # a look every 50 ms
    looks: list[datetime] = []
    real = reconcile_schedule.reconcile_due

    def failing_twice(ctx: HostContext, *, stop: threading.Event | None = None) -> list[RunInfo]:
        # The session's own host (tests/host/conftest.py) runs this loop too, and the
        # patched interval wakes it: only this test's host counts.
        if ctx.settings.database_url != stack.ctx.settings.database_url:
            return real(ctx, stop=stop)
        looks.append(ctx.now())
        if len(looks) <= 2:
            raise RuntimeError("the database went away")
        return real(ctx, stop=stop)

    monkeypatch.setattr(reconcile_schedule, "reconcile_due", failing_twice)
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    stack.next_day_at(day, 10)
    settings: HostSettings = stack.ctx.settings
    backend = stack.host.backend
    with serve_in_thread(replace(settings, reconcile_at=None), stack.host.clock, backend):
        clock_time.sleep(1.0)  # some twenty looks, were it on
    assert looks == [] and list_runs(stack.ctx, day=day) == []

    with serve_in_thread(settings, stack.host.clock, backend):
        deadline = clock_time.monotonic() + 60
        while not list_runs(stack.ctx, day=day, channel_key=shop.merchant_id):
            assert clock_time.monotonic() < deadline, "the host did not reconcile the day"
            clock_time.sleep(0.05)
        clock_time.sleep(0.5)  # more looks: the day is done, nothing runs again
    # The failed looks were logged, and the loop went on.
    assert len(looks) > 3
    failed = [r for r in caplog.records if r.getMessage() == "scheduled reconciliation failed"]
    assert len(failed) == 2 and all(r.exc_info for r in failed)
    assert _stored(stack, shop, day).status is DONE
    assert len(_audits(stack, shop, day)) == 1
    stopped = len(looks)
    clock_time.sleep(0.3)
    assert len(looks) == stopped  # the loop stopped with the app


def test_sweep_runs_the_due_days_with_reconcile(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = stack.host.clock

    class OnTheTestsClock(HostContext):
        @classmethod
        def open(cls, settings: HostSettings, _clock: Clock | None = None) -> HostContext:
            return HostContext.open(settings, clock)

    monkeypatch.setattr(_shared, "HostContext", OnTheTestsClock)
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    _flush(stack, day)
    stack.next_day_at(day, 10)

    plain = host_cli(stack, "sweep", "--json")
    assert plain.exit_code == 0, plain.output
    assert set(json.loads(plain.output)) == {"orders", "payments"}  # no reconciliation
    off = host_cli(stack, "sweep", "--reconcile", lang="zh_CN.UTF-8", SCANPAY_RECONCILE_AT="off")
    assert off.exit_code == 0 and "定时对账已关闭" in off.output, off.output
    assert list_runs(stack.ctx, day=day) == []

    ran = host_cli(stack, "sweep", "--reconcile", "--json")
    assert ran.exit_code == 0, ran.output
    reconciled = json.loads(ran.output)["reconciled"]
    [mine] = [r for r in reconciled if r["channel_key"] == shop.merchant_id]
    assert (mine["day"], mine["status"], mine["matched"]) == (day.isoformat(), "done", 1)
    assert {r["day"] for r in reconciled} == {day.isoformat()}
    again = host_cli(stack, "sweep", "--reconcile")
    assert again.exit_code == 0 and "no reconciliation due" in again.output, again.output
    assert len(_audits(stack, shop, day)) == 1
