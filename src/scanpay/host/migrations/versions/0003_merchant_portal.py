"""merchant portal: users, sessions, login throttle, applications, terminal self-tests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:32:13.483283

The merchant portal's tables (``portal_users``, ``portal_sessions``,
``portal_login_attempts``), the public applications for acquiring
(``merchant_applications``), the terminals' latest self-test reports
(``terminal_selftests``), and two indexes for the portal's lists: payments by
merchant and amount (keyset pagination when sorted by amount; by time it is
``ix_payments_merchant_created``) and orders by merchant and time; and two for
settlement at volume (ledger entries by time, refunds by ledger entry).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "portal_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login_attempts")),
    )
    op.create_index(
        "ix_portal_login_attempts_address_at",
        "portal_login_attempts",
        ["address", "at"],
        unique=False,
    )
    op.create_index(
        "ix_portal_login_attempts_email_at", "portal_login_attempts", ["email", "at"], unique=False
    )
    op.create_table(
        "merchant_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("company_name", sa.String(length=64), nullable=False),
        sa.Column("shop_name", sa.String(length=25), nullable=False),
        sa.Column("license", sa.String(length=18), nullable=False),
        sa.Column("legal_representative", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("city", sa.String(length=15), nullable=False),
        sa.Column("address", sa.String(length=128), nullable=False),
        sa.Column("mcc", sa.String(length=4), nullable=False),
        sa.Column("monthly_volume", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("terminal_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("codes_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_applications_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_applications")),
        sa.UniqueConstraint("reference", name=op.f("uq_merchant_applications_reference")),
    )
    op.create_index(
        op.f("ix_merchant_applications_license"), "merchant_applications", ["license"], unique=False
    )
    op.create_index(
        "ix_merchant_applications_status_created",
        "merchant_applications",
        ["status", "created_at"],
        unique=False,
    )
    op.create_table(
        "portal_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["merchant_applications.id"],
            name=op.f("fk_portal_users_application_id_merchant_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_portal_users_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_users")),
        sa.UniqueConstraint("email", name=op.f("uq_portal_users_email")),
    )
    op.create_index(
        op.f("ix_portal_users_merchant_id"), "portal_users", ["merchant_id"], unique=False
    )
    op.create_table(
        "terminal_selftests",
        sa.Column("terminal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("pending_reversals", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.id"],
            name=op.f("fk_terminal_selftests_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_selftests")),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["portal_users.id"], name=op.f("fk_portal_sessions_user_id_portal_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_portal_sessions_token_digest")),
    )
    op.create_index(
        op.f("ix_portal_sessions_expires_at"), "portal_sessions", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_portal_sessions_user_id"), "portal_sessions", ["user_id"], unique=False
    )
    op.create_index(
        "ix_orders_merchant_created", "orders", ["merchant_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_payments_merchant_amount", "payments", ["merchant_id", "amount", "id"], unique=False
    )
    # Settlement of one day: its entries by time, and each entry's refund (without these it
    # scanned every refund for every posting of the merchant's clearing account).
    op.create_index("ix_ledger_entries_created_at", "ledger_entries", ["created_at"], unique=False)
    op.create_index(op.f("ix_refunds_entry_id"), "refunds", ["entry_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_refunds_entry_id"), table_name="refunds")
    op.drop_index("ix_ledger_entries_created_at", table_name="ledger_entries")
    op.drop_index("ix_payments_merchant_amount", table_name="payments")
    op.drop_index("ix_orders_merchant_created", table_name="orders")
    op.drop_index(op.f("ix_portal_sessions_user_id"), table_name="portal_sessions")
    op.drop_index(op.f("ix_portal_sessions_expires_at"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_table("terminal_selftests")
    op.drop_index(op.f("ix_portal_users_merchant_id"), table_name="portal_users")
    op.drop_table("portal_users")
    op.drop_index("ix_merchant_applications_status_created", table_name="merchant_applications")
    op.drop_index(op.f("ix_merchant_applications_license"), table_name="merchant_applications")
    op.drop_table("merchant_applications")
    op.drop_index("ix_portal_login_attempts_email_at", table_name="portal_login_attempts")
    op.drop_index("ix_portal_login_attempts_address_at", table_name="portal_login_attempts")
    op.drop_table("portal_login_attempts")
