"""Which days of a network are due for the scheduled reconciliation (pure): never a day
before its statement is due, never a day every channel has done, only the days back
the schedule looks at, a day again only after the retry interval; and every other day
of the window is due. Then the settings that make the schedule."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanpay.host.domain import reconcile_schedule
from scanpay.host.domain.reconcile_schedule import (
    ChannelSeen,
    RunSeen,
    Schedule,
    due_at,
    due_days,
    latest_due,
    window,
)
from scanpay.host.settings import HostSettings

BEIJING = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
#: WeChat Pay's: the bill out after 10:00 Beijing time, 30 minutes between tries, 3 days back.
WECHAT = Schedule(at=time(10, 0), days_back=3, retry=timedelta(minutes=30))
#: The same, looking at the latest due day only.
LATEST = replace(WECHAT, days_back=1)

# Zones with and without summer time, some far from UTC, one with a 45-minute offset.
zones = st.sampled_from(
    [
        BEIJING,
        ZoneInfo("UTC"),
        ZoneInfo("America/New_York"),
        ZoneInfo("Europe/London"),
        ZoneInfo("Pacific/Chatham"),
        ZoneInfo("Pacific/Kiritimati"),
        ZoneInfo("America/Santiago"),
    ]
)
nows = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
schedules = st.builds(
    Schedule,
    at=st.times(),
    days_back=st.integers(min_value=1, max_value=8),
    retry=st.integers(min_value=1, max_value=3 * 86_400).map(lambda s: timedelta(seconds=s)),
)
KEYS = ["M000001", "M000002", "M000003", "account:sp"]


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[datetime, tzinfo, Schedule, list[ChannelSeen], list[RunSeen]]:
    """A moment, a network's zone, a schedule, and channels and runs around that moment."""
    now, zone, schedule = draw(nows), draw(zones), draw(schedules)
    around = st.integers(min_value=-12 * 86_400, max_value=86_400).map(
        lambda s: now + timedelta(seconds=s)
    )
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    channels = [ChannelSeen(key, draw(around)) for key in keys]
    today = now.astimezone(zone).date()
    days = st.integers(min_value=-12, max_value=1).map(lambda n: today + n * DAY)
    runs = draw(
        st.lists(
            st.builds(
                RunSeen,
                day=days,
                channel_key=st.sampled_from([*KEYS, "M000009"]),
                done=st.booleans(),
                ran_at=around,
            ),
            max_size=12,
        )
    )
    return now, zone, schedule, channels, runs


World = tuple[datetime, tzinfo, Schedule, list[ChannelSeen], list[RunSeen]]


def _pending(day: date, zone: tzinfo, channels: list[ChannelSeen], runs: list[RunSeen]) -> set[str]:
    """The channels that existed on ``day`` with no ``done`` run of it."""
    ended = datetime.combine(day + DAY, time(0, 0), zone)
    done = {r.channel_key for r in runs if r.day == day and r.done}
    return {c.key for c in channels if c.since < ended} - done


# ---------------------------------------------------------------------- properties


@settings(max_examples=250)
@given(worlds())
def test_never_a_day_before_its_statement_is_due(world: World) -> None:
    now, zone, schedule, channels, runs = world
    today = now.astimezone(zone).date()
    for day in due_days(now, zone, schedule, channels, runs):
        assert due_at(day, zone, schedule.at) <= now
        assert day + DAY <= today  # the day after it has begun, at least


@settings(max_examples=250)
@given(worlds())
def test_never_a_day_every_channel_has_done(world: World) -> None:
    now, zone, schedule, channels, runs = world
    for day in due_days(now, zone, schedule, channels, runs):
        assert _pending(day, zone, channels, runs)
    # Each channel's run done on every day: nothing is due, whenever it is looked at.
    every = [
        RunSeen(day, c.key, True, now - 10 * DAY)
        for day in window(now, zone, schedule)
        for c in channels
    ]
    assert due_days(now, zone, schedule, channels, runs + every) == []


@settings(max_examples=250)
@given(worlds())
def test_only_the_days_back_of_the_schedule(world: World) -> None:
    now, zone, schedule, channels, runs = world
    days = window(now, zone, schedule)
    assert len(days) == schedule.days_back and days == sorted(days)
    assert all(b - a == DAY for a, b in pairwise(days))
    last = days[-1]
    assert due_at(last, zone, schedule.at) <= now < due_at(last + DAY, zone, schedule.at)
    assert latest_due(now, zone, schedule.at) == last
    found = due_days(now, zone, schedule, channels, runs)
    assert found == sorted(set(found))  # oldest first, each once
    assert set(found) <= set(days)


@settings(max_examples=250)
@given(worlds())
def test_a_day_again_only_after_the_retry_interval(world: World) -> None:
    now, zone, schedule, channels, runs = world
    for day in due_days(now, zone, schedule, channels, runs):
        assert all(r.ran_at + schedule.retry <= now for r in runs if r.day == day)
        # A run of it a moment ago (any channel, done or not): not due until retry passed.
        fresh = RunSeen(day, "M000009", False, now - schedule.retry + timedelta(seconds=1))
        assert day not in due_days(now, zone, schedule, channels, [*runs, fresh])


@settings(max_examples=250)
@given(worlds())
def test_every_other_day_of_the_window_is_due(world: World) -> None:
    """The converse: a day of the window with a channel waiting and no run lately is due."""
    now, zone, schedule, channels, runs = world
    found = set(due_days(now, zone, schedule, channels, runs))
    for day in window(now, zone, schedule):
        waiting = bool(_pending(day, zone, channels, runs))
        lately = any(now < r.ran_at + schedule.retry for r in runs if r.day == day)
        assert (day in found) == (waiting and not lately)


@settings(max_examples=200)
@given(worlds(), st.integers(min_value=1, max_value=30 * 86_400))
def test_what_is_due_stays_due_until_it_is_run(world: World, seconds: int) -> None:
    """With no run in between, a day due now is due later too, while in the window."""
    now, zone, schedule, channels, runs = world
    later = now + timedelta(seconds=seconds)
    then = set(due_days(later, zone, schedule, channels, runs))
    still = set(window(later, zone, schedule))
    assert {d for d in due_days(now, zone, schedule, channels, runs) if d in still} <= then


# ------------------------------------------------------------------------ examples


def _shop(since: datetime) -> ChannelSeen:
    return ChannelSeen("M000001", since)


def test_wechat_pays_day_is_due_from_ten_oclock_beijing_time_the_next_day() -> None:
    shop = _shop(datetime(2026, 3, 1, 9, 0, tzinfo=BEIJING))
    day = date(2026, 3, 2)
    before = datetime(2026, 3, 3, 9, 59, 59, tzinfo=BEIJING)
    at = datetime(2026, 3, 3, 10, 0, tzinfo=BEIJING)
    assert due_days(before, BEIJING, WECHAT, [shop], []) == [date(2026, 3, 1)]
    assert due_days(at, BEIJING, WECHAT, [shop], []) == [date(2026, 3, 1), day]
    # 10:00 in Beijing is 02:00 UTC: the UTC date plays no part.
    assert due_days(at.astimezone(UTC), BEIJING, WECHAT, [shop], [])[-1] == day


def test_a_statement_not_ready_is_asked_for_again_after_the_retry_interval() -> None:
    shop = _shop(datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    day = date(2026, 3, 2)
    ran = datetime(2026, 3, 3, 10, 0, 5, tzinfo=BEIJING)
    waiting = [RunSeen(day, shop.key, False, ran)]
    assert due_days(ran + timedelta(minutes=29), BEIJING, WECHAT, [shop], waiting) == []
    assert due_days(ran + timedelta(minutes=30), BEIJING, WECHAT, [shop], waiting) == [day]
    done = [RunSeen(day, shop.key, True, ran)]
    assert due_days(ran + timedelta(hours=5), BEIJING, WECHAT, [shop], done) == []
    # Three days back, then given up: the day is out of the window.
    assert due_days(ran + 2 * DAY, BEIJING, WECHAT, [shop], waiting)[0] == day
    assert day not in due_days(ran + 3 * DAY, BEIJING, WECHAT, [shop], waiting)


def test_a_channel_made_after_the_day_is_not_waited_for() -> None:
    day = date(2026, 3, 2)
    old = _shop(datetime(2026, 3, 1, tzinfo=BEIJING))
    new = ChannelSeen("account:sp", datetime(2026, 3, 3, 0, 0, tzinfo=BEIJING))  # next midnight
    now = datetime(2026, 3, 3, 11, 0, tzinfo=BEIJING)
    done = [RunSeen(day, old.key, True, now - timedelta(hours=1))]
    assert due_days(now, BEIJING, LATEST, [old, new], done) == []
    assert due_days(
        now, BEIJING, LATEST, [old, replace(new, since=new.since - 1 * SECOND)], done
    ) == [day]
    # No channel at all: nothing to reconcile, nothing due.
    assert due_days(now, BEIJING, WECHAT, [], []) == []


def test_a_run_of_a_channel_gone_does_not_keep_the_day_due() -> None:
    day = date(2026, 3, 2)
    shop = _shop(datetime(2026, 3, 1, tzinfo=BEIJING))
    now = datetime(2026, 3, 3, 11, 0, tzinfo=BEIJING)
    runs = [
        RunSeen(day, shop.key, True, now - timedelta(hours=1)),
        RunSeen(day, "M000042", False, now - timedelta(hours=1)),  # moved to another mode
    ]
    assert due_days(now, BEIJING, LATEST, [shop], runs) == []


def test_a_bad_schedule_is_refused() -> None:
    for bad in (
        {"days_back": 0},
        {"retry": timedelta(0)},
        {"at": time(10, 0, tzinfo=UTC)},
    ):
        with pytest.raises(ValueError):
            Schedule(**{"at": time(10, 0), "days_back": 3, "retry": timedelta(1), **bad})  # type: ignore[arg-type]


def test_the_modules_examples() -> None:
    result = doctest.testmod(reconcile_schedule)
    assert result.attempted >= 2 and result.failed == 0


# ------------------------------------------------------------------------ settings


def test_the_settings_default_to_ten_oclock_thirty_minutes_three_days() -> None:
    default = HostSettings.from_env({})
    assert (default.reconcile_at, default.reconcile_retry, default.reconcile_days) == (
        time(10, 0),
        1800.0,
        3,
    )
    custom = HostSettings.from_env(
        {
            "SCANPAY_RECONCILE_AT": "9:30",
            "SCANPAY_RECONCILE_RETRY": "600",
            "SCANPAY_RECONCILE_DAYS": "7",
        }
    )
    assert (custom.reconcile_at, custom.reconcile_retry, custom.reconcile_days) == (
        time(9, 30),
        600.0,
        7,
    )
    for off in ("off", "OFF", " off "):
        assert HostSettings.from_env({"SCANPAY_RECONCILE_AT": off}).reconcile_at is None


@pytest.mark.parametrize(
    "env",
    [
        {"SCANPAY_RECONCILE_AT": "10"},
        {"SCANPAY_RECONCILE_AT": "24:00"},
        {"SCANPAY_RECONCILE_AT": "10:60"},
        {"SCANPAY_RECONCILE_AT": "10:00:00"},
        {"SCANPAY_RECONCILE_AT": "never"},
        {"SCANPAY_RECONCILE_RETRY": "0"},
        {"SCANPAY_RECONCILE_RETRY": "nan"},
        {"SCANPAY_RECONCILE_RETRY": "soon"},
        {"SCANPAY_RECONCILE_DAYS": "0"},
        {"SCANPAY_RECONCILE_DAYS": "91"},
    ],
)
def test_bad_reconcile_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        HostSettings.from_env(env)
