"""``scanpay host limits`` and ``scanpay host review``: the risk rules' limits, and the
transactions they flagged for review."""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import JsonOption, actor, each, emit, run, typed_amount
from scanpay.host.domain.risk import RULES
from scanpay.host.errors import HostError
from scanpay.host.services import risk
from scanpay.host.services.context import HostContext

__all__ = ["limits_app", "review_app"]

limits_app = typer.Typer(help="Risk limits: per-transaction, daily, velocity, lockout...")
review_app = typer.Typer(help="Transactions the risk rules flagged for review.")

_AMOUNT_RULES = frozenset(rule.value for rule, spec in RULES.items() if spec.priced)


def _print_limit(info: risk.LimitInfo) -> None:
    d = info.to_dict()
    where = d["scope"] + (f" {d['key']}" if d["key"] else "")
    # An amount reads as one, in its currency ("2000.000 KWD"); a count as a count.
    value = d["shown"] if d["currency"] else f"{d['value']} {d['unit']}"
    extra = ""
    if d["window_seconds"]:
        extra += f" per {d['window_seconds']} s"
    if d["lock_seconds"]:
        extra += f", lock {d['lock_seconds']} s"
    typer.echo(
        f"{d['rule']:<20} {where:<24} {value:>20}{extra}  -> {d['action']}  ({d['updated_by']})"
    )


@limits_app.command("list")
def limits_list(as_json: bool = JsonOption) -> None:
    """Every row of the limits table (the most specific row wins for a transaction)."""
    items = run(as_json, risk.list_limits)
    emit(as_json, [i.to_dict() for i in items], lambda: each(items, _print_limit))


@limits_app.command("set")
def limits_set(
    rule: str = typer.Argument(
        ...,
        help="txn_amount, daily_amount, wallet_txn_amount, "
        "wallet_daily_amount, velocity, failed_codes, duplicate, "
        "refund_share",
    ),
    value: str = typer.Argument(
        ..., help="Amount (e.g. 5000.00), count, or ppm for refund_share (500000 = 50 %)."
    ),
    scope: str = typer.Option(
        "default", "--scope", help="default, mcc_class, merchant, terminal or wallet."
    ),
    key: str = typer.Option("", "--key", help="The class, merchant, terminal or account."),
    action: str | None = typer.Option(
        None, "--action", help="decline (57), review, or approve (rule off)."
    ),
    window: int | None = typer.Option(
        None, "--window", help="Seconds (velocity, failed_codes, duplicate)."
    ),
    lock: int | None = typer.Option(None, "--lock", help="Seconds a lockout lasts."),
    currency: str | None = typer.Option(
        None,
        "--currency",
        help="ISO 4217 code of an amount rule's value (required for --scope default and "
        "mcc_class; a merchant, terminal or wallet limit is in the party's own currency).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create or change a limit; it applies to the next transaction in every host process.
    An amount limit is in one currency and applies only to transactions in it."""

    def action_(ctx: HostContext) -> risk.LimitInfo:
        cur: str | None = None
        if rule in _AMOUNT_RULES:
            # The amount is typed in the limit's currency ("50.5" is not yen).
            cur = risk.limit_currency(ctx, rule, scope, key, currency)
            number = typed_amount(value, cur, "value")
        else:
            try:
                number = int(value)
            except ValueError:
                raise HostError("30", field="value") from None
        return risk.set_limit(
            ctx,
            actor(),
            rule,
            number,
            scope=scope,
            key=key,
            action=action,
            window_seconds=window,
            lock_seconds=lock,
            currency=cur if cur is not None else currency,
        )

    info = run(as_json, action_)
    emit(as_json, info.to_dict(), lambda: _print_limit(info))


@limits_app.command("unset")
def limits_unset(
    rule: str,
    scope: str = typer.Option("default", "--scope"),
    key: str = typer.Option("", "--key"),
    currency: str | None = typer.Option(
        None, "--currency", help="The amount limit's currency (as for limits set)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Remove a limit row. A count's removed default switches the rule off where nothing
    else applies; an amount rule's removed default leaves its currency without a limit,
    and payments in it are refused (set the action approve to switch a rule off)."""
    run(as_json, lambda ctx: risk.unset_limit(ctx, actor(), rule, scope, key, currency=currency))
    emit(
        as_json,
        {"removed": {"rule": rule, "scope": scope, "key": key, "currency": currency or ""}},
        lambda: typer.echo(f"removed {rule} {scope} {key} {currency or ''}".rstrip()),
    )


@review_app.command("list")
def review_list(
    limit: int = typer.Option(50, "--limit", min=1, max=1000), as_json: bool = JsonOption
) -> None:
    """Payments and refunds a rule flagged for review, newest first."""
    items = run(as_json, lambda ctx: risk.flagged(ctx, limit))
    emit(
        as_json,
        items,
        lambda: each(
            items,
            lambda i: typer.echo(
                f"{i['created_at'][:19]}  {i['kind']:<7} {i['merchant_id']} {i['number']:<32} "
                f"{i['amount']:>10} {i['status']:<18} flags {i['flags']}"
            ),
        ),
    )
