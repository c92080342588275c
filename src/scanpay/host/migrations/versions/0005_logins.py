"""logins: the wallet page's login throttle, and wallet sessions that can be ended

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 12:00:00.000000

``wallet_login_throttles`` holds the wallet page's login throttle, one row per
client address and per account number tried (known or not): failures in a row
and until when the next try waits (``scanpay.host.domain.pin.LoginDelays``).
``wallet_accounts.session_epoch`` numbers an account's generation of wallet page
sessions: a session carries the number it was issued under, and a logout, a PIN
lock or a PIN change moves it on, which ends every older session at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "wallet_login_throttles",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_wallet_login_throttles")),
    )
    op.create_index(
        op.f("ix_wallet_login_throttles_last_at"),
        "wallet_login_throttles",
        ["last_at"],
        unique=False,
    )
    # A server default, so the rows already there start at generation 0 (SQLite adds a
    # NOT NULL column only with one).
    op.add_column(
        "wallet_accounts",
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column("wallet_accounts", "session_epoch")
    op.drop_index(op.f("ix_wallet_login_throttles_last_at"), table_name="wallet_login_throttles")
    op.drop_table("wallet_login_throttles")
