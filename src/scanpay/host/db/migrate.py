"""Schema migrations (Alembic), run from code: ``scanpay host init`` and ``serve``.

The Alembic environment lives in :mod:`scanpay.host.migrations`; no
``alembic.ini`` is needed. On PostgreSQL an advisory lock makes concurrent
starts of several host processes take turns; on SQLite ``BEGIN IMMEDIATE``
does the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from scanpay.host.db.engine import Database

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_ID = 0x5CA9_0001  # any constant, the same in every host process


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: empty)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Create or migrate the schema up to ``revision``; returns the revision reached."""
    config = alembic_config()
    with db.write() as session:
        conn = session.connection()
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(db)
