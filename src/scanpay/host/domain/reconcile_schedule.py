"""When a network's daily statement is due for reconciliation (issue 17's scheduled
run). Pure: no I/O and no clock, ``now`` is given.

**Due.** A network publishes a day's statement some time the next day (WeChat Pay: the
trade bill after 10:00 Beijing time), so day ``D`` is due from :attr:`Schedule.at`, in
the network's own time zone, on ``D + 1`` (:func:`due_at`). Only the
:attr:`Schedule.days_back` latest due days are looked at (:func:`window`): a host that
was down catches up that far, and a statement that never comes is given up on once
its day falls out of the window.

**Done.** A day stays due until every channel that existed on it has a run of the day
with status ``done``. A channel made after the day ended (its ``since`` at or after the
next midnight) took no payment that day, so it is not waited for.

**Retry.** A day with runs already (a statement the network did not give yet:
``statement_not_ready``) is due again only :attr:`Schedule.retry` after its latest run,
whoever made it (the schedule or an operator): a network is asked for a day's
statements at most once per ``retry``.

>>> from zoneinfo import ZoneInfo
>>> beijing = ZoneInfo("Asia/Shanghai")
>>> schedule = Schedule(at=time(10, 0), days_back=3, retry=timedelta(minutes=30))
>>> shop = ChannelSeen("M000001", datetime(2026, 3, 1, tzinfo=beijing))
>>> due_days(datetime(2026, 3, 3, 9, 59, tzinfo=beijing), beijing, schedule, [shop], [])
[datetime.date(2026, 3, 1)]
>>> due_days(datetime(2026, 3, 3, 10, 0, tzinfo=beijing), beijing, schedule, [shop], [])
[datetime.date(2026, 3, 1), datetime.date(2026, 3, 2)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

__all__ = ["ChannelSeen", "RunSeen", "Schedule", "due_at", "due_days", "latest_due", "window"]

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When statements are fetched: from ``at`` on the next day, for the ``days_back``
    latest due days, a day again at most every ``retry``."""

    at: time
    """The time of day, in the network's zone, a day's statement is due on the next day."""
    days_back: int
    """How many of the latest due days are looked at (at least 1)."""
    retry: timedelta
    """The least time between two runs of one day (positive)."""

    def __post_init__(self) -> None:
        if self.at.tzinfo is not None:
            raise ValueError("the schedule's time is a wall time in the network's zone")
        if self.days_back < 1:
            raise ValueError("days_back must be at least 1")
        if self.retry <= timedelta(0):
            raise ValueError("retry must be positive")


@dataclass(frozen=True, slots=True)
class ChannelSeen:
    """A channel with a statement of its own (its run's channel key), and when it was made."""

    key: str
    since: datetime


@dataclass(frozen=True, slots=True)
class RunSeen:
    """A run of a day as stored: its channel key, whether it ended ``done``, when it ran."""

    day: date
    channel_key: str
    done: bool
    ran_at: datetime


def due_at(day: date, zone: tzinfo, at: time) -> datetime:
    """The instant ``day``'s statement is due: ``at`` on the next day in ``zone``."""
    return datetime.combine(day + _DAY, at, zone)


def latest_due(now: datetime, zone: tzinfo, at: time) -> date:
    """The last day due at ``now``: yesterday in ``zone`` from ``at`` on, else the day before."""
    day = now.astimezone(zone).date() - _DAY
    # Yesterday's is due at ``at`` today; the day before's was due before today began.
    return day if due_at(day, zone, at) <= now else day - _DAY


def window(now: datetime, zone: tzinfo, schedule: Schedule) -> list[date]:
    """The days looked at, oldest first: the ``days_back`` latest due at ``now``."""
    last = latest_due(now, zone, schedule.at)
    return [last - n * _DAY for n in range(schedule.days_back - 1, -1, -1)]


def due_days(
    now: datetime,
    zone: tzinfo,
    schedule: Schedule,
    channels: Iterable[ChannelSeen],
    runs: Iterable[RunSeen],
) -> list[date]:
    """The days of one network to reconcile at ``now``, oldest first: in the
    :func:`window`, with a channel that existed on the day and has no ``done`` run of
    it, and no run of the day in the last ``retry``. ``channels`` and ``runs`` are the
    network's (runs of other days are ignored)."""
    known = list(channels)
    by_day: dict[date, list[RunSeen]] = {}
    for run in runs:
        by_day.setdefault(run.day, []).append(run)
    found = []
    for day in window(now, zone, schedule):
        ended = datetime.combine(day + _DAY, time(0, 0), zone)
        expected = {c.key for c in known if c.since < ended}
        ran = by_day.get(day, [])
        if not expected - {r.channel_key for r in ran if r.done}:
            continue
        if any(now < r.ran_at + schedule.retry for r in ran):
            continue  # asked lately: spare the network
        found.append(day)
    return found
