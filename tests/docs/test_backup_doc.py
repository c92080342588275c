"""docs/host.md "Backup and restore", walked through as written.

Every command of the section's ``sh`` blocks runs in a shell (the installed
``scanpay``, PostgreSQL's client tools), against a host of the test's own on
SQLite and on PostgreSQL; the printed output is compared with the ``# ...``
lines the section shows (numbers aside). The claims between the blocks are
checked too: a restore while the host serves is refused and changes nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from host.kit import LICENCE, PG_ADMIN, postgres_available, postgres_database
from host.served import served
from support import ROOT, require

DOC = ROOT / "docs" / "host.md"
DOC_URL = "postgresql+psycopg://scanpay@127.0.0.1:5432/scanpay"


@dataclass(frozen=True)
class Block:
    """One ``sh`` block: its commands, and the output it shows (comment lines)."""

    subsection: str
    commands: list[str]
    shown: list[str]


def section_blocks(title: str = "## Backup and restore") -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    assert title in text, f"docs/host.md has no {title!r}"
    section = text.split(title, 1)[1]
    section = re.split(r"^## ", section, maxsplit=1, flags=re.M)[0]
    blocks: list[Block] = []
    subsection = ""
    for part in re.split(r"(^### [^\n]*$|^```sh\n.*?^```$)", section, flags=re.M | re.S):
        if part.startswith("### "):
            subsection = part[4:].strip()
        elif part.startswith("```sh"):
            lines = part.splitlines()[1:-1]
            commands = [
                re.sub(r"\s+#.*$", "", line).strip() for line in lines if not line.startswith("#")
            ]
            shown = [line[1:].strip() for line in lines if line.startswith("# ")]
            blocks.append(Block(subsection, [c for c in commands if c], shown))
    return blocks


def shape(line: str) -> str:
    """A printed line with its numbers and its paths' folders left out, to compare."""
    return re.sub(r"\d+", "N", line.strip())


class Shell:
    """Runs a block's commands in order (``set -e``) in one folder; ``export`` lines of
    earlier blocks carry over, as they would in the operator's shell."""

    def __init__(self, cwd: Path, env: dict[str, str], replace: dict[str, str]) -> None:
        self.cwd, self.env, self.replace = cwd, env, replace
        self.exports: list[str] = []

    def line(self, command: str) -> str:
        for old, new in self.replace.items():
            command = command.replace(old, new)
        return command

    def run(self, block: Block, code: int = 0) -> str:
        lines = [self.line(c) for c in block.commands]
        script = "\n".join(["set -e", *self.exports, *lines])
        done = subprocess.run(
            ["bash", "-c", script], cwd=self.cwd, env=self.env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == code, f"{lines}\n{done.stdout}\n{done.stderr}"
        self.exports += [c for c in lines if c.startswith("export ")]
        return done.stdout + done.stderr

    def cli(self, *args: str) -> str:
        return self.run(Block("", [shlex.join(["scanpay", "host", *args])], []))


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANPAY_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SCANPAY_LANG"] = "en"
    env["LANG"] = "C.UTF-8"
    return env


def _blocks(name: str) -> list[Block]:
    found = [b for b in section_blocks() if b.subsection == name]
    assert found, f"no sh blocks under ### {name}"
    return found


def _matches(output: str, shown: list[str]) -> None:
    printed = {shape(line) for line in output.splitlines()}
    for line in shown:
        assert shape(line) in printed, f"the docs show {line!r}; it printed:\n{output}"


def _add(shell: Shell, name: str) -> None:
    shell.cli("merchant", "add", "--name", name, "--city", "Fuzhou", "--mcc", "5814",
              "--license", LICENCE)  # fmt: skip


def test_the_sqlite_procedure_as_written(tmp_path: Path) -> None:
    env = _environment()  # the defaults: ./data/host.db, its master key beside it
    shell = Shell(tmp_path, env, {})
    backup, restore = _blocks("SQLite")
    shell.cli("init")
    _add(shell, "Kept")
    with served(None, None, env=env, cwd=tmp_path):
        shell.run(backup)
        assert (tmp_path / "backups" / "host.db").is_file()
        _add(shell, "Later")
        refused = shell.run(restore, code=1)  # "stop every serve ... first"
        assert "a host is serving the database" in refused
        assert "Later" in shell.cli("merchant", "list")
    _matches(shell.run(restore), restore.shown)
    listed = shell.cli("merchant", "list")
    assert "Kept" in listed and "Later" not in listed


def test_the_postgresql_procedure_as_written(tmp_path: Path) -> None:
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)")
    blocks = _blocks("PostgreSQL")
    assert len(blocks) == 3, [b.commands for b in blocks]
    backup, restore, after_drop = blocks
    assert any(DOC_URL in c for c in backup.commands), "the section's URL changed"
    assert "dropdb scanpay" in after_drop.commands
    env = _environment()
    env["SCANPAY_DATA_DIR"] = str(tmp_path / "data")
    with postgres_database() as url:
        name = url.rsplit("/", 1)[1]
        shell = Shell(
            tmp_path,
            env,
            {DOC_URL: url, "dropdb scanpay": f"dropdb -h 127.0.0.1 -U postgres {name}"},
        )
        shell.exports.append(f"export SCANPAY_DATABASE_URL={url}")
        shell.cli("init")
        _add(shell, "Kept")
        with served(url, None, env=env, cwd=tmp_path):
            printed = shell.run(backup)
            assert (tmp_path / "backups" / "host.pgdump").stat().st_size > 0
            assert "pg_dump --format=custom" in printed  # the --dry-run line
            _add(shell, "Later")
            refused = shell.run(restore, code=1)
            assert "a host is serving the database" in refused
            assert "Later" in shell.cli("merchant", "list")
        done = shell.run(restore)
        assert "ledger OK" in done and "audit chain OK" in done
        listed = shell.cli("merchant", "list")
        assert "Kept" in listed and "Later" not in listed
        # The test's database has a name of its own; the docs call it scanpay.
        _matches(shell.run(after_drop).replace(name, "scanpay"), after_drop.shown)


def _role_block() -> Block:
    text = DOC.read_text(encoding="utf-8")
    title = "#### The PostgreSQL role and database"
    assert title in text
    part = text.split(title, 1)[1]
    found = re.search(r"^```sh\n(.*?)^```$", part, flags=re.M | re.S)
    assert found, "no sh block under " + title
    lines = found.group(1).splitlines()
    commands = [re.sub(r"\s+#.*$", "", line).strip() for line in lines if line.strip()]
    return Block("role", commands, [])


def test_the_role_and_database_commands_make_what_the_url_names(tmp_path: Path) -> None:
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)")
    block = _role_block()
    assert any("createuser" in c for c in block.commands)
    assert any("createdb" in c for c in block.commands)
    name = f"scanpay_doc_{uuid.uuid4().hex[:10]}"  # role and database: ours alone
    admin = "-h 127.0.0.1 -U postgres"
    commands = []
    for command in block.commands:
        command = command.replace("sudo -u postgres ", "")
        command = re.sub(r"^(createuser|createdb) ", rf"\1 {admin} ", command)
        commands.append(re.sub(r"\bscanpay\b", name, command))
    env = _environment()
    env["SCANPAY_DATA_DIR"] = str(tmp_path / "data")
    url = re.sub(r"\bscanpay\b", name, DOC_URL)  # the docs' URL, for our role and database
    shell = Shell(tmp_path, env, {})
    shell.exports.append(f"export SCANPAY_DATABASE_URL={url}")
    try:
        shell.run(Block("role", commands, []))
        shell.cli("init")  # the host's own role: it owns what it makes
        _add(shell, "Kept")
        shell.cli("backup", "backups/own.pgdump")
        shell.run(Block("", [f"dropdb {admin} {name}"], []))
        # --createdb, as the docs say: the host's role recreates its database itself.
        done = shell.cli("restore", "backups/own.pgdump", "--yes")
        assert "(created)" in done and "ledger OK" in done and "audit chain OK" in done
        assert "Kept" in shell.cli("merchant", "list")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.mark.parametrize("title", ["## Backup and restore"])
def test_the_section_is_where_operations_point(title: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(title) == 1
    assert "(#backup-and-restore)" in text
    assert "prints the `pg_dump` command to run" not in text  # the old, untrue text
