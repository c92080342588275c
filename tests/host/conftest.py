"""Fixtures of the host suite: every integration test runs on SQLite and on PostgreSQL.

Two checks run around the whole suite, not one test:

- after every test that uses a ``world``, the ledger must balance and the
  audit chain must verify;
- every log record of the session is captured (as the host's JSON lines) and,
  when the session ends, scanned for every payment code, key, secret and PIN
  the suite used (``kit.SECRETS``): one found fails the session.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from host.kit import (
    CAPTURE,
    DATA_DIRS,
    SECRETS,
    RunningHost,
    World,
    harvest,
    leaks,
    make_world,
    migrate,
    postgres_available,
    postgres_database,
    serve_in_thread,
)
from scanpay.host import HostSettings, ManualClock
from scanpay.host.services import audit
from support import require

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def log_scan() -> Iterator[None]:
    """Capture every log record of the session; no secret may be in any of them."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("scanpay", "uvicorn", "sqlalchemy")}
    root.addHandler(CAPTURE)
    logging.getLogger("scanpay").setLevel(logging.DEBUG)
    logging.getLogger("uvicorn").setLevel(logging.INFO)
    # At INFO SQLAlchemy writes statements and parameters; production never enables it.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(CAPTURE)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    found = leaks(CAPTURE.lines + CAPTURE.raw, SECRETS)
    assert not found, f"secrets in the logs: {found[:3]}"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data directory of the session (master key files of PostgreSQL hosts, CSVs)."""
    path = tmp_path_factory.mktemp("data")
    before = os.environ.get("SCANPAY_DATA_DIR")
    os.environ["SCANPAY_DATA_DIR"] = str(path)  # the CLI's settings read it
    yield path
    if before is None:
        os.environ.pop("SCANPAY_DATA_DIR", None)
    else:
        os.environ["SCANPAY_DATA_DIR"] = before


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, data_dir: Path
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
def host(database_url: str, data_dir: Path) -> Iterator[RunningHost]:
    """The real host on a loopback port, with a clock the tests move."""
    settings = HostSettings(
        database_url=database_url, min_terminal_version="1.0.0", data_dir=str(data_dir)
    )
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    DATA_DIRS[database_url] = str(data_dir)
    with serve_in_thread(settings, clock, backend) as running:
        yield running
        # Before the database goes: every key, secret and accepted code in it joins the scan.
        SECRETS.update(harvest(running.ctx))


@pytest.fixture
def world(host: RunningHost) -> Iterator[World]:
    """A fresh merchant, activated terminal and wallet; afterwards the ledger must balance
    and the audit chain must verify."""
    made = make_world(host)
    yield made
    report = host.check_ledger()
    assert report.ok, report.to_dict()
    chain = audit.verify(host.ctx)
    assert chain.ok, chain.to_dict()
