"""Risk: the operator's limits table, and the history the rules need, from the database.

The rules themselves are pure (:mod:`scanpay.host.domain.risk`). Here: reading
and changing the limits (``scanpay host limits``), reading the facts for one
transaction inside its own database transaction, recording failed codes (the
lockout's evidence), and counting rule hits in the metrics.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from scanpay.host.db.models import (
    CodeFailure,
    Payment,
    Refund,
    RiskLimit,
    merchant_public_id,
)
from scanpay.host.domain.payment_state import PaymentState
from scanpay.host.domain.risk import (
    RULES,
    Kind,
    Limit,
    RiskDecision,
    RiskFacts,
    RiskInput,
    RiskOutcome,
    Rule,
    Scope,
    applicable,
    assess,
    resolve_limits,
)
from scanpay.host.domain.settlement import day_bounds
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text

__all__ = [
    "CAPTURED",
    "LimitInfo",
    "evaluate",
    "flagged",
    "list_limits",
    "load_limits",
    "record_failure",
    "set_limit",
    "unset_limit",
]

#: Payment states that hold captured money (for daily totals).
CAPTURED = (
    PaymentState.SUCCESS.value,
    PaymentState.PARTIALLY_REFUNDED.value,
    PaymentState.REFUNDED.value,
)
_PRUNE_FAILURES_EVERY = 3600.0
_KEEP_FAILURES = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """A row of the limits table as the operator sees it."""

    limit: Limit
    updated_at: datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        lim = self.limit
        return {
            "rule": str(lim.rule),
            "scope": str(lim.scope),
            "key": lim.key,
            "value": lim.value,
            "action": str(lim.action),
            "window_seconds": lim.window_seconds,
            "lock_seconds": lim.lock_seconds,
            "unit": RULES[lim.rule].unit,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }


def _to_limit(row: RiskLimit) -> Limit:
    return Limit(
        Rule(row.rule),
        int(row.value),
        RiskOutcome(row.action),
        Scope(row.scope),
        row.key,
        row.window_seconds,
        row.lock_seconds,
    )


_limits_table = RiskLimit.__table__
_LIMIT_ROWS = select(
    _limits_table.c.rule,
    _limits_table.c.value,
    _limits_table.c.action,
    _limits_table.c.scope,
    _limits_table.c.key,
    _limits_table.c.window_seconds,
    _limits_table.c.lock_seconds,
)


@functools.lru_cache(maxsize=4096)
def _limit_of(
    rule: str,
    value: int,
    action: str,
    scope: str,
    key: str,
    window_seconds: int | None,
    lock_seconds: int | None,
) -> Limit:
    """The (immutable) limit a row stands for, made once per distinct row."""
    return Limit(
        Rule(rule),
        int(value),
        RiskOutcome(action),
        Scope(scope),
        key,
        window_seconds,
        lock_seconds,
    )


def load_limits(session: Session) -> list[Limit]:
    """Every row of the table (a few dozen: read whole, per transaction, so a change by
    the operator applies to the next transaction in every host process)."""
    return [_limit_of(*row) for row in session.connection().execute(_LIMIT_ROWS)]


def list_limits(ctx: HostContext) -> list[LimitInfo]:
    with ctx.db.read() as session:
        rows = session.scalars(
            select(RiskLimit).order_by(RiskLimit.rule, RiskLimit.scope, RiskLimit.key)
        )
        return [LimitInfo(_to_limit(r), r.updated_at, r.updated_by) for r in rows]


def _bad(text: str) -> HostError:
    return HostError("30", Text(f"风控限额无效：{text}", f"invalid limit: {text}"), field="limit")


def set_limit(
    ctx: HostContext,
    actor: audit.Actor,
    rule: str,
    value: int,
    *,
    scope: str = "default",
    key: str = "",
    action: str | None = None,
    window_seconds: int | None = None,
    lock_seconds: int | None = None,
) -> LimitInfo:
    """Create or change one row; a change keeps the row's action and windows unless given."""
    try:
        rule_, scope_ = Rule(rule), Scope(scope)
    except ValueError:
        raise _bad(f"unknown rule {rule!r} or scope {scope!r}") from None
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.scalar(
            select(RiskLimit)
            .where(RiskLimit.rule == rule_, RiskLimit.scope == scope_, RiskLimit.key == key)
            .with_for_update()
        )
        before = _to_limit(row).value if row is not None else None
        try:
            limit = Limit(
                rule_,
                value,
                RiskOutcome(action or (row.action if row else RiskOutcome.DECLINE)),
                scope_,
                key,
                window_seconds
                if window_seconds is not None
                else (row.window_seconds if row else None),
                lock_seconds if lock_seconds is not None else (row.lock_seconds if row else None),
            )
        except ValueError as exc:
            raise _bad(str(exc)) from None
        if row is None:
            row = RiskLimit(rule=rule_, scope=scope_, key=key)
            session.add(row)
        row.value, row.action = limit.value, limit.action
        row.window_seconds, row.lock_seconds = limit.window_seconds, limit.lock_seconds
        row.updated_at, row.updated_by = now, str(actor)
        audit.record(
            session,
            now,
            actor,
            "limit.set",
            ("limit", f"{rule_}/{scope_}/{key}"),
            merchant=key if scope_ is Scope.MERCHANT else None,
            before=before,
            value=limit.value,
            outcome=str(limit.action),
            window_seconds=limit.window_seconds,
            lock_seconds=limit.lock_seconds,
        )
        return LimitInfo(limit, now, str(actor))


def unset_limit(ctx: HostContext, actor: audit.Actor, rule: str, scope: str, key: str = "") -> None:
    """Remove one row (a removed default switches its rule off everywhere)."""
    now = ctx.now()
    with ctx.db.write() as session:
        gone = session.execute(
            delete(RiskLimit).where(
                RiskLimit.rule == rule, RiskLimit.scope == scope, RiskLimit.key == key
            )
        )
        if gone.rowcount != 1:  # type: ignore[attr-defined]
            raise HostError("25", Text("没有这条限额", "no such limit"), field="limit")
        audit.record(session, now, actor, "limit.unset", ("limit", f"{rule}/{scope}/{key}"))


def record_failure(ctx: HostContext, session: Session, scope: str, key: str, reason: str) -> None:
    """Remember a payment code the issuer refused (the lockout counts these)."""
    now = ctx.now()
    session.add(CodeFailure(scope=scope, key=key, reason=reason[:16], at=now))
    if ctx.due("prune_code_failures", _PRUNE_FAILURES_EVERY):
        session.execute(delete(CodeFailure).where(CodeFailure.at < now - _KEEP_FAILURES))


def _day(ctx: HostContext, now: datetime) -> tuple[datetime, datetime]:
    zone = ctx.settings.zone
    return day_bounds(now.astimezone(zone).date(), zone)


_pay = Payment.__table__
_refunds = Refund.__table__
_failures = CodeFailure.__table__


def _constants(values: tuple[str, ...]) -> list[ColumnElement[Any]]:
    """Fixed SQL string literals for an ``IN (...)`` (a list of values would be an
    "expanding" parameter, rewritten into the SQL text at every execution)."""
    assert all(v.replace("_", "").isalnum() for v in values)
    return [literal_column(f"'{v}'") for v in values]


_CAPTURED_SQL = _constants(CAPTURED)
_HOLDING_SQL = _constants((*CAPTURED, PaymentState.USER_PAYING.value))


def _captured_sum(*where: Any) -> ScalarSelect[Any]:
    return (
        select(func.coalesce(func.sum(_pay.c.amount), 0))
        .where(
            _pay.c.paid_at >= bindparam("day_start"),
            _pay.c.paid_at < bindparam("day_end"),
            _pay.c.training.is_(False),
            _pay.c.status.in_(_CAPTURED_SQL),
            *where,
        )
        .scalar_subquery()
    )


# Each fact the rules may need, as a scalar subquery with named parameters: the ones a
# transaction needs are read together, in one statement (one round trip).
_FACT_QUERIES: dict[str, ScalarSelect[Any]] = {
    "merchant_day_total": _captured_sum(_pay.c.merchant_id == bindparam("merchant_pk")),
    "wallet_day_total": _captured_sum(_pay.c.wallet_account_id == bindparam("wallet_pk")),
    "terminal_recent": select(func.count())
    .where(
        _pay.c.terminal_id == bindparam("terminal_pk"),
        _pay.c.tombstone.is_(False),
        _pay.c.created_at > bindparam("velocity_since"),
        _pay.c.id != bindparam("exclude_payment"),
    )
    .scalar_subquery(),
    # How many failed codes there are: their times are read only when there are any.
    "failure_count": select(func.count())
    .where(
        _failures.c.scope == bindparam("failure_scope"),
        _failures.c.key == bindparam("failure_key"),
        _failures.c.at >= bindparam("failures_since"),
    )
    .scalar_subquery(),
    "duplicates": select(func.count())
    .where(
        _pay.c.terminal_id == bindparam("terminal_pk"),
        _pay.c.wallet_account_id == bindparam("wallet_pk"),
        _pay.c.amount == bindparam("amount"),
        _pay.c.status.in_(_HOLDING_SQL),
        _pay.c.created_at > bindparam("duplicate_since"),
    )
    .scalar_subquery(),
    "day_refunds": select(func.coalesce(func.sum(_refunds.c.amount), 0))
    .where(
        _refunds.c.merchant_id == bindparam("merchant_pk"),
        _refunds.c.status == "SUCCESS",
        _refunds.c.training.is_(False),
        _refunds.c.created_at >= bindparam("day_start"),
        _refunds.c.created_at < bindparam("day_end"),
    )
    .scalar_subquery(),
}
_FAILURE_TIMES = select(_failures.c.at).where(
    _failures.c.scope == bindparam("failure_scope"),
    _failures.c.key == bindparam("failure_key"),
    _failures.c.at >= bindparam("failures_since"),
)
_fact_statements: dict[tuple[str, ...], Select[Any]] = {}


def _facts_statement(names: tuple[str, ...]) -> Select[Any]:
    """One SELECT of the named facts (built once per combination)."""
    statement = _fact_statements.get(names)
    if statement is None:
        statement = select(*(_FACT_QUERIES[name].label(name) for name in names))
        _fact_statements[names] = statement
    return statement


def _facts(
    ctx: HostContext,
    session: Session,
    tx: RiskInput,
    rules: dict[Rule, Limit],
    *,
    merchant_pk: int,
    terminal_pk: int | None,
    wallet_pk: int | None,
    failure_scope: tuple[str, str] | None,
    exclude_payment: int | None,
) -> RiskFacts:
    """Only the history the active ``rules`` need, read in one statement."""
    now = tx.now
    start, end = _day(ctx, now)
    names: list[str] = []
    params: dict[str, Any] = {
        "day_start": start,
        "day_end": end,
        "merchant_pk": merchant_pk,
        "terminal_pk": terminal_pk,
        "wallet_pk": wallet_pk,
        "amount": tx.amount,
    }
    if Rule.DAILY_AMOUNT in rules or Rule.REFUND_SHARE in rules:
        names.append("merchant_day_total")
    if Rule.WALLET_DAILY_AMOUNT in rules and wallet_pk is not None:
        names.append("wallet_day_total")
    if Rule.VELOCITY in rules and terminal_pk is not None:
        window = rules[Rule.VELOCITY].window_seconds or 60
        names.append("terminal_recent")
        params["velocity_since"] = now - timedelta(seconds=window)
        params["exclude_payment"] = exclude_payment or 0
    if Rule.FAILED_CODES in rules and failure_scope is not None:
        limit = rules[Rule.FAILED_CODES]
        assert limit.window_seconds is not None and limit.lock_seconds is not None
        names.append("failure_count")
        params["failures_since"] = now - timedelta(
            seconds=limit.window_seconds + limit.lock_seconds
        )
        params["failure_scope"], params["failure_key"] = failure_scope
    if Rule.DUPLICATE in rules and terminal_pk is not None and wallet_pk is not None:
        window = rules[Rule.DUPLICATE].window_seconds or 120
        names.append("duplicates")
        params["duplicate_since"] = now - timedelta(seconds=window)
    if Rule.REFUND_SHARE in rules:
        names.append("day_refunds")
    if not names:
        return RiskFacts()
    row = session.connection().execute(_facts_statement(tuple(names)), params).one()
    read = {name: int(value or 0) for name, value in zip(names, row, strict=True)}
    values: dict[str, Any] = {}
    if "merchant_day_total" in read:
        values["merchant_day_total"] = values["day_sales"] = read["merchant_day_total"]
    for name in ("wallet_day_total", "terminal_recent", "duplicates", "day_refunds"):
        if name in read:
            values[name] = read[name]
    if read.get("failure_count"):
        values["failures"] = tuple(session.connection().execute(_FAILURE_TIMES, params).scalars())
    elif "failure_count" in read:
        values["failures"] = ()
    return RiskFacts(**values)


def evaluate(
    ctx: HostContext,
    session: Session,
    *,
    kind: Kind,
    merchant_pk: int,
    merchant_id: str,
    mcc: str,
    amount: int,
    training: bool = False,
    terminal_pk: int | None = None,
    terminal_id: str | None = None,
    wallet_pk: int | None = None,
    wallet: str | None = None,
    exclude_payment: int | None = None,
) -> RiskDecision:
    """Assess one transaction against the limits, in the caller's transaction.

    The failed-code lockout is per terminal for payments and per wallet account
    for order payments (which no terminal sends). ``exclude_payment`` is the row the
    transaction itself already claimed, so that it does not count as its own history.
    """
    tx = RiskInput(kind, merchant_id, mcc, amount, ctx.now(), terminal_id, wallet, training)
    limits = resolve_limits(
        load_limits(session),
        merchant_id=merchant_id,
        mcc=mcc,
        terminal_id=terminal_id,
        wallet=wallet,
    )
    rules = applicable(tx, limits)
    failure_scope: tuple[str, str] | None = None
    if kind is Kind.PAYMENT and terminal_id is not None:
        failure_scope = ("terminal", terminal_id)
    elif kind is Kind.ORDER_PAYMENT and wallet is not None:
        failure_scope = ("wallet", wallet)
    facts = _facts(
        ctx,
        session,
        tx,
        rules,
        merchant_pk=merchant_pk,
        terminal_pk=terminal_pk,
        wallet_pk=wallet_pk,
        failure_scope=failure_scope,
        exclude_payment=exclude_payment,
    )
    decision = assess(tx, facts, rules)
    for result in decision.results:
        if result.outcome is not RiskOutcome.APPROVE:
            ctx.metrics.rule_hit(str(result.rule), str(result.outcome))
    return decision


def flagged(ctx: HostContext, limit: int = 50) -> list[dict[str, Any]]:
    """Payments and refunds a rule flagged for review, newest first."""
    with ctx.db.read() as session:
        pays = session.execute(
            select(Payment)
            .where(Payment.risk_flags.is_not(None))
            .order_by(Payment.created_at.desc())
            .limit(limit)
        ).scalars()
        items = [
            {
                "kind": "payment",
                "id": p.public_id,
                "merchant_id": merchant_public_id(p.merchant_id),
                "number": p.out_trade_no,
                "amount": p.amount,
                "currency": p.currency,
                "status": p.status,
                "flags": p.risk_flags,
                "created_at": p.created_at.isoformat(),
            }
            for p in pays
        ]
        refunds = session.execute(
            select(Refund)
            .where(Refund.risk_flags.is_not(None))
            .order_by(Refund.created_at.desc())
            .limit(limit)
        ).scalars()
        items += [
            {
                "kind": "refund",
                "id": r.public_id,
                "merchant_id": merchant_public_id(r.merchant_id),
                "number": r.out_refund_no,
                "amount": r.amount,
                "currency": r.currency,
                "status": r.status,
                "flags": r.risk_flags,
                "created_at": r.created_at.isoformat(),
            }
            for r in refunds
        ]
    items.sort(key=lambda i: str(i["created_at"]), reverse=True)
    return items[:limit]
