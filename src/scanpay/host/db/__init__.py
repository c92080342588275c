"""The host's storage adapter: engines, tables, migrations."""

from scanpay.host.db.engine import Database, make_engine
from scanpay.host.db.migrate import current_revision, head_revision, upgrade

__all__ = ["Database", "current_revision", "head_revision", "make_engine", "upgrade"]
