"""``scanpay host``: run and operate the acquiring host.

Every command reads ``SCANPAY_DATABASE_URL`` (or ``--database-url``) and has
``--json`` for scripts. Exit codes: 0 done, 1 refused (the error's code and
message are printed), 2 usage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from scanpay.host.db.migrate import current_revision, head_revision, upgrade
from scanpay.host.errors import HostError
from scanpay.host.services import ledger, merchants, payments, terminals, wallets
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.money import MoneyError, format_amount, get_currency, parse_amount

__all__ = ["app"]

app = typer.Typer(help="The acquiring host: database, server, merchants, terminals, wallets.")
merchant_app = typer.Typer(help="Onboard, review and suspend merchants.")
terminal_app = typer.Typer(help="Add terminals and rotate their keys.")
wallet_app = typer.Typer(help="The built-in wallet: accounts, one-time codes, PIN confirmation.")
ledger_app = typer.Typer(help="The double-entry ledger.")
app.add_typer(merchant_app, name="merchant")
app.add_typer(terminal_app, name="terminal")
app.add_typer(wallet_app, name="wallet")
app.add_typer(ledger_app, name="ledger")

EXIT_REFUSED = 1
T = TypeVar("T")

JsonOption = typer.Option(False, "--json", help="Print JSON.")


@app.callback()
def _host(
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="SCANPAY_DATABASE_URL", help="SQLAlchemy database URL."
    ),
) -> None:
    """Run and operate the acquiring host."""
    if database_url:
        os.environ["SCANPAY_DATABASE_URL"] = database_url


def _settings() -> HostSettings:
    try:
        return HostSettings.from_env()
    except ValueError as exc:
        typer.echo(f"bad settings: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _context(*, migrated: bool = True) -> Iterator[HostContext]:
    ctx = HostContext.open(_settings())
    try:
        if migrated and current_revision(ctx.db) != head_revision():
            typer.echo(
                "the database is missing or not migrated: run `scanpay host init` first", err=True
            )
            raise typer.Exit(EXIT_REFUSED)
        yield ctx
    finally:
        ctx.close()


def _emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def _run(as_json: bool, action: Callable[[HostContext], T]) -> T:
    """Run a service call; a refusal is printed (JSON or text) and exits 1."""
    with _context() as ctx:
        try:
            return action(ctx)
        except HostError as exc:
            if as_json:
                typer.echo(
                    json.dumps({"error": exc.to_dict(), "name": exc.name}, ensure_ascii=False)
                )
            else:
                where = f" ({exc.field})" if exc.field else ""
                typer.echo(f"refused: {exc.code} {exc.name}{where}: {exc.text.en}", err=True)
            raise typer.Exit(EXIT_REFUSED) from None


def _each(items: list[T], show: Callable[[T], None]) -> None:
    for item in items:
        show(item)


def _amount(text: str, currency: str, field: str) -> int:
    try:
        return parse_amount(text, currency)
    except MoneyError as exc:
        raise HostError("13", exc.text, field=field) from None


# --------------------------------------------------------------------------- database, server


@app.command("init")
def init_command(as_json: bool = JsonOption) -> None:
    """Create the database, or migrate it to the current schema."""
    with _context(migrated=False) as ctx:
        before = current_revision(ctx.db)
        after = upgrade(ctx.db)
        data = {
            "database": ctx.db.engine.url.render_as_string(hide_password=True),
            "from": before,
            "revision": after,
        }
    _emit(as_json, data, lambda: typer.echo(f"database at revision {after} (was {before})"))


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8600, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the host API (migrates the database first)."""
    import uvicorn

    with _context(migrated=False) as ctx:
        upgrade(ctx.db)
    # Workers re-read the settings from the environment (the database URL included).
    uvicorn.run(
        "scanpay.host.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


# --------------------------------------------------------------------------- merchants


def _print_merchant(m: merchants.MerchantInfo) -> None:
    typer.echo(
        f"{m.merchant_id}  {m.status:<9}  {m.name} ({m.city}, MCC {m.mcc})  "
        f"licence {m.license}  fee {m.fee_rate}  payee {m.payee}"
    )


@merchant_app.command("add")
def merchant_add(
    name: str = typer.Option(..., "--name"),
    city: str = typer.Option(..., "--city"),
    mcc: str = typer.Option(..., "--mcc", help="Merchant category code (4 digits)."),
    license: str = typer.Option(..., "--license", help="Unified social credit code (18)."),
    fee_rate: str = typer.Option("0.0038", "--fee-rate", help="0.0038 = 0.38 %."),
    currency: str = typer.Option("CNY", "--currency"),
    payee: str | None = typer.Option(None, "--payee", help="Registered payee account."),
    as_json: bool = JsonOption,
) -> None:
    """Create a merchant in review (the licence's GB 32100 check character is verified)."""
    info = _run(
        as_json,
        lambda ctx: merchants.add_merchant(
            ctx,
            name=name,
            city=city,
            mcc=mcc,
            license=license,
            fee_rate=fee_rate,
            currency=currency,
            payee=payee,
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("approve")
def merchant_approve(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Approve a merchant after review (or reinstate a suspended one)."""
    info = _run(as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "approve"))
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("suspend")
def merchant_suspend(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Suspend a merchant: its terminals take no more payments (queries and reversals work)."""
    info = _run(as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "suspend"))
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("list")
def merchant_list(as_json: bool = JsonOption) -> None:
    """Every merchant."""
    items = _run(as_json, merchants.list_merchants)
    _emit(as_json, [m.to_dict() for m in items], lambda: _each(items, _print_merchant))


# --------------------------------------------------------------------------- terminals


@terminal_app.command("add")
def terminal_add(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    as_json: bool = JsonOption,
) -> None:
    """Add a terminal; prints its id and one-time activation code."""
    issued = _run(as_json, lambda ctx: terminals.add_terminal(ctx, merchant))
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  activation code {issued.activation_code}"
            f"  (one use, expires {issued.expires_at:%Y-%m-%d %H:%M} UTC)"
        ),
    )


@terminal_app.command("rotate-key")
def terminal_rotate(
    terminal_id: str,
    grace: int | None = typer.Option(
        None, "--grace", help="Seconds the old key keeps working (default SCANPAY_KEY_GRACE)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Rotate a terminal's key: a one-time code the terminal activates with again."""
    issued = _run(as_json, lambda ctx: terminals.rotate_key(ctx, terminal_id, grace))
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  rotation code {issued.activation_code}"
            f"  (activate with it to get the new key)"
        ),
    )


@terminal_app.command("list")
def terminal_list(
    merchant: str | None = typer.Option(None, "--merchant"), as_json: bool = JsonOption
) -> None:
    """Terminals, with their status, software version and usable keys."""
    items = _run(as_json, lambda ctx: terminals.list_terminals(ctx, merchant))
    _emit(
        as_json,
        [t.to_dict() for t in items],
        lambda: _each(
            items,
            lambda t: typer.echo(
                f"{t.terminal_id}  {t.merchant_id}  {t.status:<8}  "
                f"version {t.software_version or '-'}  keys {t.keys}"
            ),
        ),
    )


# --------------------------------------------------------------------------- wallet


@wallet_app.command("open")
def wallet_open(
    name: str = typer.Option(..., "--name"),
    currency: str = typer.Option("CNY", "--currency"),
    balance: str = typer.Option("0", "--balance", help="Opening balance, e.g. 500.00."),
    pin: str = typer.Option(..., "--pin", help="Six digits."),
    pin_above: str | None = typer.Option(
        None, "--pin-above", help="Payments above this amount need the PIN (default 1000.00)."
    ),
    training: bool = typer.Option(False, "--training", help="A training account (no real money)."),
    as_json: bool = JsonOption,
) -> None:
    """Open a wallet account. Its secret is printed once, for the customer's phone."""

    def action(ctx: HostContext) -> wallets.WalletOpened:
        try:
            cur = get_currency(currency).alpha
        except MoneyError as exc:
            raise HostError("13", exc.text, field="currency") from None
        return wallets.open_account(
            ctx,
            name=name,
            currency=cur,
            balance=_amount(balance, cur, "balance"),
            pin=pin,
            pin_above=_amount(pin_above, cur, "pin_above") if pin_above is not None else None,
            training=training,
        )

    opened = _run(as_json, action)
    info = opened.info
    _emit(
        as_json,
        opened.to_dict(),
        lambda: typer.echo(
            f"account {info.account}  {info.name}  balance "
            f"{format_amount(info.balance, info.currency)} {info.currency}"
            f"{'  TRAINING' if info.training else ''}  PIN above "
            f"{format_amount(info.pin_above, info.currency)}\n"
            f"secret (for the phone, shown once): {opened.secret_hex}"
        ),
    )


@wallet_app.command("code")
def wallet_code(account: str, as_json: bool = JsonOption) -> None:
    """A one-time payment code: wallet digits and EMV CPM (valid 60 s, one use)."""
    issued = _run(as_json, lambda ctx: wallets.issue_code(ctx, account))
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"digits  {issued.digits}\ncpm     {issued.cpm}\n"
            f"valid until {issued.expires_at:%H:%M:%S} UTC, once"
        ),
    )


@wallet_app.command("confirm")
def wallet_confirm(
    account: str,
    pin: str = typer.Option(..., "--pin"),
    payment_id: str | None = typer.Option(None, "--payment", help="Payment id (default newest)."),
    as_json: bool = JsonOption,
) -> None:
    """Confirm a payment waiting for this account's PIN (what the customer's phone does)."""
    done = _run(as_json, lambda ctx: payments.confirm_with_pin(ctx, account, pin, payment_id))
    data = {
        "code": done.code,
        "message": done.message.model_dump(by_alias=True),
        "tries_left": done.tries_left,
        "merchant_name": done.merchant_name,
        "payment": done.payment.model_dump(mode="json", by_alias=True),
    }
    _emit(
        as_json,
        data,
        lambda: typer.echo(
            f"{done.code} {done.message.en}: {done.payment.out_trade_no} "
            f"{format_amount(done.payment.amount, done.payment.currency)} "
            f"{done.payment.currency} at {done.merchant_name} -> {done.payment.status}"
            + (f" ({done.tries_left} tries left)" if done.code == "55" else "")
        ),
    )
    if done.code not in ("00",):
        raise typer.Exit(EXIT_REFUSED)


@wallet_app.command("balance")
def wallet_balance(account: str, as_json: bool = JsonOption) -> None:
    """An account's balance."""
    info = _run(as_json, lambda ctx: wallets.wallet_info(ctx, account))
    _emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(
            f"{info.account}  {info.name}  {format_amount(info.balance, info.currency)} "
            f"{info.currency}"
            + (f"  locked until {info.locked_until:%H:%M:%S} UTC" if info.locked_until else "")
        ),
    )


# --------------------------------------------------------------------------- ledger


@ledger_app.command("check")
def ledger_check(as_json: bool = JsonOption) -> None:
    """Prove the ledger: postings sum to zero, balances equal postings, none negative.

    Exit 0 when it holds, 1 when it does not (each broken rule is printed).
    """
    report = _run(as_json, ledger.check)

    def human() -> None:
        verdict = "OK" if report.ok else "BROKEN"
        typer.echo(
            f"ledger {verdict}: {report.accounts} accounts, {report.entries} entries, "
            f"{report.postings} postings"
        )
        for p in report.problems:
            typer.echo(f"  {p.rule}: {p.subject}: {p.detail}")

    _emit(as_json, report.to_dict(), human)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)
