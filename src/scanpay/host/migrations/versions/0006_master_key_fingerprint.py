"""master key fingerprint: the database knows which master key its secrets are sealed under

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20 10:00:00.000000

``host_keys`` holds one row (``name`` "master") with the fingerprint of the master
key (``scanpay.host.domain.sealing.key_fingerprint``: HKDF of the key under its own
label, never the key). The row is written by the host when it first uses a key with
the database (``scanpay host init``/``serve``, after checking that the key opens a
value already sealed, if there is one), not here: a migration has no key. The
sealed values of earlier formats (plain text, ``enc1``) are converted to ``enc2`` at
the same moment, by the code, for the same reason.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "host_keys",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_host_keys")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("host_keys")
