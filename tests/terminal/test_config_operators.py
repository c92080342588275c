"""Configuration file (mode 0600, no key leaks) and operators (argon2, throttling, sessions)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scanpay.terminal.config import TerminalConfig, load_config, save_config
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.journal import Journal
from scanpay.terminal.operators import Operators

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def config() -> TerminalConfig:
    return TerminalConfig(
        host_url="http://127.0.0.1:8600",
        terminal_id="T0001",
        key=KEY,
        merchant_id="M1",
        merchant_name="Best Shop",
    )


def test_config_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "term"
    path = save_config(folder, config())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert load_config(folder) == config()


def test_config_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = save_config(tmp_path, config())
    os.chmod(path, 0o644)
    with pytest.raises(TerminalError) as err:
        load_config(tmp_path)
    assert "0600" in err.value.message("en")


def test_missing_config_means_not_activated(tmp_path: Path) -> None:
    with pytest.raises(TerminalError) as err:
        load_config(tmp_path)
    assert err.value.code == "not_activated"


def test_key_never_in_repr_or_public_view() -> None:
    cfg = config()
    assert KEY not in repr(cfg)
    assert "key" not in cfg.public() and KEY not in str(cfg.public())


def test_bad_key_is_refused() -> None:
    with pytest.raises(TerminalError):
        TerminalConfig(
            host_url="http://h", terminal_id="T", key="abc", merchant_id="M", merchant_name="S"
        )


def test_language_is_pinned_only_by_the_operator() -> None:
    # Unset, each browser starts in its own language (issue 14); a pin is a known language.
    assert config().language is None and config().public()["language"] is None
    assert TerminalConfig.from_dict({**config().to_dict(), "language": "en"}).language == "en"
    with pytest.raises(TerminalError) as err:
        TerminalConfig.from_dict({**config().to_dict(), "language": "fr"})
    assert err.value.code == "bad_request" and err.value.field == "language"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ops(tmp_path: Path) -> tuple[Operators, Clock, Journal]:
    journal = Journal(tmp_path / "j.db")
    clock = Clock()
    operators = Operators(
        journal, clock=clock, max_tries=3, lock_seconds=30, terminal_burst=10, idle_minutes=1
    )
    operators.add("c01", "Ann", "cashier", "1234")
    operators.add("s01", "Sam", "supervisor", "987654")
    yield operators, clock, journal
    journal.close()


def test_pins_are_stored_as_argon2_hashes(ops: tuple[Operators, Clock, Journal]) -> None:
    _, _, journal = ops
    row = journal.operator_row("c01")
    assert row is not None and row["pin_hash"].startswith("$argon2id$")
    assert "1234" not in row["pin_hash"]
    assert all("1234" not in str(e.detail) for e in journal.events())


def test_bad_new_pins_and_duplicates(ops: tuple[Operators, Clock, Journal]) -> None:
    operators, _, _ = ops
    for pin in ("12", "abcd", "123456789"):
        with pytest.raises(TerminalError) as err:
            operators.add("c09", "X", "cashier", pin)
        assert err.value.code == "bad_new_pin"
    with pytest.raises(TerminalError) as err:
        operators.add("c01", "Ann again", "cashier", "4321")
    assert err.value.code == "operator_exists"


def test_wrong_pins_lock_the_operator_and_the_lock_doubles(
    ops: tuple[Operators, Clock, Journal],
) -> None:
    operators, clock, journal = ops
    for _ in range(3):
        with pytest.raises(TerminalError) as err:
            operators.verify("c01", "0000")
        assert err.value.code == "bad_pin"
    with pytest.raises(TerminalError) as err:
        operators.verify("c01", "1234")  # right PIN, but locked
    assert err.value.code == "pin_locked"
    clock.now += 31
    with pytest.raises(TerminalError):
        operators.verify("c01", "9999")  # fourth wrong: locked for 60 s now
    clock.now += 45
    with pytest.raises(TerminalError) as err:
        operators.verify("c01", "1234")
    assert err.value.code == "pin_locked"
    clock.now += 20
    assert operators.verify("c01", "1234").operator_id == "c01"
    row = journal.operator_row("c01")
    assert row is not None and row["failed"] == 0
    assert [e.event for e in journal.events()].count("wrong_pin") == 4


def test_unknown_operators_are_throttled_terminal_wide(
    ops: tuple[Operators, Clock, Journal],
) -> None:
    operators, clock, _ = ops
    for i in range(11):
        with pytest.raises(TerminalError) as err:
            operators.verify(f"nobody{i}", "1234")
    with pytest.raises(TerminalError) as err:
        operators.verify("s01", "987654")
    assert err.value.code == "pin_locked"
    clock.now += 31
    assert operators.verify("s01", "987654").is_supervisor


def test_sessions_expire_when_idle_and_on_logout(ops: tuple[Operators, Clock, Journal]) -> None:
    operators, clock, _ = ops
    session = operators.login("c01", "1234")
    assert operators.session(session.token).operator.operator_id == "c01"
    clock.now += 61
    with pytest.raises(TerminalError) as err:
        operators.session(session.token)
    assert err.value.code == "not_logged_in"
    again = operators.login("c01", "1234")
    operators.logout(again.token)
    with pytest.raises(TerminalError):
        operators.session(again.token)


def test_supervisor_approval(ops: tuple[Operators, Clock, Journal]) -> None:
    operators, _, _ = ops
    cashier = operators.verify("c01", "1234")
    supervisor = operators.verify("s01", "987654")
    assert operators.supervisor(None, None, supervisor) == supervisor
    with pytest.raises(TerminalError) as err:
        operators.supervisor(None, None, cashier)
    assert err.value.code == "supervisor_required"
    with pytest.raises(TerminalError) as err:
        operators.supervisor("c01", "1234", cashier)  # a cashier cannot approve
    assert err.value.code == "supervisor_required"
    with pytest.raises(TerminalError) as err:
        operators.supervisor("s01", "000000", cashier)
    assert err.value.code == "bad_pin"
    assert operators.supervisor("s01", "987654", cashier).operator_id == "s01"
