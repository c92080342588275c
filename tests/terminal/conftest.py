"""Fixtures: one real host per test module, a fresh activated agent per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from terminal.harness import AgentHandle, Host, activate, add_operators, start_agent

#: The host's wait for a customer's PIN (the terminal waits exactly as long: the
#: host's deadline is the one deadline). Short, so a sale the customer walks away
#: from settles within a test; long enough for a wallet login and a PIN check on a
#: machine loaded far past its cores (6 s was not, at a load average of 19 on 2).
PIN_WAIT = 12


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    server = Host(tmp_path_factory.mktemp("host"), user_paying_timeout=PIN_WAIT).start()
    yield server
    server.stop()


@pytest.fixture
def terminal_dir(host: Host, tmp_path: Path) -> Path:
    directory = tmp_path / "terminal"
    activate(host, directory)
    add_operators(directory)
    return directory


@pytest.fixture
def agent(terminal_dir: Path) -> Iterator[AgentHandle]:
    handle = start_agent(terminal_dir)
    handle.login("s01", "987654")
    handle.login("c01", "1234")
    yield handle
    handle.stop()
