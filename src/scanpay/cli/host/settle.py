"""``scanpay host settle``: close a business day and write its settlement files.
(:mod:`scanpay.cli.host` registers the command.)"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from scanpay.cli.host._shared import JsonOption, actor, emit, run, usage
from scanpay.host.services import settlement
from scanpay.host.services.context import HostContext
from scanpay.money import format_amount

__all__ = ["settle_command"]


def settle_command(
    day: str = typer.Option(..., "--date", help="Business day YYYY-MM-DD (host timezone)."),
    merchant: str | None = typer.Option(None, "--merchant", help="One merchant (default all)."),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the settlement files (default DATA_DIR/settlements)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Close a business day: totals, fee, net paid out, and a CSV file per merchant.

    The fee is the merchant's rate on each line, rounded half up in minor units.
    The net moves from clearing to the merchant's settlement account. Running it
    again changes nothing (the files are written again, identical).
    """
    try:
        business_day = date.fromisoformat(day)
    except ValueError:
        usage("--date 的格式是 YYYY-MM-DD", "--date is YYYY-MM-DD")

    def action(ctx: HostContext) -> list[dict[str, Any]]:
        folder = out or Path(ctx.settings.data_dir) / "settlements"
        done = []
        for item in settlement.settle_day(ctx, business_day, merchant, actor=actor()):
            body = item.settlement
            merchant_pk = int(body.merchant_id[1:])
            path = folder / body.merchant_id / f"{business_day.isoformat()}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(settlement.settlement_csv(ctx, merchant_pk, business_day))
            data = body.model_dump(mode="json", exclude={"lines"})
            data.update(created=item.created, file=str(path), lines=len(body.lines))
            done.append(data)
        return done

    results = run(as_json, action)

    def human() -> None:
        for r in results:
            cur = r["currency"]
            typer.echo(
                f"{r['merchant_id']} {r['business_date']} "
                f"{'settled' if r['created'] else 'already settled'}: "
                f"{r['payment_count']} payments {format_amount(r['payment_total'], cur)}, "
                f"{r['refund_count']} refunds {format_amount(r['refund_total'], cur)}, "
                f"{r['reversal_count']} reversals {format_amount(r['reversal_total'], cur)}; "
                f"fee {format_amount(r['fee'], cur)} at {r['fee_rate']}, "
                f"net {format_amount(r['net'], cur)} {cur}  -> {r['file']}"
            )

    emit(as_json, results, human)
