"""Risk: the operator's limits table, and the history the rules need, from the database.

The rules themselves are pure (:mod:`scanpay.host.domain.risk`). Here: reading
and changing the limits (``scanpay host limits``), reading the facts for one
transaction inside its own database transaction, recording failed codes (the
lockout's evidence), and counting rule hits in the metrics.

An amount limit is set in one currency (:func:`set_limit`): for a merchant,
terminal or wallet account it is that party's own currency (given or not); for
everyone or an MCC class it must be given. The facts are sums in the
transaction's currency only.
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
    Merchant,
    Payment,
    Refund,
    RiskLimit,
    Terminal,
    WalletAccount,
    merchant_public_id,
    parse_public_id,
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
from scanpay.money import MoneyError, format_amount, get_currency

__all__ = [
    "CAPTURED",
    "LimitInfo",
    "evaluate",
    "flagged",
    "limit_currency",
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
_PRICED = tuple(rule for rule, spec in RULES.items() if spec.priced)
_PRUNE_FAILURES_EVERY = 3600.0
_KEEP_FAILURES = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """A row of the limits table as the operator sees it."""

    limit: Limit
    updated_at: datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON: ``value`` in minor units of ``currency`` (amount rules; ""
        for counts), and ``shown``, the value as a person reads it ("2000.000 KWD")."""
        lim = self.limit
        shown = (
            f"{format_amount(lim.value, lim.currency)} {lim.currency}"
            if lim.currency
            else str(lim.value)
        )
        return {
            "rule": str(lim.rule),
            "scope": str(lim.scope),
            "key": lim.key,
            "currency": lim.currency,
            "value": lim.value,
            "shown": shown,
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
        row.currency,
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
    _limits_table.c.currency,
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
    currency: str,
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
        currency,
    )


_c = _limits_table.c
# The rows a transaction in one currency compares with: counts and its currency's amounts
# (a couple of dozen of the table's ~170 shipped rows).
_LIMITS_IN = _LIMIT_ROWS.where(_c.currency.in_((literal_column("''"), bindparam("currency"))))


def load_limits(session: Session, currency: str | None = None) -> list[Limit]:
    """The rows of the table, read per transaction so that a change by the operator
    applies to the next transaction in every host process: all of them, or only the
    ones a transaction in ``currency`` compares with (counts, and amounts in it)."""
    conn = session.connection()
    if currency is None:
        return [_limit_of(*row) for row in conn.execute(_LIMIT_ROWS)]
    return [_limit_of(*row) for row in conn.execute(_LIMITS_IN, {"currency": currency})]


def _limits_elsewhere(session: Session, currency: str, rules: list[Rule]) -> list[Limit]:
    """The rows of amount ``rules`` in other currencies than ``currency``: read only when
    a transaction's currency has no limit of them that applies (rare), to learn whether
    they are in force elsewhere (then they refuse it: fail closed)."""
    query = _LIMIT_ROWS.where(_c.rule.in_([rule.value for rule in rules]), _c.currency != currency)
    return [_limit_of(*row) for row in session.connection().execute(query)]


def list_limits(ctx: HostContext) -> list[LimitInfo]:
    """Every row, by rule, scope, key and currency."""
    with ctx.db.read() as session:
        rows = session.scalars(
            select(RiskLimit).order_by(
                RiskLimit.rule, RiskLimit.scope, RiskLimit.key, RiskLimit.currency
            )
        )
        return [LimitInfo(_to_limit(r), r.updated_at, r.updated_by) for r in rows]


def _bad(text: str) -> HostError:
    return HostError("30", Text(f"风控限额无效：{text}", f"invalid limit: {text}"), field="limit")


def _party_currency(session: Session, scope: Scope, key: str) -> str | None:
    """The currency of the merchant, terminal (its merchant's) or wallet account a row
    is for; None for everyone, an MCC class, or a party that does not exist."""
    if scope is Scope.MERCHANT and (pk := parse_public_id(key, "M")) is not None:
        return session.scalar(select(Merchant.currency).where(Merchant.id == pk))
    if scope is Scope.TERMINAL and (pk := parse_public_id(key, "T")) is not None:
        return session.scalar(
            select(Merchant.currency)
            .join(Terminal, Terminal.merchant_id == Merchant.id)
            .where(Terminal.id == pk)
        )
    if scope is Scope.WALLET:
        return session.scalar(select(WalletAccount.currency).where(WalletAccount.number == key))
    return None


def _currency_of(session: Session, rule: Rule, scope: Scope, key: str, given: str | None) -> str:
    """The currency a row of ``rule`` is in: "" for counts; for amounts the party's own
    currency, or the one given (which must be the party's, when it has one)."""
    if not RULES[rule].priced:
        if given:
            raise HostError(
                "30",
                Text(
                    f"{rule} 是次数或比例，没有币种", f"{rule} is not an amount: it has no currency"
                ),
                field="currency",
            )
        return ""
    code: str | None = None
    if given:
        try:
            code = get_currency(given).alpha
        except MoneyError as exc:
            raise HostError("13", exc.text, field="currency") from None
        if code != given:  # "jpy", "392": the operator should see what is stored
            raise HostError(
                "13",
                Text(f"币种请写作 {code}", f"write the currency as {code}"),
                field="currency",
            )
    own = _party_currency(session, scope, key)
    if own is not None and code is not None and code != own:
        # A limit in another currency than the party's could never apply to it.
        raise HostError(
            "13",
            Text(f"{key} 使用 {own}，不是 {code}", f"{key} transacts in {own}, not {code}"),
            field="currency",
        )
    currency = code or own
    if currency is None:
        raise HostError(
            "13",
            Text(
                "金额限额须指明币种（按该币种的最小单位）",
                "an amount limit needs its currency (the value is in its minor units)",
            ),
            field="currency",
        )
    return currency


def limit_currency(
    ctx: HostContext, rule: str, scope: str = "default", key: str = "", currency: str | None = None
) -> str:
    """The currency a limit of ``rule`` for (``scope``, ``key``) would be in (see
    :func:`set_limit`): the CLI and the portal parse the amount typed in it."""
    try:
        rule_, scope_ = Rule(rule), Scope(scope)
    except ValueError:
        raise _bad(f"unknown rule {rule!r} or scope {scope!r}") from None
    with ctx.db.read() as session:
        return _currency_of(session, rule_, scope_, key, currency)


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
    currency: str | None = None,
) -> LimitInfo:
    """Create or change one row; a change keeps the row's action and windows unless given.

    ``value`` of an amount rule is minor units of ``currency``: for a merchant, terminal
    or wallet account its own currency (``currency`` may be left out; another one is
    refused, 13); for everyone or an MCC class ``currency`` is required (13). Counts
    and shares take no currency (30). A refusal changes nothing.
    """
    try:
        rule_, scope_ = Rule(rule), Scope(scope)
    except ValueError:
        raise _bad(f"unknown rule {rule!r} or scope {scope!r}") from None
    now = ctx.now()
    with ctx.db.write() as session:
        currency_ = _currency_of(session, rule_, scope_, key, currency)
        row = session.scalar(
            select(RiskLimit)
            .where(
                RiskLimit.rule == rule_,
                RiskLimit.scope == scope_,
                RiskLimit.key == key,
                RiskLimit.currency == currency_,
            )
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
                currency_,
            )
        except ValueError as exc:
            raise _bad(str(exc)) from None
        if row is None:
            row = RiskLimit(rule=rule_, scope=scope_, key=key, currency=currency_)
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
            currency=currency_ or None,
            value=limit.value,
            outcome=str(limit.action),
            window_seconds=limit.window_seconds,
            lock_seconds=limit.lock_seconds,
        )
        return LimitInfo(limit, now, str(actor))


def unset_limit(
    ctx: HostContext,
    actor: audit.Actor,
    rule: str,
    scope: str,
    key: str = "",
    *,
    currency: str | None = None,
) -> None:
    """Remove one row (``currency`` as for :func:`set_limit`). A count's removed default
    switches its rule off everywhere; an amount rule's removed default in one currency
    leaves that currency without a limit, so its payments are refused while the rule is
    in force elsewhere (switch it off with the action ``approve`` instead)."""
    try:
        rule_, scope_ = Rule(rule), Scope(scope)
    except ValueError:
        raise _bad(f"unknown rule {rule!r} or scope {scope!r}") from None
    now = ctx.now()
    with ctx.db.write() as session:
        currency_ = _currency_of(session, rule_, scope_, key, currency)
        gone = session.execute(
            delete(RiskLimit).where(
                RiskLimit.rule == rule_,
                RiskLimit.scope == scope_,
                RiskLimit.key == key,
                RiskLimit.currency == currency_,
            )
        )
        if gone.rowcount != 1:  # type: ignore[attr-defined]
            raise HostError("25", Text("没有这条限额", "no such limit"), field="limit")
        audit.record(
            session,
            now,
            actor,
            "limit.unset",
            ("limit", f"{rule_}/{scope_}/{key}"),
            currency=currency_ or None,
        )


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
    # Only the transaction's currency: a sum of minor units of two currencies means nothing.
    return (
        select(func.coalesce(func.sum(_pay.c.amount), 0))
        .where(
            _pay.c.paid_at >= bindparam("day_start"),
            _pay.c.paid_at < bindparam("day_end"),
            _pay.c.training.is_(False),
            _pay.c.status.in_(_CAPTURED_SQL),
            _pay.c.currency == bindparam("currency"),
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
        _refunds.c.currency == bindparam("currency"),
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
        "currency": tx.currency,
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
    currency: str,
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
    ``amount`` is minor units of ``currency``; only limits in that currency compare
    with it, and an amount rule with none refuses it (see the domain module).
    """
    tx = RiskInput(
        kind, merchant_id, mcc, amount, currency, ctx.now(), terminal_id, wallet, training
    )

    def resolve(rows: list[Limit]) -> dict[Rule, Limit]:
        return resolve_limits(
            rows,
            merchant_id=merchant_id,
            mcc=mcc,
            currency=currency,
            terminal_id=terminal_id,
            wallet=wallet,
        )

    rows = load_limits(session, currency)
    limits = resolve(rows)
    missing = [rule for rule in _PRICED if rule not in limits]
    if missing:
        # The same as resolving over the whole table: a row in this currency always wins.
        limits = resolve(rows + _limits_elsewhere(session, currency, missing))
    rules = applicable(tx, limits)
    failure_scope: tuple[str, str] | None = None
    if kind is Kind.PAYMENT and terminal_id is not None:
        failure_scope = ("terminal", terminal_id)
    elif kind is Kind.ORDER_PAYMENT and wallet is not None:
        failure_scope = ("wallet", wallet)
    # A rule refused for want of a limit in this currency needs no history.
    measured = {r: lim for r, lim in rules.items() if lim.currency in ("", currency)}
    facts = _facts(
        ctx,
        session,
        tx,
        measured,
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
