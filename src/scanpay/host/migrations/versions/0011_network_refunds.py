"""network refunds: a refund of a routed payment, journaled at its network

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:00:00.000000

A refund of a payment taken through a payment network goes back through that
network. ``network_refunds`` journals each such refund before every call: the
network's word so far (``status``), the call to make next (``call``: the refund
again, idempotent on its number, or a query), how many calls were made, the
network's own refund id and code, when it next needs a call (``next_at``) and until
when a host process is making one (``lease_until``). It starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "network_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("call", sa.String(length=8), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("network_code", sa.String(length=64), nullable=True),
        sa.Column("network_refund_id", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_network_refunds_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_network_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_refunds")),
        sa.UniqueConstraint("refund_id", name=op.f("uq_network_refunds_refund_id")),
    )
    op.create_index(
        op.f("ix_network_refunds_next_at"), "network_refunds", ["next_at"], unique=False
    )
    op.create_index(
        op.f("ix_network_refunds_payment_id"), "network_refunds", ["payment_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_network_refunds_payment_id"), table_name="network_refunds")
    op.drop_index(op.f("ix_network_refunds_next_at"), table_name="network_refunds")
    op.drop_table("network_refunds")
