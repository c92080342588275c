"""Fixtures of the host suite: every integration test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from host.kit import (
    RunningHost,
    World,
    make_world,
    migrate,
    postgres_available,
    postgres_database,
    serve_in_thread,
)
from scanpay.host import HostSettings, ManualClock
from support import require

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of each backend for the session (PostgreSQL: created, then dropped)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('host') / 'host.db'}"
        migrate(url)
        yield url
        return
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)")
    with postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def host(database_url: str) -> Iterator[RunningHost]:
    """The real host on a loopback port, with a clock the tests move."""
    settings = HostSettings(database_url=database_url, min_terminal_version="1.0.0")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    with serve_in_thread(settings, clock, backend) as running:
        yield running


@pytest.fixture
def world(host: RunningHost) -> Iterator[World]:
    """A fresh merchant, activated terminal and wallet; the ledger must balance afterwards."""
    made = make_world(host)
    yield made
    report = host.check_ledger()
    assert report.ok, report.to_dict()
