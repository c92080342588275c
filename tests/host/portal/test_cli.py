"""``scanpay host user ...`` and ``scanpay host fixtures``, run in-process on each backend."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from host.kit import RunningHost, cli_env, make_merchant
from host.portal.portal_kit import PASSWORD, PortalClient, unique_email
from scanpay.cli import app
from scanpay.host.db.models import PortalUser
from scanpay.host.services import audit, ledger

runner = CliRunner()


def _run(host: RunningHost, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = runner.invoke(
        app,
        ["host", *args],
        env=cli_env(host.ctx.settings.database_url, SCANPAY_OPERATOR="ops"),
        input=stdin,
    )
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def test_user_add_list_disable(host: RunningHost) -> None:
    merchant = make_merchant(host.ctx)
    email = unique_email("owner")
    made = _run(
        host,
        "user",
        "add",
        "--merchant",
        merchant,
        "--role",
        "owner",
        "--email",
        email,
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    assert (made["email"], made["role"], made["merchant_id"]) == (email, "owner", merchant)
    with host.ctx.db.read() as session:
        row = session.scalar(select(PortalUser).where(PortalUser.email == email))
        assert row is not None and row.password_hash.startswith("$argon2")
        assert PASSWORD not in row.password_hash
    prompted = unique_email("read_only")
    _run(
        host,
        "user",
        "add",
        "--merchant",
        merchant,
        "--role",
        "read-only",
        "--email",
        prompted,
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    operator = unique_email("operator")
    _run(
        host,
        "user",
        "add",
        "--operator",
        "--email",
        operator,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    listed = {u["email"]: u for u in _run(host, "user", "list", "--json")}
    assert listed[prompted]["role"] == "read_only" and listed[operator]["merchant_id"] is None
    assert {u["email"] for u in _run(host, "user", "list", "--merchant", merchant, "--json")} == {
        email,
        prompted,
    }
    # refusals: both or neither of --merchant/--operator, a weak password, a taken e-mail
    _run(host, "user", "add", "--email", unique_email("x"), "--password-stdin", code=2, stdin="x\n")
    _run(
        host,
        "user",
        "add",
        "--operator",
        "--merchant",
        merchant,
        "--email",
        "y@shop.example",
        "--password-stdin",
        code=2,
        stdin="x\n",
    )
    weak = _run(
        host,
        "user",
        "add",
        "--operator",
        "--email",
        unique_email("w"),
        "--password-stdin",
        code=1,
        stdin="short\n",
    )
    assert "at least 10 characters" in weak
    taken = _run(
        host,
        "user",
        "add",
        "--operator",
        "--email",
        email,
        "--password-stdin",
        code=1,
        stdin=PASSWORD + "\n",
    )
    assert "already has a portal login" in taken
    nowhere = _run(
        host,
        "user",
        "add",
        "--merchant",
        "M999999",
        "--email",
        unique_email("z"),
        "--password-stdin",
        code=1,
        stdin=PASSWORD + "\n",
    )
    assert "no such merchant" in nowhere
    # the login works, until the user is disabled
    client = PortalClient(host.url)
    assert client.login(email).status_code == 303
    assert _run(host, "user", "disable", email, "--json")["status"] == "disabled"
    assert client.get("/portal/today").status_code == 303
    assert client.login(email).status_code == 401
    _run(host, "user", "enable", email)
    assert client.login(email).status_code == 303
    client.close()
    actions = [e.action for e in audit.history(host.ctx, merchant=merchant, limit=20)]
    assert "portal.user.add" in actions and "portal.user.disable" in actions
    entry = next(e for e in audit.history(host.ctx, limit=50) if e.action == "portal.user.add")
    assert entry.actor == "operator:ops"


def test_fixtures_command(host: RunningHost) -> None:
    report = _run(
        host,
        "fixtures",
        "--transactions",
        "400",
        "--days",
        "5",
        "--terminals",
        "2",
        "--settle",
        "1",
        "--json",
    )
    assert report["payments"] == 400 and len(report["terminals"]) == 2
    assert sum(report["by_status"].values()) == 400
    more = _run(
        host,
        "fixtures",
        "--transactions",
        "100",
        "--merchant",
        report["merchant_id"],
        "--settle",
        "0",
        "--json",
    )
    assert (
        more["merchant_id"] == report["merchant_id"]
        and more["terminals"][:2] == report["terminals"]
    )
    assert ledger.check(host.ctx).ok and audit.verify(host.ctx).ok
    _run(host, "fixtures", "--transactions", "10", "--merchant", "M999999", code=1)
