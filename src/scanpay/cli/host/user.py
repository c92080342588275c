"""``scanpay host user``: the merchant portal's logins."""

from __future__ import annotations

from typing import Any

import typer

from scanpay.cli.host._shared import JsonOption, actor, each, emit, run, usage

__all__ = ["app"]

app = typer.Typer(help="Merchant portal logins: merchants' owners, accountants, operators.")


def _print_user(u: Any) -> None:
    where = u.merchant_id or "acquirer"
    typer.echo(f"{u.user_id}  {u.email:<32} {u.role:<10} {where:<8} {u.status}")


@app.command("add")
def user_add(
    email: str = typer.Option(..., "--email", help="The login (an e-mail address)."),
    merchant: str | None = typer.Option(None, "--merchant", help="Merchant id (M...)."),
    role: str = typer.Option(
        "owner", "--role", help="owner, accountant or read-only (a merchant's user)."
    ),
    operator: bool = typer.Option(False, "--operator", help="An acquirer operator instead."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin (else it is prompted)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Add a merchant portal login (argon2-hashed password; never printed or logged)."""
    import sys

    from scanpay.host.portal import accounts

    if operator == (merchant is not None):
        usage(
            "请给 --merchant ID（商户的用户）或 --operator（收单机构）之一",
            "give --merchant ID (a merchant's user) or --operator (acquirer)",
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    info = run(
        as_json,
        lambda ctx: accounts.add_user(
            ctx,
            email=email,
            password=password,
            role="operator" if operator else role,
            merchant_id=merchant,
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_user(info))


@app.command("list")
def user_list(
    merchant: str | None = typer.Option(None, "--merchant"), as_json: bool = JsonOption
) -> None:
    """Portal logins (of one merchant when given)."""
    from scanpay.host.portal import accounts

    items = run(as_json, lambda ctx: accounts.list_users(ctx, merchant))
    emit(as_json, [u.to_dict() for u in items], lambda: each(items, _print_user))


@app.command("disable")
def user_disable(email: str, as_json: bool = JsonOption) -> None:
    """Disable a login (its sessions end at once)."""
    from scanpay.host.portal import accounts

    info = run(as_json, lambda ctx: accounts.set_user_status(ctx, email, False, actor=actor()))
    emit(as_json, info.to_dict(), lambda: _print_user(info))


@app.command("enable")
def user_enable(email: str, as_json: bool = JsonOption) -> None:
    """Enable a disabled login again."""
    from scanpay.host.portal import accounts

    info = run(as_json, lambda ctx: accounts.set_user_status(ctx, email, True, actor=actor()))
    emit(as_json, info.to_dict(), lambda: _print_user(info))
