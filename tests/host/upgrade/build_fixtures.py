"""Build the upgrade fixtures: a database made by each earlier release, on both backends.

Run by hand from the repository's root when a release changes the host's schema or
its sealed data (then add the release to ``RELEASES``)::

    .venv/bin/python tests/host/upgrade/build_fixtures.py            # every release
    .venv/bin/python tests/host/upgrade/build_fixtures.py bcec4f4    # some

Needs git, PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and ``pg_dump``.

For each release it extracts that release's ``src`` and ``tests`` with ``git archive``
(nothing in the working tree or the repository changes) into a temporary folder and
runs a small driver *with that release's own code* (``PYTHONPATH=<old>/src:<old>/tests``,
this venv's interpreter): the release's own test kit (``tests/host/kit.py``, stable
since a5a8886) migrates a fresh database with the release's migrations, serves the
release's app under uvicorn on a loopback port, onboards a merchant, activates a
terminal over signed HTTP, opens two wallet accounts, makes two payments and (from
bcec4f4, where refunds began) a refund. The database is then dumped as text into
``fixtures/<release>/``:

- ``sqlite.sql``: ``sqlite3``'s ``iterdump``;
- ``postgresql.sql``: ``pg_dump --no-owner --no-privileges --inserts`` (plain INSERTs,
  so the tests load it with psycopg, no ``psql`` needed);
- ``keys.json``: the master key the release sealed with (null before sealing), the
  terminal's id and key, the wallets' account numbers and secrets, the payments.

Why the release's own code and test kit rather than hand-written rows: the rows,
sealed values, audit chain and ledger are exactly what an installation of that
release holds, including details nobody remembers (enc1's layout, 0002's triggers).
Why text dumps: small, diffable, and loadable by the test without the old code.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"

#: Every release on main that changed the host's schema or its sealed data, oldest first:
#: (commit, the schema revision it left, how it stored terminal keys and wallet secrets).
RELEASES: tuple[tuple[str, str, str], ...] = (
    ("a5a8886", "0001", "plain text"),
    ("bcec4f4", "0002", "enc1"),
    ("9ab61d3", "0003", "enc1"),
    ("6780eef", "0003", "enc2"),
    ("9d004e1", "0005", "enc2"),
)

# Run inside the old release: its own kit, its own app, its own migrations.
DRIVER = r"""
import json, sys
from datetime import UTC, datetime
from host import kit
from scanpay.host import HostSettings, ManualClock

url, backend, key = sys.argv[1], sys.argv[2], sys.argv[3]
options = {"database_url": url}
if "master_key" in HostSettings.__dataclass_fields__:
    options["master_key"] = key
settings = HostSettings(**options)
kit.migrate(url)
clock = ManualClock(datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
with kit.serve_in_thread(settings, clock, backend) as host:
    world = kit.make_world(host, balance=50_000)
    spare = world.open_wallet(20_000)
    terminal = world.terminal
    paid = []
    for number, amount in (("UP-1", 1234), ("UP-2", 2500)):
        answer = terminal.pay(number, amount, world.code()).json()
        assert answer["code"] == "00", answer
        paid.append({"out_trade_no": number, "amount": amount})
    refunds = []
    if hasattr(terminal, "refund"):
        answer = terminal.refund("UR-1", "UP-2", 500).json()
        assert answer["code"] == "00", answer
        refunds.append({"out_refund_no": "UR-1", "out_trade_no": "UP-2", "amount": 500})
    report = host.check_ledger()
    assert getattr(report, "ok", getattr(report, "balanced", True)), report
print(json.dumps({
    "merchant_id": world.merchant_id,
    "terminal_id": terminal.terminal_id,
    "terminal_key": terminal.key,
    "wallet": {"account": world.wallet.account, "secret_hex": world.wallet.secret},
    "spare_wallet": {"account": spare.account, "secret_hex": spare.secret},
    "payments": paid,
    "refunds": refunds,
}))
"""


def _extract(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src", "tests"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _drive(tree: Path, url: str, backend: str, key: str) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{tree / 'src'}:{tree / 'tests'}",
        "SCANPAY_DATA_DIR": str(tree / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, url, backend, key],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the driver failed:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _build_sqlite(tree: Path, key: str) -> tuple[str, dict[str, object]]:
    path = tree / "upgrade.db"
    facts = _drive(tree, f"sqlite:///{path}", "sqlite", key)
    conn = sqlite3.connect(path)
    try:
        dump = "\n".join(conn.iterdump()) + "\n"
    finally:
        conn.close()
    return dump, facts


def _build_postgresql(tree: Path, key: str) -> tuple[str, dict[str, object]]:
    name = f"scanpay_fixture_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        facts = _drive(tree, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", "pg", key)
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "--no-privileges",
                "--inserts",
                "--dbname",
                f"postgresql://postgres@127.0.0.1:5432/{name}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # pg_dump 15.14+ brackets the dump in \restrict/\unrestrict lines with a random
        # token (psql meta-commands): dropped, so a rebuild only differs where data does.
        dump = "".join(line for line in dump.splitlines(keepends=True) if not line.startswith("\\"))
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    return dump, facts


def build(commit: str, revision: str, sealing: str) -> None:
    """Write ``fixtures/<commit>/`` for one release."""
    out = FIXTURES / commit
    out.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    facts: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix=f"scanpay-{commit}-") as folder:
        tree = Path(folder)
        _extract(commit, tree)
        for backend, make in (("sqlite", _build_sqlite), ("postgresql", _build_postgresql)):
            dump, made = make(tree, key)
            (out / f"{backend}.sql").write_text(dump)
            facts[backend] = made
    keys = {
        "release": commit,
        "revision": revision,
        "sealing": sealing,
        "master_key": key if sealing != "plain text" else None,
        **facts,
    }
    (out / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")
    print(f"{commit}: revision {revision}, {sealing}: {out}")


def main(argv: list[str]) -> None:
    wanted = set(argv)
    for commit, revision, sealing in RELEASES:
        if not wanted or commit in wanted:
            build(commit, revision, sealing)


if __name__ == "__main__":
    main(sys.argv[1:])
