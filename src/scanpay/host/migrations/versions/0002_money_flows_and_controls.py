"""money flows and controls: refunds, orders, audit trail, risk limits, settlement

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:37:27.677748

Besides the tables, this revision installs the database triggers that make
``audit_log`` append-only (UPDATE, DELETE and, on PostgreSQL, TRUNCATE are
refused) and keep ``audit_head`` from moving backwards, seeds the chain head,
and seeds the default risk limits (changed later with ``scanpay host limits``).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64

# (rule, scope, key, value, action, window_seconds, lock_seconds). Amounts are
# minor units (CNY fen). Frozen here on purpose: a migration must not change
# meaning when the code's defaults change later.
DEFAULT_LIMITS = [
    ("failed_codes", "default", "", 5, "decline", 300, 900),
    ("velocity", "default", "", 30, "decline", 60, None),
    ("txn_amount", "default", "", 5_000_000, "decline", None, None),
    ("txn_amount", "mcc_class", "restaurant", 1_000_000, "decline", None, None),
    ("txn_amount", "mcc_class", "high_risk", 500_000, "decline", None, None),
    ("daily_amount", "default", "", 50_000_000, "decline", None, None),
    ("daily_amount", "mcc_class", "high_risk", 5_000_000, "decline", None, None),
    ("wallet_txn_amount", "default", "", 2_000_000, "decline", None, None),
    ("wallet_daily_amount", "default", "", 5_000_000, "decline", None, None),
    ("duplicate", "default", "", 1, "review", 120, None),
    ("refund_share", "default", "", 500_000, "review", None, None),
]

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
       WHEN NEW.seq < OLD.seq
       BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
]

_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION scanpay_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION scanpay_audit_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION scanpay_audit_append_only()""",
    """CREATE FUNCTION scanpay_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN
           RAISE EXCEPTION 'audit_head only moves forward' USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
       FOR EACH ROW EXECUTE FUNCTION scanpay_audit_head_forward()""",
]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.String(length=16), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_merchant", "audit_log", ["merchant_id", "seq"], unique=False)
    op.create_index(
        "ix_audit_log_subject", "audit_log", ["subject_kind", "subject_id"], unique=False
    )
    op.create_table(
        "code_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_failures")),
    )
    op.create_index(
        "ix_code_failures_scope_key_at", "code_failures", ["scope", "key", "at"], unique=False
    )
    risk_limits = op.create_table(
        "risk_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("lock_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_limits")),
        sa.UniqueConstraint("rule", "scope", "key", name=op.f("uq_risk_limits_rule")),
    )
    op.create_table(
        "batch_closes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("terminal_totals", sa.Text(), nullable=False),
        sa.Column("host_totals", sa.Text(), nullable=False),
        sa.Column("differences", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_batch_closes_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_batch_closes_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_closes")),
    )
    op.create_index(
        "ix_batch_closes_merchant_date",
        "batch_closes",
        ["merchant_id", "business_date"],
        unique=False,
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("payer", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_orders_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_orders_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_orders_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("merchant_id", "out_trade_no", name=op.f("uq_orders_merchant_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_orders_public_id")),
    )
    op.create_index("ix_orders_status_expires", "orders", ["status", "expires_at"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("out_refund_no", sa.String(length=32), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("decline_reason", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=128), nullable=True),
        sa.Column("approved_by", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("training", sa.Boolean(), nullable=False),
        sa.Column("risk_flags", sa.String(length=128), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_refunds_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_refunds_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_refunds_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("merchant_id", "out_refund_no", name=op.f("uq_refunds_merchant_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_refunds_public_id")),
    )
    op.create_index(
        "ix_refunds_merchant_created", "refunds", ["merchant_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"], unique=False)
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee_rate_ppm", sa.Integer(), nullable=False),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.Column("payment_total", sa.BigInteger(), nullable=False),
        sa.Column("refund_count", sa.Integer(), nullable=False),
        sa.Column("refund_total", sa.BigInteger(), nullable=False),
        sa.Column("reversal_count", sa.Integer(), nullable=False),
        sa.Column("reversal_total", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_settlements_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_settlements_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint(
            "merchant_id", "business_date", name=op.f("uq_settlements_merchant_id")
        ),
    )
    op.create_table(
        "settlement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("out_refund_no", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_lines_settlement_id_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_lines")),
    )
    op.create_index(
        op.f("ix_settlement_lines_settlement_id"),
        "settlement_lines",
        ["settlement_id"],
        unique=False,
    )
    op.add_column("payments", sa.Column("risk_flags", sa.String(length=128), nullable=True))
    op.create_index(
        "ix_payments_merchant_paid", "payments", ["merchant_id", "paid_at"], unique=False
    )
    op.create_index(
        "ix_payments_terminal_created", "payments", ["terminal_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_payments_wallet_paid", "payments", ["wallet_account_id", "paid_at"], unique=False
    )
    op.create_index(
        "ix_payments_status_deadline", "payments", ["status", "pin_deadline"], unique=False
    )
    # New columns rather than wider old ones: SQLite cannot alter a column in place, and
    # rebuilding tables that others reference is not safe with foreign keys on.
    op.add_column("terminal_keys", sa.Column("key_sealed", sa.String(length=160), nullable=True))
    op.add_column(
        "wallet_accounts", sa.Column("secret_sealed", sa.String(length=160), nullable=True)
    )

    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        risk_limits,
        [
            {
                "rule": rule,
                "scope": scope,
                "key": key,
                "value": value,
                "action": action,
                "window_seconds": window,
                "lock_seconds": lock,
                "updated_at": now,
                "updated_by": "migration 0002",
            }
            for rule, scope, key, value, action, window, lock in DEFAULT_LIMITS
        ],
    )
    op.execute(
        sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(
            genesis=GENESIS
        )
    )
    triggers = (
        _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    )
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema (the audit trail is dropped with its triggers)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS scanpay_audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS scanpay_audit_head_forward()")
    else:
        for name in (
            "audit_log_no_update",
            "audit_log_no_delete",
            "audit_head_forward",
            "audit_head_no_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_column("wallet_accounts", "secret_sealed")
    op.drop_column("terminal_keys", "key_sealed")
    op.drop_index("ix_payments_status_deadline", table_name="payments")
    op.drop_index("ix_payments_wallet_paid", table_name="payments")
    op.drop_index("ix_payments_terminal_created", table_name="payments")
    op.drop_index("ix_payments_merchant_paid", table_name="payments")
    op.drop_column("payments", "risk_flags")
    op.drop_index(op.f("ix_settlement_lines_settlement_id"), table_name="settlement_lines")
    op.drop_table("settlement_lines")
    op.drop_table("settlements")
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_index("ix_refunds_merchant_created", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_orders_status_expires", table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_batch_closes_merchant_date", table_name="batch_closes")
    op.drop_table("batch_closes")
    op.drop_table("risk_limits")
    op.drop_index("ix_code_failures_scope_key_at", table_name="code_failures")
    op.drop_table("code_failures")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_index("ix_audit_log_merchant", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
