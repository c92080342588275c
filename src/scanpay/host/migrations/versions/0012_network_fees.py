"""network fees: what each reconciled statement's fees booked

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 01:00:00.000000

``reconciliation_runs.fees`` holds the network's fees of the run's statement that
were booked to the ledger (JSON, per currency), so that a day reconciled again
books only the difference. NULL for the runs before it, which booked none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("reconciliation_runs") as batch:
        batch.add_column(sa.Column("fees", sa.String(length=256), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reconciliation_runs") as batch:
        batch.drop_column("fees")
