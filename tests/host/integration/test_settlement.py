"""Settlement: a business day worked out by hand, idempotence, the file, the API, the CLI."""

from __future__ import annotations

import csv
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from host.kit import LICENCE, World, cli_env, make_merchant, make_terminal
from scanpay.cli import app
from scanpay.host import HostContext, HostSettings, ManualClock
from scanpay.host.db.engine import Database
from scanpay.host.db.models import LedgerAccount, LedgerEntry
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger, merchants, payments, settlement, terminals, wallets
from scanpay.host.services.auth import TerminalIdentity
from scanpay.protocol.models import PaymentRequest

runner = CliRunner()


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def _balance(ctx: HostContext, code: str) -> int:
    """An account's balance (0 when it does not exist yet)."""
    with ctx.db.read() as session:
        found = session.scalar(select(LedgerAccount.balance).where(LedgerAccount.code == code))
    return int(found or 0)


def _to_next_day(world: World, at: time) -> date:
    """Move the host's clock forward to ``at`` on the next local day; that day."""
    zone = world.ctx.settings.zone
    today = world.host.clock.now().astimezone(zone).date()
    target = datetime.combine(today + timedelta(days=1), at, zone)
    world.host.clock.set(target)
    return target.date()


def test_a_day_worked_out_by_hand(world: World) -> None:
    day = _to_next_day(world, time(10, 0))
    trainee = world.open_wallet(balance=9_000, training=True)
    assert world.pay("ST-1", 10_000)["code"] == "00"  # 100.00
    assert world.pay("ST-2", 2_550)["code"] == "00"  # 25.50
    assert world.pay("ST-3", 1_333)["code"] == "00"  # 13.33
    assert world.pay("ST-4", 700)["code"] == "00"  # 7.00, reversed below
    assert world.pay("ST-5", 5_000, wallet=trainee, training=True)["code"] == "00"  # not settled
    assert world.pay("ST-6", 999_999)["code"] == "51"  # declined: moved nothing
    assert _ok(world.terminal.refund("ST-2-R1", "ST-2", 500))["status"] == "SUCCESS"  # 5.00
    assert _ok(world.terminal.reverse("ST-4"))["status"] == "REVERSED"
    fees_before = _balance(world.ctx, "fees:real:CNY")

    # By hand, at 0.38 % rounded half up per line (fen):
    #   ST-1  10 000 x 0.0038 = 38.00    -> 38
    #   ST-2   2 550 x 0.0038 =  9.69    -> 10
    #   ST-3   1 333 x 0.0038 =  5.0654  ->  5
    #   ST-4     700 x 0.0038 =  2.66    ->  3
    #   refund   500 x 0.0038 =  1.90    -> -2 (given back)
    #   reversal 700 x 0.0038 =  2.66    -> -3 (given back)
    # payments 4 / 14 583, refunds 1 / 500, reversals 1 / 700
    # gross = 14 583 - 500 - 700 = 13 383; fee = 56 - 2 - 3 = 51; net = 13 332
    with pytest.raises(HostError, match="30"):
        settlement.settle_day(world.ctx, day, world.merchant_id)
    world.host.clock.set(datetime.combine(day + timedelta(days=1), time(0, 6),
                                          world.ctx.settings.zone))  # fmt: skip
    [done] = settlement.settle_day(world.ctx, day, world.merchant_id)
    body = done.settlement
    assert done.created
    assert (body.payment_count, body.payment_total) == (4, 14_583)
    assert (body.refund_count, body.refund_total) == (1, 500)
    assert (body.reversal_count, body.reversal_total) == (1, 700)
    assert (body.gross, body.fee, body.net, body.fee_rate) == (13_383, 51, 13_332, "0.0038")
    assert [(line.kind, line.out_trade_no, line.amount, line.fee) for line in body.lines] == [
        ("payment", "ST-1", 10_000, 38),
        ("payment", "ST-2", 2_550, 10),
        ("payment", "ST-3", 1_333, 5),
        ("payment", "ST-4", 700, 3),
        ("refund", "ST-2", -500, -2),
        ("reversal", "ST-4", -700, -3),
    ]
    assert body.lines[4].out_refund_no == "ST-2-R1"

    # The money: the day's clearing emptied into fee income and the merchant's account.
    assert _balance(world.ctx, ledger.clearing_code(world.merchant_id, ledger.Book.REAL)) == 0
    assert _balance(world.ctx, settlement.settlement_code(world.merchant_id)) == 13_332
    assert _balance(world.ctx, "fees:real:CNY") - fees_before == 51

    # A second run changes nothing.
    with world.ctx.db.read() as session:
        entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    [again] = settlement.settle_day(world.ctx, day, world.merchant_id)
    assert not again.created and again.settlement == body
    with world.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    actions = [r.action for r in audit.history(world.ctx, merchant=world.merchant_id)]
    assert actions.count("settlement.create") == 1

    # The terminal's merchant reads it, and its file; another merchant cannot.
    api = _ok(world.terminal.request("GET", f"/v1/settlements/{day.isoformat()}"))
    assert (api["gross"], api["fee"], api["net"], len(api["lines"])) == (13_383, 51, 13_332, 6)
    file = world.terminal.request("GET", f"/v1/settlements/{day.isoformat()}/file")
    assert file.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(file.text)))
    assert rows[1][4:] == [
        "payment",
        f"{day.isoformat()}T10:00:05+08:00",
        "ST-1",
        "",
        "1",
        "100.00",
        "0.38",
        "99.62",
    ]
    totals = {r[4]: r[8:] for r in rows if r[0] == "T"}
    assert totals["all"] == ["6", "133.83", "0.51", "133.32"]
    assert totals["payment"] == ["4", "145.83", "0.56", "145.27"]
    other = make_terminal(world.host, make_merchant(world.ctx, name="Other Shop"))
    assert other.request("GET", f"/v1/settlements/{day.isoformat()}").status_code == 404


def test_concurrent_settlements_of_one_day_settle_once(world: World) -> None:
    day = _to_next_day(world, time(9, 0))
    world.pay("SC-1", 4_321)
    world.host.clock.set(datetime.combine(day + timedelta(days=1), time(1, 0),
                                          world.ctx.settings.zone))  # fmt: skip
    barrier = threading.Barrier(4)

    def run(_: int) -> bool:
        barrier.wait()
        [result] = settlement.settle_day(world.ctx, day, world.merchant_id)
        return result.created

    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(run, range(4)))
    assert sorted(created) == [False, False, False, True]
    assert _balance(world.ctx, settlement.settlement_code(world.merchant_id)) == 4_321 - 16


def test_a_refund_after_settlement_is_owed_back_next_day(world: World) -> None:
    zone = world.ctx.settings.zone
    day = _to_next_day(world, time(9, 0))
    world.pay("SR-1", 10_000)
    world.host.clock.set(datetime.combine(day + timedelta(days=1), time(9, 0), zone))
    [first] = settlement.settle_day(world.ctx, day, world.merchant_id)
    assert first.settlement.net == 10_000 - 38
    assert _ok(world.terminal.refund("SR-1-R1", "SR-1", 10_000))["status"] == "SUCCESS"
    world.host.clock.set(datetime.combine(day + timedelta(days=2), time(9, 0), zone))
    [second] = settlement.settle_day(world.ctx, day + timedelta(days=1), world.merchant_id)
    body = second.settlement
    assert (body.refund_count, body.gross, body.fee, body.net) == (1, -10_000, -38, -9_962)
    # The merchant got 9 962, then gave 9 962 back: it is square, and the fee too.
    assert _balance(world.ctx, settlement.settlement_code(world.merchant_id)) == 0


# ------------------------------------------------------------------ the command line


def test_settle_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    assert runner.invoke(app, ["host", "init"], env=cli_env(url)).exit_code == 0
    # Two days ago (host time) a merchant took two payments; the CLI runs on the real clock.
    zone = HostSettings(database_url=url).zone
    day = datetime.now(zone).date() - timedelta(days=2)
    clock = ManualClock(datetime.combine(day, time(15, 0), zone).astimezone(UTC))
    ctx = HostContext(HostSettings(database_url=url), Database(url), clock)
    try:
        info = merchants.add_merchant(
            ctx, name="Tea House", city="Fuzhou", mcc="5814", license=LICENCE, fee_rate="0.006"
        )
        merchants.set_status(ctx, info.merchant_id, "approve")
        issued = terminals.add_terminal(ctx, info.merchant_id)
        activated = terminals.activate(ctx, issued.activation_code, "1.0.0")
        identity = TerminalIdentity(
            int(activated.response.terminal_id[1:]),
            activated.response.terminal_id,
            int(info.merchant_id[1:]),
            info.merchant_id,
            "approved",
            activated.key_hex,
        )
        wallet = wallets.open_account(ctx, name="Ann", currency="CNY", balance=50_000, pin="123456")
        for number, amount in (("C-1", 1_000), ("C-2", 8_250)):
            clock.advance(10)
            code = wallets.issue_code(ctx, wallet.info.account).digits
            request = PaymentRequest(
                out_trade_no=number, amount=amount, currency="CNY", auth_code=code
            )
            assert payments.create_payment(ctx, identity, request).payment.status == "SUCCESS"
    finally:
        ctx.close()
    out = tmp_path / "files"
    args = ["host", "--operator", "alice", "settle", "--date", day.isoformat(), "--out", str(out)]
    result = runner.invoke(app, [*args, "--json"], env=cli_env(url))
    assert result.exit_code == 0, result.output
    [settled] = json.loads(result.stdout)
    # 1 000 x 0.006 = 6; 8 250 x 0.006 = 49.5 -> 50 (half up): fee 56, net 9 194.
    assert (settled["merchant_id"], settled["gross"], settled["fee"], settled["net"]) == (
        info.merchant_id,
        9_250,
        56,
        9_194,
    )
    assert (settled["created"], settled["lines"], settled["fee_rate"]) == (True, 2, "0.006")
    path = Path(settled["file"])
    assert path == out / info.merchant_id / f"{day.isoformat()}.csv"
    rows = list(csv.reader(path.open()))
    assert [r[6] for r in rows if r[0] == "D"] == ["C-1", "C-2"]
    assert [r[8:] for r in rows if r[0] == "T" and r[4] == "all"] == [
        ["2", "92.50", "0.56", "91.94"]
    ]
    again = runner.invoke(app, [*args], env=cli_env(url))
    assert again.exit_code == 0 and "already settled" in again.output
    shown = runner.invoke(
        app,
        ["host", "audit", "show", "--merchant", info.merchant_id, "--json"],
        env=cli_env(url),
    )
    actors = {(r["action"], r["actor"]) for r in json.loads(shown.stdout)}
    assert ("settlement.create", "operator:alice") in actors
    today = runner.invoke(
        app,
        ["host", "settle", "--date", datetime.now(zone).date().isoformat(), "--json"],
        env=cli_env(url),
    )
    assert today.exit_code == 1 and json.loads(today.stdout)["error"]["field"] == "date"
