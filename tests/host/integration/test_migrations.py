"""The migrations build exactly the schema the ORM models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from host.kit import RunningHost
from scanpay.host.db.migrate import current_revision, head_revision, upgrade
from scanpay.host.db.models import Base


def test_schema_matches_the_models(host: RunningHost) -> None:
    db = host.ctx.db
    assert current_revision(db) == head_revision()
    assert upgrade(db) == head_revision()  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
