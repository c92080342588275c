"""``scanpay host wallet code`` gives a code the host accepts every time it is run
(issue 15 item 7): within one time step too, each invocation's code is a new one."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
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
    with served(url, data) as host:
        key = activate(host.url, remember(issued.activation_code)).json()
        client = SignedClient(host.url, key["terminal_id"], remember(key["key"]), SystemClock())
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


def test_times_are_said_in_the_business_day_s_zone(world: World, tmp_path: Path) -> None:
    # When the next code can be made: in the shop's time, the zone named.
    opened = wallets.open_account(world.ctx, name="Tia", currency="CNY", balance=100, pin="123456")
    remember(opened.secret_hex)
    with pytest.raises(wallets.CodeNotYet) as refused:
        for _ in range(10):  # the host's clock stands still: the steps run out
            remember(wallets.issue_code(world.ctx, opened.info.account).digits)
    zone = world.ctx.settings.zone
    local = f"{refused.value.ready_at.astimezone(zone):%H:%M:%S} ({zone.key})"
    assert local in refused.value.text.en and local in refused.value.text.zh_cn
    # The CLI's "valid until" too (Asia/Shanghai unless SCANPAY_TIMEZONE says otherwise).
    url, data = f"sqlite:///{tmp_path / 'host.db'}", tmp_path / "data"
    env = {**host_env(url, data), "SCANPAY_TIMEZONE": "America/New_York"}
    assert runner.invoke(app, ["host", "init"], env=env).exit_code == 0
    ctx = HostContext.open(HostSettings(database_url=url, data_dir=str(data)))
    try:
        own = wallets.open_account(ctx, name="Ann", currency="CNY", balance=100, pin="123456")
        remember(own.secret_hex)
    finally:
        ctx.close()
    result = runner.invoke(app, ["host", "wallet", "code", own.info.account], env=env)
    assert result.exit_code == 0, result.output
    said = re.search(r"valid until (\d\d):(\d\d):\d\d \(America/New_York\), once", result.stdout)
    assert said is not None, result.stdout
    now = datetime.now(ZoneInfo("America/New_York"))
    minutes = (int(said[1]) * 60 + int(said[2]) - (now.hour * 60 + now.minute)) % (24 * 60)
    assert minutes <= 10, (said[0], now)  # a few minutes ahead of New York's clock
