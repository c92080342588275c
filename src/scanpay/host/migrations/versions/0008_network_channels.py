"""network channels: the acquirer's network accounts and each merchant's channels

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:30:00.000000

``network_accounts`` holds the acquirer's own accounts at a payment network
(service-provider mode: app id, merchant id, and the secrets as one JSON object
sealed under the master key, ``enc2``); ``merchant_channels`` holds each
merchant's channel to a network, one per merchant and network: under an account
as a sub-merchant (``sub_mch_id``, ``sub_app_id``), or direct with its own app id,
merchant id and sealed secrets. Both tables start empty, so nothing is sealed here
(a migration has no key): ``scanpay host channel`` writes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "network_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("mch_id", sa.String(length=64), nullable=False),
        sa.Column("secrets_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_accounts")),
        sa.UniqueConstraint("label", name=op.f("uq_network_accounts_label")),
    )
    op.create_table(
        "merchant_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("mch_id", sa.String(length=64), nullable=True),
        sa.Column("sub_mch_id", sa.String(length=64), nullable=True),
        sa.Column("sub_app_id", sa.String(length=64), nullable=True),
        sa.Column("secrets_sealed", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["network_accounts.id"],
            name=op.f("fk_merchant_channels_account_id_network_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_merchant_channels_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_channels")),
        # One channel per merchant and network (it also serves lookups by merchant).
        sa.UniqueConstraint(
            "merchant_id", "network", name=op.f("uq_merchant_channels_merchant_id")
        ),
    )
    # Removing an account asks which channels still hang under it.
    op.create_index(
        op.f("ix_merchant_channels_account_id"), "merchant_channels", ["account_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_merchant_channels_account_id"), table_name="merchant_channels")
    op.drop_table("merchant_channels")
    op.drop_table("network_accounts")
