"""reconciliation: each day's runs against the networks' statements, and their breaks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000

``reconciliation_runs`` holds one row per statement day, network and channel key (a
merchant's direct channel, ``M000001``, or a service-provider account,
``account:LABEL``): when it last ran, its status (``done``, ``statement_not_ready``)
and how many trades matched. ``reconciliation_breaks`` holds what each run found that
did not match (its kind, the trade and refund numbers, the host's payment when there
is one, both amounts) and the operator's decision on it (``resolved_at``,
``resolved_by``, ``resolution``). Both tables start empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("network_code", sa.String(length=64), nullable=True),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_reconciliation_runs_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
        # One run per day, network and channel (it also serves lookups by day).
        sa.UniqueConstraint(
            "day", "network", "channel_key", name=op.f("uq_reconciliation_runs_day")
        ),
    )
    op.create_index(
        op.f("ix_reconciliation_runs_merchant_id"),
        "reconciliation_runs",
        ["merchant_id"],
        unique=False,
    )
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=False),
        sa.Column("refund_no", sa.String(length=64), nullable=True),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("host_amount", sa.BigInteger(), nullable=True),
        sa.Column("network_amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_breaks_run_id_reconciliation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_reconciliation_breaks_payment_id_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_reconciliation_breaks_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
    )
    for column in ("run_id", "payment_id", "merchant_id"):
        op.create_index(
            op.f(f"ix_reconciliation_breaks_{column}"),
            "reconciliation_breaks",
            [column],
            unique=False,
        )


def downgrade() -> None:
    """Downgrade schema."""
    for column in ("merchant_id", "payment_id", "run_id"):
        op.drop_index(
            op.f(f"ix_reconciliation_breaks_{column}"), table_name="reconciliation_breaks"
        )
    op.drop_table("reconciliation_breaks")
    op.drop_index(op.f("ix_reconciliation_runs_merchant_id"), table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
