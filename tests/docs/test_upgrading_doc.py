"""docs/host.md "Upgrading", walked through as written.

An installation of bcec4f4 (terminal keys and wallet secrets sealed as ``enc1:``), loaded
from the upgrade suite's fixture into a data folder of the test's own, is upgraded by
every command of the section's ``sh`` blocks, in order, each in a shell: those before
"Install the new version" with the version being left (that release's own ``src``, taken
with ``git archive`` as ``build_fixtures.py`` does), the rest with the installed
``scanpay``. Each must succeed; then what the section says is checked: the backup is the
old database, ``init`` names the revision it came from, no secret is left in an older
form, the key, ledger and audit checks pass and print what the section shows, and the
old terminal is answered. What ``tests/host/upgrade`` proves for every release and both
databases (payments, wallets, idempotence) is not repeated here.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from docs.test_keys_doc import commands, section
from host.kit import SignedClient, remember, serve_in_thread
from host.upgrade.upgrading import OldInstallation, old_installation
from scanpay.host import HostSettings, ManualClock
from scanpay.host.db.migrate import head_revision
from scanpay.host.domain.sealing import key_fingerprint, short_fingerprint
from support import ROOT, require

TITLE = "## Upgrading"
#: The section's steps before this words run with the version being left.
NEW_VERSION = "Install the new version"
#: The release upgraded from: the first with sealed secrets (``enc1:``) and a ``backup``.
RELEASE = "bcec4f4"
BIN = Path(sys.executable).parent
#: (table, plain-text column or None, sealed column): every secret the host seals.
SEALED = (
    ("terminal_keys", "key_hex", "key_sealed"),
    ("wallet_accounts", "secret_hex", "secret_sealed"),
    ("applications", None, "codes_sealed"),
)
#: The commands whose trailing ``# ...`` in the section is what they print.
PRINTED = ("scanpay host init", "scanpay host ledger check", "scanpay host audit verify")


def _release_cli(folder: Path) -> Path:
    """A folder with a ``scanpay`` that runs ``RELEASE``'s own code (this interpreter)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", RELEASE, "src"], capture_output=True, timeout=120
    )
    require(archive.returncode == 0, f"git archive {RELEASE}: needs git and the history")
    folder.mkdir()
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    bin_ = folder / "bin"
    bin_.mkdir()
    run = f"{shlex.quote(sys.executable)} -c 'from scanpay.cli import main; main()'"
    script = bin_ / "scanpay"
    script.write_text(f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(folder / "src"))} exec {run} "$@"\n')
    script.chmod(0o755)
    return bin_


def _environment(data: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SCANPAY_") and key not in {"CI"}
    }
    env.update(SCANPAY_DATA_DIR=str(data), SCANPAY_LANG="en")
    return env


def _shell(command: str, cwd: Path, env: dict[str, str], bin_: Path) -> str:
    """Run one command of the section with ``bin_``'s ``scanpay``; it must succeed."""
    path = f"{bin_}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env={**env, "PATH": path}, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _sealed(database: Path) -> list[tuple[str, str]]:
    """(plain text, sealed value) of every secret in the database, of the tables it has."""
    conn = sqlite3.connect(database)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        found: list[tuple[str, str]] = []
        for table, plain, sealed in SEALED:
            if table in tables:
                query = f"SELECT {plain or repr('')}, {sealed} FROM {table}"
                found += [(p, s) for p, s in conn.execute(query) if s is not None]
        return found
    finally:
        conn.close()


def _revision(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


def _shape(line: str) -> str:
    """A printed line with its numbers and fingerprints left out, to compare."""
    line = re.sub(r"\b[0-9a-f]{4}(-[0-9a-f]{4}){3}\b", "FINGERPRINT", line.strip())
    return re.sub(r"\d+", "N", line)


def _old_terminal_is_answered(old: OldInstallation) -> None:
    """The terminal activated before the upgrade, its id and key unchanged, gets its
    payment back, signed (as a terminal of its release asks: no bound replies)."""
    facts = old.facts
    remember(facts["terminal_key"], facts["wallet"]["secret_hex"])
    clock = ManualClock(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))
    settings = HostSettings(database_url=old.url, data_dir=str(old.data_dir))
    with serve_in_thread(settings, clock, "sqlite") as host:
        terminal = SignedClient(
            host.url, facts["terminal_id"], facts["terminal_key"], clock, signature_version=None
        )
        paid = facts["payments"][0]
        shown = terminal.request("GET", f"/v1/payments/{paid['out_trade_no']}")
        assert shown.status_code == 200, shown.text


def test_the_upgrading_section_runs_as_written(tmp_path: Path) -> None:
    text = section(TITLE)
    assert NEW_VERSION in text
    before, after = text.split(NEW_VERSION, 1)
    leaving, upgrading = commands(before), commands(after)
    backups = [c for c in leaving if c.startswith("scanpay host backup ")]
    assert len(backups) == 1 and "scanpay host init" in upgrading
    assert all(c in upgrading for c in ("scanpay host key show", *PRINTED))
    shown = dict(re.findall(r"^(scanpay host [^#\n]*?)\s+#\s*(.*)$", text, flags=re.M))

    old_cli = _release_cli(tmp_path / RELEASE)
    data = tmp_path / "data"
    with old_installation(RELEASE, "sqlite", data) as old:
        assert old.master_key is not None
        database = data / "host.db"
        assert {s[:5] for _, s in _sealed(database)} == {"enc1:"}  # what there is to convert
        env = _environment(data)
        outputs: dict[str, str] = {}
        for bin_, steps in ((old_cli, leaving), (BIN, upgrading)):
            for command in steps:
                outputs[command] = _shell(command, tmp_path, env, bin_)

        # The backup: the database as the version left it, sealed secrets and all.
        backup = tmp_path / shlex.split(backups[0])[3]
        assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
        assert backup.stat().st_mode & 0o777 == 0o600
        assert _revision(backup) == old.revision
        assert {s[:5] for _, s in _sealed(backup)} == {"enc1:"}

        # init: migrated from the old revision, every secret converted to enc2.
        fingerprint = short_fingerprint(key_fingerprint(bytes.fromhex(old.master_key)))
        assert outputs["scanpay host init"].strip() == (
            f"database at revision {head_revision()} (was {old.revision}); master key {fingerprint}"
        )
        assert _revision(database) == head_revision()
        converted = _sealed(database)
        assert converted and all(p == "" and s.startswith("enc2:") for p, s in converted)

        # The checks: the same key, the ledger and the audit chain hold.
        assert outputs["scanpay host key show"].strip() == (
            f"master key {fingerprint} ({data / 'master.key'})"
        )
        assert outputs["scanpay host ledger check"].startswith("ledger OK: ")
        assert outputs["scanpay host audit verify"].startswith("audit chain OK: ")
        for command in PRINTED:
            assert _shape(shown[command]) == _shape(outputs[command]), (command, outputs)

        _old_terminal_is_answered(old)


def test_an_init_refused_for_its_key_runs_again_with_the_right_one(tmp_path: Path) -> None:
    """What the section says of a refused key: the schema is migrated, nothing converted,
    no fingerprint recorded; with the right key in place, ``init`` again finishes."""
    said = " ".join(section(TITLE).split())
    assert "it has already migrated the schema but converted nothing and recorded no " in said
    assert "put the right key in place (see [Keys](#keys)) and run `init` again" in said
    data = tmp_path / "data"
    with old_installation(RELEASE, "sqlite", data):
        database = data / "host.db"
        wrong = tmp_path / "wrong.key"
        wrong.write_text(secrets.token_hex(32) + "\n")
        wrong.chmod(0o600)
        env = _environment(data)
        done = subprocess.run(
            [str(BIN / "scanpay"), "host", "init"], cwd=tmp_path, capture_output=True,
            env={**env, "SCANPAY_MASTER_KEY_FILE": str(wrong)}, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        assert "does not open the secrets sealed in the database" in done.stderr, done.stderr
        assert _revision(database) == head_revision()
        assert {s[:5] for _, s in _sealed(database)} == {"enc1:"}
        conn = sqlite3.connect(database)
        try:
            assert conn.execute("SELECT count(*) FROM host_keys").fetchone() == (0,)
        finally:
            conn.close()
        again = _shell("scanpay host init", tmp_path, env, BIN)
        assert f"(was {head_revision()})" in again
        converted = _sealed(database)
        assert converted and all(p == "" and s.startswith("enc2:") for p, s in converted)
