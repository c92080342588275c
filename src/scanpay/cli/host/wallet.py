"""``scanpay host wallet``: the built-in wallet's accounts, one-time codes and PIN
confirmation."""

from __future__ import annotations

import time

import typer

from scanpay.cli.host._shared import (
    EXIT_REFUSED,
    JsonOption,
    actor,
    emit,
    local_time,
    run,
    typed_amount,
)
from scanpay.cli.language import cli_language
from scanpay.host.domain.pin import tries_left_text
from scanpay.host.errors import HostError
from scanpay.host.services import pin_waits, wallets
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.money import MoneyError, format_amount, get_currency

__all__ = ["app"]

app = typer.Typer(help="The built-in wallet: accounts, one-time codes, PIN confirmation.")


@app.command("open")
def wallet_open(
    name: str = typer.Option(..., "--name"),
    currency: str = typer.Option("CNY", "--currency"),
    balance: str = typer.Option("0", "--balance", help="Opening balance, e.g. 500.00."),
    pin: str = typer.Option(..., "--pin", help="Six digits."),
    pin_above: str | None = typer.Option(
        None,
        "--pin-above",
        help="Payments above this amount need the PIN (default: 1000.00 CNY, ¥20000, 40.000 KWD).",
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
            balance=typed_amount(balance, cur, "balance"),
            pin=pin,
            pin_above=typed_amount(pin_above, cur, "pin_above") if pin_above is not None else None,
            training=training,
            actor=actor(),
        )

    opened = run(as_json, action)
    info = opened.info
    emit(
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


@app.command("code")
def wallet_code(account: str, as_json: bool = JsonOption) -> None:
    """A one-time payment code: wallet digits and EMV CPM (valid 60 s, one use).

    Each code is of a time step of its own (the host takes one per step): run again at
    once, it gives the next step's code; past the steps the host accepts ahead it waits
    (under one step, 5 s) for the next one to open.
    """

    def issue(ctx: HostContext) -> wallets.IssuedWalletCode:
        for _ in range(3):
            try:
                return wallets.issue_code(ctx, account)
            except wallets.CodeNotYet as exc:
                # Not a guess: the moment the host's window reaches the next free step.
                time.sleep(max(0.0, (exc.ready_at - ctx.now()).total_seconds()) + 0.05)
        return wallets.issue_code(ctx, account)

    issued = run(as_json, issue)
    emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"digits  {issued.digits}\ncpm     {issued.cpm}\n"
            f"valid until {local_time(issued.expires_at)}, once"
        ),
    )


@app.command("confirm")
def wallet_confirm(
    account: str,
    pin: str = typer.Option(..., "--pin"),
    payment_id: str | None = typer.Option(None, "--payment", help="Payment id (default newest)."),
    as_json: bool = JsonOption,
) -> None:
    """Confirm a payment waiting for this account's PIN (what the customer's phone does)."""
    done = run(as_json, lambda ctx: pin_waits.confirm_with_pin(ctx, account, pin, payment_id))
    data = {
        "code": done.code,
        "message": done.message.model_dump(by_alias=True),
        "tries_left": done.tries_left,
        "merchant_name": done.merchant_name,
        "payment": done.payment.model_dump(mode="json", by_alias=True),
    }
    # A declined PIN (wrong, too late...) is a refusal too: its words in the locale's language.
    language = cli_language()
    said = Text(done.message.zh_cn, done.message.en).get(language)
    tries = tries_left_text(done.tries_left).get(language)
    emit(
        as_json,
        data,
        lambda: typer.echo(
            f"{done.code} {said}: {done.payment.out_trade_no} "
            f"{format_amount(done.payment.amount, done.payment.currency)} "
            f"{done.payment.currency} at {done.merchant_name} -> {done.payment.status}"
            + (f" ({tries})" if done.code == "55" else "")
        ),
    )
    if done.code not in ("00",):
        raise typer.Exit(EXIT_REFUSED)


@app.command("balance")
def wallet_balance(account: str, as_json: bool = JsonOption) -> None:
    """An account's balance."""
    info = run(as_json, lambda ctx: wallets.wallet_info(ctx, account))
    emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(
            f"{info.account}  {info.name}  {format_amount(info.balance, info.currency)} "
            f"{info.currency}"
            + (f"  locked until {local_time(info.locked_until)}" if info.locked_until else "")
        ),
    )
