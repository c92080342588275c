"""``scanpay host`` commands, run in-process against each backend, with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from host.kit import LICENCE, RunningHost, cli_env
from scanpay.cli import app
from scanpay.codes import parse_cpm
from scanpay.host import HostContext, SystemClock
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import head_revision
from scanpay.host.db.models import Terminal
from scanpay.host.services import payments, terminals
from scanpay.host.services.auth import TerminalIdentity
from scanpay.protocol.models import PaymentRequest

runner = CliRunner()


def _run(url: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["host", *args], env=cli_env(url))
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def test_operator_flow(host: RunningHost) -> None:
    url = host.ctx.settings.database_url
    assert _run(url, "init", "--json")["revision"] == head_revision()
    refused = _run(
        url,
        "merchant",
        "add",
        "--name",
        "Tea House",
        "--city",
        "Fuzhou",
        "--mcc",
        "5814",
        "--license",
        LICENCE[:-1] + "2",
        "--json",
        code=1,
    )
    assert (refused["error"]["code"], refused["error"]["field"]) == ("30", "license")
    assert "GB 32100" in refused["error"]["message"]["en"]
    merchant = _run(
        url,
        "merchant",
        "add",
        "--name",
        "Tea House",
        "--city",
        "Fuzhou",
        "--mcc",
        "5814",
        "--license",
        LICENCE.lower(),
        "--fee-rate",
        "0.006",
        "--json",
    )
    mid = merchant["merchant_id"]
    assert (merchant["status"], merchant["license"], merchant["fee_rate"]) == (
        "in_review",
        LICENCE,
        "0.006",
    )
    assert _run(url, "merchant", "approve", mid, "--json")["status"] == "approved"
    assert _run(url, "merchant", "suspend", mid, "--json")["status"] == "suspended"
    assert _run(url, "merchant", "approve", mid, "--json")["status"] == "approved"
    listed = {m["merchant_id"]: m for m in _run(url, "merchant", "list", "--json")}
    assert listed[mid]["name"] == "Tea House"
    assert "Tea House" in _run(url, "merchant", "list")

    added = _run(url, "terminal", "add", "--merchant", mid, "--json")
    assert added["purpose"] == "activate" and len(added["activation_code"]) == 14
    assert (
        _run(url, "terminal", "rotate-key", added["terminal_id"], "--json", code=1)["error"]["code"]
        == "30"
    )  # not active yet
    ctx = HostContext(host.ctx.settings, Database(url), SystemClock())
    try:
        activated = terminals.activate(ctx, added["activation_code"], "1.0.0")
        rotation = _run(
            url, "terminal", "rotate-key", added["terminal_id"], "--grace", "60", "--json"
        )
        assert (
            rotation["purpose"] == "rotate"
            and rotation["activation_code"] != added["activation_code"]
        )
        mine = [t for t in _run(url, "terminal", "list", "--merchant", mid, "--json")]
        assert [(t["status"], t["usable_keys"]) for t in mine] == [("active", 1)]

        wallet = _run(
            url,
            "wallet",
            "open",
            "--name",
            "Carol",
            "--balance",
            "2000.00",
            "--pin",
            "123456",
            "--pin-above",
            "100.00",
            "--json",
        )
        account = wallet["account"]
        assert (wallet["balance"], wallet["pin_above"], len(wallet["secret"])) == (
            200_000,
            10_000,
            64,
        )
        code = _run(url, "wallet", "code", account, "--json")
        assert code["digits"].startswith("88" + account) and len(code["digits"]) == 18
        cpm = parse_cpm(code["cpm"])
        assert cpm.pan == "88" + account and cpm.tag("9F36") == code["atc"].to_bytes(2, "big")
        assert len(cpm.tag("9F26") or b"") == 8
        human = _run(url, "wallet", "code", account)
        assert "digits" in human and "cpm" in human

        with ctx.db.read() as session:
            row = session.get(Terminal, int(activated.response.terminal_id[1:]))
            assert row is not None
        identity = TerminalIdentity(
            row.id,
            activated.response.terminal_id,
            row.merchant_id,
            mid,
            "approved",
            activated.key_hex,
        )
        waiting = payments.create_payment(
            ctx,
            identity,
            PaymentRequest(
                out_trade_no="CLI-1", amount=15_000, currency="CNY", auth_code=code["digits"]
            ),
        ).payment
        assert waiting.status == "USER_PAYING"
        wrong = _run(url, "wallet", "confirm", account, "--pin", "000000", "--json", code=1)
        assert (wrong["code"], wrong["tries_left"]) == ("55", 2)
        # said as a person says it (issue 14: it said "1 tries left")
        again = _run(url, "wallet", "confirm", account, "--pin", "000000", code=1)
        assert "(1 try left)" in again and "tries left" not in again
        right = _run(url, "wallet", "confirm", account, "--pin", "123456", "--json")
        assert (right["code"], right["payment"]["status"]) == ("00", "SUCCESS")
        balance = _run(url, "wallet", "balance", account, "--json")
        assert (balance["balance"], balance["balance_text"]) == (185_000, "1850.00")
    finally:
        ctx.close()
    check = _run(url, "ledger", "check", "--json")
    assert check["ok"] is True and check["problems"] == []
    assert "ledger OK" in _run(url, "ledger", "check")


@pytest.mark.parametrize(
    ("tamper", "rules"),
    [
        (
            "UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'wallet'",
            {"balance_mismatch"},
        ),
        (
            "UPDATE ledger_postings SET amount = amount - 1 WHERE id = 1",
            {"entry_unbalanced", "book_unbalanced", "balance_mismatch"},
        ),
        (
            "UPDATE ledger_accounts SET balance = -5 WHERE kind = 'wallet'",
            {"balance_mismatch", "negative_balance"},
        ),
    ],
)
def test_ledger_check_catches_a_tampered_book(tmp_path: Path, tamper: str, rules: set[str]) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    _run(url, "init")
    _run(url, "wallet", "open", "--name", "Dan", "--balance", "10.00", "--pin", "123456")
    assert _run(url, "ledger", "check", "--json")["ok"] is True
    db = Database(url)
    with db.write() as session:
        session.execute(text(tamper))
    db.dispose()
    report = _run(url, "ledger", "check", "--json", code=1)
    assert report["ok"] is False
    assert {p["rule"] for p in report["problems"]} == rules
    assert "BROKEN" in _run(url, "ledger", "check", code=1)


def test_commands_need_an_initialised_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["host", "merchant", "list"], env=cli_env(url))
    assert result.exit_code == 1
    assert "scanpay host init" in result.output
