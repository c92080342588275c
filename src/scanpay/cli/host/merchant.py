"""``scanpay host merchant``: onboard, review and suspend merchants; set fee rates."""

from __future__ import annotations

import typer

from scanpay.cli.host._shared import JsonOption, actor, each, emit, run
from scanpay.host.services import merchants

__all__ = ["app"]

app = typer.Typer(help="Onboard, review and suspend merchants; set fee rates.")


def _print_merchant(m: merchants.MerchantInfo) -> None:
    typer.echo(
        f"{m.merchant_id}  {m.status:<9}  {m.name} ({m.city}, MCC {m.mcc})  "
        f"licence {m.license}  fee {m.fee_rate}  payee {m.payee}"
    )


@app.command("add")
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
    info = run(
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
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@app.command("approve")
def merchant_approve(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Approve a merchant after review (or reinstate a suspended one)."""
    info = run(
        as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "approve", actor=actor())
    )
    emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@app.command("suspend")
def merchant_suspend(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Suspend a merchant: its terminals take no more payments (queries and reversals work)."""
    info = run(
        as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "suspend", actor=actor())
    )
    emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@app.command("fee")
def merchant_fee(merchant_id: str, fee_rate: str, as_json: bool = JsonOption) -> None:
    """Set a merchant's fee rate (0.0038 = 0.38 %) for the days settled from now on."""
    info = run(
        as_json, lambda ctx: merchants.set_fee_rate(ctx, merchant_id, fee_rate, actor=actor())
    )
    emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@app.command("list")
def merchant_list(as_json: bool = JsonOption) -> None:
    """Every merchant."""
    items = run(as_json, merchants.list_merchants)
    emit(as_json, [m.to_dict() for m in items], lambda: each(items, _print_merchant))
