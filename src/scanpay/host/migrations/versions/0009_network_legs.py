"""network legs: a payment's journey through a payment network, journaled

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:30:00.000000

``payments.network`` names the network a payment was routed to (``wechat_pay``;
NULL for the built-in wallet). ``network_legs`` journals each routed payment's leg
(``scanpay.networks.leg``) before the host acts on it: its network trade number, its
status, the leg itself as JSON, when it next needs attention (``next_at``) and until
when a host process is making a call for it (``lease_until``). The sweeper finds
due and abandoned legs by ``next_at``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("payments", sa.Column("network", sa.String(length=32), nullable=True))
    op.create_table(
        "network_legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("trade_no", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("leg", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_network_legs_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_legs")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_network_legs_payment_id")),
        sa.UniqueConstraint("network", "trade_no", name=op.f("uq_network_legs_network")),
    )
    op.create_index(op.f("ix_network_legs_next_at"), "network_legs", ["next_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_network_legs_next_at"), table_name="network_legs")
    op.drop_table("network_legs")
    op.drop_column("payments", "network")
