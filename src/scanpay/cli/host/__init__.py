"""``scanpay host``: run and operate the acquiring host.

Every command reads ``SCANPAY_DATABASE_URL`` (or ``--database-url``) and has
``--json`` for scripts. Every change is written to the audit trail with the
operator's name (``--operator``, ``SCANPAY_OPERATOR``, or the login name).
Exit codes: 0 done, 1 refused (the error's code and message are printed), 2 usage.

One module per command group; the commands of ``scanpay host`` itself are registered
here, so that this file is the command tree at a glance (``--help`` lists them in this
order: the commands, then the groups).
"""

from __future__ import annotations

import typer

from scanpay.cli.host import (
    audit,
    channel,
    fixtures,
    key,
    ledger,
    merchant,
    operations,
    reconcile,
    risk,
    server,
    settle,
    terminal,
    user,
    wallet,
)
from scanpay.cli.host._shared import remember

__all__ = ["app"]

app = typer.Typer(help="The acquiring host: database, server, merchants, terminals, wallets.")


@app.callback()
def _host(
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="SCANPAY_DATABASE_URL", help="SQLAlchemy database URL."
    ),
    operator: str | None = typer.Option(
        None, "--operator", envvar="SCANPAY_OPERATOR", help="Who you are, for the audit trail."
    ),
) -> None:
    """Run and operate the acquiring host."""
    remember(database_url, operator)


app.command("init")(server.init_command)
app.command("serve")(server.serve_command)
app.command("certs")(server.certs_command)
app.command("settle")(settle.settle_command)
app.command("sweep")(operations.sweep_command)
app.command("backup")(operations.backup_command)
app.command("restore")(operations.restore_command)
app.command("fixtures")(fixtures.fixtures_command)

app.add_typer(merchant.app, name="merchant")
app.add_typer(terminal.app, name="terminal")
app.add_typer(wallet.app, name="wallet")
app.add_typer(ledger.app, name="ledger")
app.add_typer(risk.limits_app, name="limits")
app.add_typer(audit.app, name="audit")
app.add_typer(risk.review_app, name="review")
app.add_typer(user.app, name="user")
app.add_typer(key.app, name="key")
app.add_typer(channel.app, name="channel")
app.add_typer(reconcile.app, name="reconcile")
