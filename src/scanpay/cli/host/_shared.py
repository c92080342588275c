"""What every ``scanpay host`` command shares: this invocation's database and operator,
the host context, running a service call (a refusal printed and exit 1), ``--json``.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from scanpay.cli.language import cli_language
from scanpay.host.db.engine import private_folder
from scanpay.host.db.migrate import current_revision, head_revision
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.i18n import Text
from scanpay.money import MoneyError, read_amount

__all__ = [
    "EXIT_REFUSED",
    "NOT_MIGRATED",
    "REFUSED",
    "JsonOption",
    "actor",
    "each",
    "emit",
    "environ",
    "host_context",
    "host_settings",
    "local_time",
    "remember",
    "run",
    "typed_amount",
    "usage",
]

EXIT_REFUSED = 1
T = TypeVar("T")

# A refusal's line keeps the stable code, its name and the field in both languages, so
# whoever reads it can look the code up; only the sentence is the person's language.
REFUSED = Text(
    "已拒绝：{code} {name}{where}：{message}", "refused: {code} {name}{where}: {message}"
)
NOT_MIGRATED = Text(
    "数据库不存在或尚未迁移：请先运行 `scanpay host init`",
    "the database is missing or not migrated: run `scanpay host init` first",
)

JsonOption = typer.Option(False, "--json", help="Print JSON.")
_OPERATOR: dict[str, str] = {}
# --database-url of this invocation; kept here, not put in os.environ, so that a
# command run in-process (tests, `scanpay run`) leaves the process's environment alone.
_DATABASE: dict[str, str] = {}


def remember(database_url: str | None, operator: str | None) -> None:
    """Keep this invocation's ``--database-url`` and ``--operator`` (the group's options)."""
    _DATABASE.clear()
    if database_url:
        _DATABASE["url"] = database_url
    _OPERATOR["name"] = operator or _login_name()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "operator"


def actor() -> audit.Actor:
    """The operator running this command, as the audit trail names them."""
    return audit.Actor.operator(_OPERATOR.get("name") or _login_name())


def environ() -> dict[str, str]:
    """The environment with this invocation's --database-url in it."""
    env = dict(os.environ)
    if "url" in _DATABASE:
        env["SCANPAY_DATABASE_URL"] = _DATABASE["url"]
    return env


def usage(zh: str, en: str) -> NoReturn:
    """A command used wrongly: said in the locale's language, exit 2 (as click does)."""
    typer.echo(Text(zh, en).get(cli_language()), err=True)
    raise typer.Exit(2)


def host_settings() -> HostSettings:
    """The host's settings from the environment (bad ones: a usage error)."""
    try:
        return HostSettings.from_env(environ())
    except ValueError as exc:
        usage(f"设置有误：{exc}", f"bad settings: {exc}")


def local_time(when: datetime, pattern: str = "%H:%M:%S") -> str:
    """A moment in the business day's timezone (``SCANPAY_TIMEZONE``), named: the
    clocks a shop and its operators read, not UTC."""
    zone = host_settings().zone
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # SQLite: naive UTC
    return f"{aware.astimezone(zone).strftime(pattern)} ({zone.key})"


@contextmanager
def host_context(*, migrated: bool = True) -> Iterator[HostContext]:
    """The host's context; with ``migrated``, refused (exit 1) unless the schema is current."""
    settings = host_settings()
    data_dir = Path(settings.data_dir)
    if data_dir.is_dir():  # the master key, backups, settlement files: ours only (0700)
        private_folder(data_dir)
    ctx = HostContext.open(settings)
    try:
        if migrated and current_revision(ctx.db) != head_revision():
            typer.echo(NOT_MIGRATED.get(cli_language()), err=True)
            raise typer.Exit(EXIT_REFUSED)
        yield ctx
    finally:
        ctx.close()


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON with ``--json``, else what ``human`` prints."""
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def run(as_json: bool, action: Callable[[HostContext], T], *, migrated: bool = True) -> T:
    """Run a service call; a refusal is printed (JSON or text) and exits 1."""
    with host_context(migrated=migrated) as ctx:
        try:
            return action(ctx)
        except HostError as exc:
            if as_json:
                typer.echo(
                    json.dumps({"error": exc.to_dict(), "name": exc.name}, ensure_ascii=False)
                )
            else:
                where = f" ({exc.field})" if exc.field else ""
                language = cli_language()
                line = REFUSED.format(
                    code=exc.code, name=exc.name, where=where, message=exc.text.get(language)
                )
                typer.echo(line.get(language), err=True)
            raise typer.Exit(EXIT_REFUSED) from None


def each(items: list[T], show: Callable[[T], None]) -> None:
    """``show`` every item, in order."""
    for item in items:
        show(item)


def typed_amount(text: str, currency: str, field: str) -> int:
    """An amount typed on the command line (zero is a balance or a limit, so allowed)."""
    try:
        return read_amount(text, currency, allow_zero=True, field=field)
    except MoneyError as exc:
        raise HostError("13", exc.text, field=field) from None
