"""limits per currency: every amount limit is in one ISO 4217 currency

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 10:00:00.000000

``risk_limits`` gets a ``currency`` column, part of its unique key (rule, scope,
key, currency). Existing rows keep the meaning they always had:

- counts and shares (``velocity``, ``failed_codes``, ``duplicate``,
  ``refund_share``) have no currency (``""``);
- an amount row for a merchant, terminal or wallet account is in that party's
  currency (a terminal's is its merchant's): that is the only currency it was
  ever compared with, since a merchant takes and a wallet pays in one currency;
- every other amount row (the defaults, the MCC classes, a party that does not
  exist) is CNY: the shipped limits were CNY fen (migration 0002) and CNY is the
  default currency of merchants and wallets.

Then the shipped amount limits of the other currencies are added, each in its own
minor units and worth about the same as the CNY ones (one "unit" is about 1 000
CNY; see ``scanpay.host.domain.risk.CURRENCY_UNITS``), but only for the default
and MCC-class rows the operator kept in CNY, with the action the operator gave
them: a default the operator removed (the rule switched off) stays removed in
every currency. Frozen here on purpose, like 0002's: a migration must not change
meaning when the code's defaults change later.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The currency the limits of migration 0002 were written in.
SHIPPED_CURRENCY = "CNY"
AMOUNT_RULES = ("txn_amount", "daily_amount", "wallet_txn_amount", "wallet_daily_amount")

#: currency -> (one unit in major units, ISO 4217 exponent); a unit is about 1 000 CNY.
UNITS = {
    "AED": (500, 2),
    "AUD": (200, 2),
    "BRL": (800, 2),
    "CAD": (200, 2),
    "CHF": (100, 2),
    "CNY": (1_000, 2),
    "EUR": (150, 2),
    "GBP": (100, 2),
    "HKD": (1_000, 2),
    "IDR": (2_000_000, 2),
    "INR": (12_000, 2),
    "JPY": (20_000, 0),
    "KHR": (500_000, 2),
    "KRW": (200_000, 0),
    "KWD": (40, 3),
    "MOP": (1_000, 2),
    "MYR": (600, 2),
    "PHP": (8_000, 2),
    "SAR": (500, 2),
    "SGD": (200, 2),
    "THB": (5_000, 2),
    "TWD": (5_000, 2),
    "USD": (150, 2),
    "VND": (3_000_000, 0),
}

#: (rule, scope, key) -> units: for CNY exactly the amount limits of migration 0002.
SHIPPED = {
    ("txn_amount", "default", ""): 50,
    ("txn_amount", "mcc_class", "restaurant"): 10,
    ("txn_amount", "mcc_class", "high_risk"): 5,
    ("daily_amount", "default", ""): 500,
    ("daily_amount", "mcc_class", "high_risk"): 50,
    ("wallet_txn_amount", "default", ""): 20,
    ("wallet_daily_amount", "default", ""): 50,
}

_limits = sa.table(
    "risk_limits",
    sa.column("id", sa.Integer()),
    sa.column("rule", sa.String()),
    sa.column("scope", sa.String()),
    sa.column("key", sa.String()),
    sa.column("currency", sa.String()),
    sa.column("value", sa.BigInteger()),
    sa.column("action", sa.String()),
    sa.column("window_seconds", sa.Integer()),
    sa.column("lock_seconds", sa.Integer()),
    sa.column("updated_at", sa.DateTime()),
    sa.column("updated_by", sa.String()),
)
_merchants = sa.table(
    "merchants", sa.column("id", sa.Integer()), sa.column("currency", sa.String())
)
_terminals = sa.table(
    "terminals", sa.column("id", sa.Integer()), sa.column("merchant_id", sa.Integer())
)
_wallets = sa.table(
    "wallet_accounts", sa.column("number", sa.String()), sa.column("currency", sa.String())
)


def _pk(key: str, letter: str) -> int | None:
    """The primary key behind ``M000123`` / ``T000123`` (None when the key is not one)."""
    if len(key) < 2 or len(key) > 16 or key[0] != letter or not key[1:].isdigit():
        return None
    return int(key[1:])


def _party_currency(conn: sa.Connection, scope: str, key: str) -> str | None:
    """The currency of the merchant, terminal (its merchant) or wallet a row is for."""
    if scope == "merchant" and (pk := _pk(key, "M")) is not None:
        query = sa.select(_merchants.c.currency).where(_merchants.c.id == pk)
    elif scope == "terminal" and (pk := _pk(key, "T")) is not None:
        query = (
            sa.select(_merchants.c.currency)
            .select_from(_terminals.join(_merchants, _merchants.c.id == _terminals.c.merchant_id))
            .where(_terminals.c.id == pk)
        )
    elif scope == "wallet":
        query = sa.select(_wallets.c.currency).where(_wallets.c.number == key)
    else:
        return None
    found: str | None = conn.execute(query).scalar()
    return found


def upgrade() -> None:
    """Upgrade schema, then give every row its currency and add the shipped defaults."""
    conn = op.get_bind()
    op.add_column("risk_limits", sa.Column("currency", sa.String(length=3), nullable=True))
    rows = conn.execute(sa.select(_limits.c.id, _limits.c.rule, _limits.c.scope, _limits.c.key))
    for pk, rule, scope, key in rows.all():
        currency = ""
        if rule in AMOUNT_RULES:
            currency = _party_currency(conn, scope, key) or SHIPPED_CURRENCY
        conn.execute(_limits.update().where(_limits.c.id == pk).values(currency=currency))
    # SQLite alters a column or a unique constraint by rebuilding the table (nothing
    # references risk_limits, so the rebuild is safe with foreign keys on).
    with op.batch_alter_table("risk_limits") as batch:
        batch.alter_column("currency", existing_type=sa.String(length=3), nullable=False)
        batch.drop_constraint("uq_risk_limits_rule", type_="unique")
        batch.create_unique_constraint(
            op.f("uq_risk_limits_rule"), ["rule", "scope", "key", "currency"]
        )

    kept = {
        (rule, scope, key): action
        for rule, scope, key, action in conn.execute(
            sa.select(_limits.c.rule, _limits.c.scope, _limits.c.key, _limits.c.action).where(
                _limits.c.currency == SHIPPED_CURRENCY,
                _limits.c.scope.in_(("default", "mcc_class")),
            )
        ).all()
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    seeded = [
        {
            "rule": rule,
            "scope": scope,
            "key": key,
            "currency": currency,
            "value": units * unit * 10**exponent,
            "action": kept[(rule, scope, key)],
            "window_seconds": None,
            "lock_seconds": None,
            "updated_at": now,
            "updated_by": "migration 0004",
        }
        for currency, (unit, exponent) in UNITS.items()
        if currency != SHIPPED_CURRENCY
        for (rule, scope, key), units in SHIPPED.items()
        if (rule, scope, key) in kept
    ]
    if seeded:
        op.bulk_insert(_limits, seeded)


def downgrade() -> None:
    """Downgrade schema: one row per (rule, scope, key) again, the CNY one where there
    are several (the limits of other currencies are dropped)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            _limits.c.id, _limits.c.rule, _limits.c.scope, _limits.c.key, _limits.c.currency
        ).order_by(_limits.c.id)
    ).all()
    keep: dict[tuple[str, str, str], tuple[int, str]] = {}
    for pk, rule, scope, key, currency in rows:
        best = keep.get((rule, scope, key))
        if best is None or (currency == SHIPPED_CURRENCY and best[1] != SHIPPED_CURRENCY):
            keep[(rule, scope, key)] = (pk, currency)
    kept = {pk for pk, _ in keep.values()}
    gone = [pk for pk, *_ in rows if pk not in kept]
    if gone:
        conn.execute(_limits.delete().where(_limits.c.id.in_(gone)))
    with op.batch_alter_table("risk_limits") as batch:
        batch.drop_constraint("uq_risk_limits_rule", type_="unique")
        batch.create_unique_constraint(op.f("uq_risk_limits_rule"), ["rule", "scope", "key"])
        batch.drop_column("currency")
