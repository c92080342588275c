"""``scanpay host wallet code`` gives a code the host accepts every time it is run
(issue 15 item 7): within one time step too, each invocation's code is a new one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from host.kit import SignedClient, World, activate, make_merchant, remember
from host.served import host_env, served
from scanpay.cli import app
from scanpay.host import HostContext, HostSettings
from scanpay.host.clock import SystemClock
from scanpay.host.services import terminals, wallets

runner = CliRunner()


def test_each_invocation_prints_a_code_the_host_accepts(tmp_path: Path) -> None:
    url, data = f"sqlite:///{tmp_path / 'host.db'}", tmp_path / "data"
    env = host_env(url, data)
    assert runner.invoke(app, ["host", "init"], env=env).exit_code == 0
    ctx = HostContext.open(HostSettings(database_url=url, data_dir=str(data)))
    try:
        issued = terminals.add_terminal(ctx, make_merchant(ctx))
        opened = wallets.open_account(ctx, name="Ann", currency="CNY", balance=9_000, pin="123456")
        remember(opened.secret_hex)
    finally:
        ctx.close()
    # Four codes at once: more than one time step holds (the host takes each step's code
    # once, and codes up to two steps ahead), so the fourth waits for its step.
    codes = []
    for _ in range(4):
        result = runner.invoke(
            app, ["host", "wallet", "code", opened.info.account, "--json"], env=env
        )
        assert result.exit_code == 0, result.output
        code = json.loads(result.stdout)
        remember(code["digits"], code["cpm"])
        codes.append(code["digits"])
    assert len(set(codes)) == 4, codes
    with served(url, data) as (base, _proc):
        key = activate(base, remember(issued.activation_code)).json()
        client = SignedClient(base, key["terminal_id"], remember(key["key"]), SystemClock())
        for n, code in enumerate(codes):
            body = {"out_trade_no": f"WC-{n}", "amount": 100, "currency": "CNY", "auth_code": code}
            paid = client.request("POST", "/v1/payments", body).json()
            assert (paid["status"], paid["code"]) == ("SUCCESS", "00"), (n, paid)


def test_codes_issued_together_are_each_accepted_once(world: World) -> None:
    # The session host's clock stands still here: the three codes are made in one step.
    issued = [wallets.issue_code(world.ctx, world.wallet.account) for _ in range(3)]
    for one in issued:
        remember(one.digits, one.cpm)
    assert len({i.step for i in issued}) == 3
    forms = [issued[0].digits, issued[1].cpm, issued[2].digits]
    for n, code in enumerate(forms):
        paid = world.terminal.pay(f"WT-{n}", 100, code).json()
        assert paid["status"] == "SUCCESS", paid
    again = world.terminal.pay("WT-again", 100, issued[0].digits).json()
    assert (again["status"], again["code"]) == ("FAILED", "14")
