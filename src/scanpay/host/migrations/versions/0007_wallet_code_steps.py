"""wallet code steps: every code the host issues is of a time step of its own

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:00:00.000000

``wallet_accounts.step_issued`` is the latest time step a code of the account was
issued for (``scanpay host wallet code``, the demo). The host takes one code per
account and step, so two codes issued in one step were the same code, and the second
was refused as used; the next code now goes to the next step (the host accepts codes
up to two steps ahead).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # A plain ADD COLUMN (SQLite takes a NOT NULL column only with a default).
    op.add_column(
        "wallet_accounts",
        sa.Column("step_issued", sa.BigInteger(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("wallet_accounts", "step_issued")
