"""Daily reconciliation (issue 17) of real WeChat Pay payments: terminal -> host -> the
WeChat Pay simulator, then the day's trade bill against the host's records, on SQLite
and PostgreSQL.

Both clocks (the host's and the simulator's) are the tests' own and move together;
each test takes a day of its own, at noon in Beijing (the bill's days are Beijing
days), so the bill of the day holds that test's trades only. Breaks are planted by
changing the host's rows in its database, and by paying or refunding at the
simulator directly under numbers the host never sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import Result

from host.kit import make_merchant, make_terminal, remember
from host.network_kit import (
    AMOUNT,
    BEIJING,
    Shop,
    Stack,
    change_payment,
    host_cli,
    host_database,
    payment_of,
    run_audits,
    run_of,
    stack_fixture,
)
from networks.wechat.kit import v3_secrets
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import alembic_config, current_revision, head_revision, upgrade
from scanpay.host.db.models import Base
from scanpay.host.domain.break_policy import PolicyAction
from scanpay.host.domain.reconciliation import BreakKind
from scanpay.host.services import audit, channels, ledger, network_accounts, network_refunds
from scanpay.host.services.break_policy import apply_policy
from scanpay.host.services.context import HostContext
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.services.reconciliation_records import (
    ReconciliationError,
    RunInfo,
    RunStatus,
    list_breaks,
    list_runs,
    resolve_break,
)
from scanpay.i18n import Text
from sim.kit import Merchant as SimMerchant
from sim.kit import v3_call

K = BreakKind
PARTNER_PAY = "/v3/pay/partner/transactions/codepay"
ALICE = audit.Actor.operator("alice")

#: The first test day: 2 March 2026, noon in Beijing.
START = datetime(2026, 3, 2, 12, 0, tzinfo=BEIJING)

stack = stack_fixture("reconciliation", START, Stack)


def _kinds(run: RunInfo) -> set[tuple[BreakKind, str]]:
    return {(b.kind, b.trade_no) for b in run.breaks}


def _run_audits(ctx: HostContext, run: RunInfo) -> list[audit.AuditEntry]:
    return run_audits(ctx, run.channel_key, run.day)


# ------------------------------------------------------------------------------ tests


def test_a_clean_day_matches_every_trade_with_no_break(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    shop.pay(amount=1)
    # Paid after the customer's password, found by the leg's query.
    waited = shop.pay(shop.code("USERPAYING_SUCCESS", 3))
    stack.advance(5)
    assert stack.sweep() >= 1 and shop.status(waited) == "SUCCESS"
    declined = shop.pay(shop.code("NOTENOUGH"))
    # Approved, then reversed by the terminal: the network's charge and its reversal.
    reversed_ = shop.pay()
    no = shop.payment(reversed_).out_trade_no
    assert shop.terminal.reverse(no).json()["status"] == "REVERSED"
    stack.advance(15)
    assert stack.sweep() >= 1
    # Never confirmed: reversed past the deadline, closed at the network, no line.
    never = shop.pay(shop.code("USERPAYING_NEVER"))
    for _ in range(10):
        stack.advance(5)
        stack.sweep()
    assert {shop.status(t) for t in (declined, never)} == {"FAILED"}

    runs = reconcile(stack.ctx, day)
    run = run_of(runs, shop.merchant_id)
    assert run.status is RunStatus.DONE and run.network == "wechat_pay"
    assert run.breaks == () and (run.open_breaks, run.resolved_breaks) == (0, 0)
    # Three sales and one sale reversed; the bill has four payments and the reversal.
    assert (run.matched, run.lines) == (4, 5)
    assert run.merchant_id == shop.merchant_id and run.day == day
    [record] = _run_audits(stack.ctx, run)
    assert record.action == "reconciliation.run" and record.actor == "host:scanpay"
    assert (record.data["matched"], record.data["open_breaks"], record.data["status"]) == (
        4,
        0,
        "done",
    )
    assert record.merchant_id == shop.merchant_id
    assert list_runs(stack.ctx, day=day, channel_key=shop.merchant_id) == [_without_breaks(run)]
    assert ledger.check(stack.ctx).ok


def test_refunds_made_through_the_network_match_their_lines(stack: Stack) -> None:
    """A refund of a WeChat payment goes back through WeChat Pay under the host refund's
    id: the bill's refund lines are the host's refunds, answered at once or later."""
    day = stack.new_day()
    shop = Shop.open(stack)
    at_once = shop.payment(shop.pay()).out_trade_no
    later = shop.payment(shop.pay(shop.code("REFUND_PROCESSING"))).out_trade_no
    done = shop.terminal.refund("R" + at_once[1:], at_once, 400).json()
    assert done["status"] == "SUCCESS", done
    waiting = shop.terminal.refund("R" + later[1:], later, AMOUNT).json()
    assert waiting["status"] == "PROCESSING", waiting
    stack.advance(6)
    assert network_refunds.run_due(stack.ctx) == 1

    run = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert run.status is RunStatus.DONE and run.breaks == ()
    assert (run.matched, run.lines) == (4, 4)  # two payments, two refunds


def test_the_policy_reverses_a_charge_the_host_failed_and_leaves_the_rest(stack: Stack) -> None:
    """Resolution by policy: the network charged a sale the host failed, so the host
    reverses it there (the customer's money back) and resolves the break, audited; a
    capture the network never charged is queried and stays open; a sale the host never
    made is the operator's. Run again, nothing is done twice."""
    day = stack.new_day()
    shop = Shop.open(stack)
    failed = shop.pay()
    shop.change(failed, status="FAILED")
    never = shop.pay(shop.code("NOTENOUGH"))
    shop.change(never, status="SUCCESS", paid_at=stack.ctx.now())
    foreign = shop.pay_at_the_network()
    run = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert _kinds(run) == {
        (K.NETWORK_ONLY, failed),
        (K.HOST_ONLY, never),
        (K.NETWORK_ONLY, foreign),
    }
    before = stack.sim.balance(shop.wallet_id)

    mine = {failed, never, foreign}
    done = {r.trade_no: r for r in apply_policy(stack.ctx, day=day) if r.trade_no in mine}
    assert (done[failed].action, done[failed].resolution) == (PolicyAction.REVERSE, "reversed")
    assert stack.sim.balance(shop.wallet_id) == before + AMOUNT  # back to the customer
    assert (done[never].action, done[never].resolution) == (PolicyAction.QUERY, None)
    assert (done[foreign].action, done[foreign].resolution) == (PolicyAction.OPERATOR, None)
    by_trade = {b.trade_no: b for b in list_breaks(stack.ctx, day=day)}
    assert by_trade[failed].resolved and by_trade[failed].resolved_by == "host:policy"
    assert "reversed at the network" in (by_trade[failed].resolution or "")
    assert not by_trade[never].resolved and not by_trade[foreign].resolved
    [record] = audit.history(stack.ctx, subject=("recon_break", str(by_trade[failed].id)))
    assert (record.action, record.actor) == ("reconciliation.resolve", "host:policy")

    again = {r.trade_no: r for r in apply_policy(stack.ctx, day=day) if r.trade_no in mine}
    assert failed not in again and set(again) == {never, foreign}  # resolved: left alone
    assert stack.sim.balance(shop.wallet_id) == before + AMOUNT  # reversed once
    shown = host_cli(stack, "reconcile", "policy", "--day", day.isoformat(), lang="zh_CN.UTF-8")
    assert shown.exit_code == 0, shown.output
    assert "留待操作员处理" in shown.output and "仍未处理" in shown.output


def _without_breaks(run: RunInfo) -> RunInfo:
    return replace(run, breaks=())


def test_each_planted_break_is_found_once_a_rerun_changes_nothing_and_a_resolution_holds(
    stack: Stack,
) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    a, b, c, f, g = (shop.pay() for _ in range(5))
    d = shop.pay(shop.code("NOTENOUGH"))
    shop.change(a, amount=AMOUNT + 1)  # the host's amount is not the network's
    shop.change(b, currency="HKD")
    shop.change(c, status="FAILED")  # charged at the network, failed at the host
    shop.change(d, status="SUCCESS", paid_at=stack.ctx.now())  # never charged
    foreign = shop.pay_at_the_network()
    refund_no = shop.refund_at_the_network(f, 100)

    [run] = [r for r in reconcile(stack.ctx, day) if r.channel_key == shop.merchant_id]
    assert _kinds(run) == {
        (K.AMOUNT_MISMATCH, a),
        (K.CURRENCY_MISMATCH, b),
        (K.NETWORK_ONLY, c),
        (K.HOST_ONLY, d),
        (K.NETWORK_ONLY, foreign),
        (K.REFUND_NETWORK_ONLY, f),
    }
    assert len(run.breaks) == 6 and run.matched == 2  # f's payment and g
    by_trade = {(x.kind, x.trade_no): x for x in run.breaks}
    mismatch = by_trade[K.AMOUNT_MISMATCH, a]
    assert (mismatch.host_amount, mismatch.network_amount, mismatch.payment_id) == (
        AMOUNT + 1,
        AMOUNT,
        a,
    )
    assert mismatch.transaction_id and mismatch.transaction_id.startswith("42")
    stranger = by_trade[K.NETWORK_ONLY, foreign]
    assert (stranger.payment_id, stranger.network_amount) == (None, 777)
    assert stranger.merchant_id == shop.merchant_id  # the direct channel's
    refund = by_trade[K.REFUND_NETWORK_ONLY, f]
    assert (refund.refund_no, refund.network_amount, refund.payment_id) == (refund_no, 100, f)
    failed = by_trade[K.NETWORK_ONLY, c]
    assert failed.detail == "host_status:FAILED"  # stored as a code: said when read
    assert failed.detail_text == Text("本机构记录的状态为 FAILED", "the host has it FAILED")
    assert stranger.detail_text == Text("本机构没有该笔支付", "no such payment at the host")
    assert all(x.currency == "CNY" for x in run.breaks if x.kind is not K.CURRENCY_MISMATCH)
    assert g not in {x.trade_no for x in run.breaks}

    # Again: the same breaks, the same rows.
    [again] = [r for r in reconcile(stack.ctx, day) if r.channel_key == shop.merchant_id]
    assert again.id == run.id and again.breaks == run.breaks and again.matched == 2
    assert len(_run_audits(stack.ctx, run)) == 2

    # An operator resolves one: recorded, audited, and once only.
    resolved = resolve_break(stack.ctx, stranger.id, "  a sale of the shop's web store  ", ALICE)
    assert resolved.resolved and resolved.resolution == "a sale of the shop's web store"
    assert resolved.resolved_by == "operator:alice" and resolved.resolved_at == stack.ctx.now()
    [record] = audit.history(stack.ctx, subject=("recon_break", str(stranger.id)))
    assert (record.action, record.actor) == ("reconciliation.resolve", "operator:alice")
    assert record.data["resolution"] == resolved.resolution
    assert record.data["trade_no"] == foreign and record.merchant_id == shop.merchant_id
    with pytest.raises(ReconciliationError) as refused:
        resolve_break(stack.ctx, stranger.id, "again", ALICE)
    assert (refused.value.reason, refused.value.code) == ("break_resolved", "12")
    assert refused.value.text.zh_cn and refused.value.text.en

    # The host's row put right: that break goes, the resolved one stays, once.
    shop.change(a, amount=AMOUNT)
    stack.advance(60)
    [third] = [r for r in reconcile(stack.ctx, day) if r.channel_key == shop.merchant_id]
    assert _kinds(third) == _kinds(run) - {(K.AMOUNT_MISMATCH, a)}
    assert (third.matched, third.open_breaks, third.resolved_breaks) == (3, 4, 1)
    kept = {x.id: x for x in third.breaks}
    assert kept[stranger.id] == resolved
    assert {x.id for x in third.breaks} < {x.id for x in run.breaks}  # rows kept, not new
    assert list_breaks(stack.ctx, run_id=run.id, resolved=True) == [resolved]
    still_open = list_breaks(stack.ctx, day=day, merchant=shop.merchant_id, resolved=False)
    assert {x.trade_no for x in still_open} == {b, c, d, f}
    assert [x.trade_no for x in list_breaks(stack.ctx, day=day, kind="host_only")] == [d]
    [listed] = list_runs(stack.ctx, day=day, channel_key=shop.merchant_id)
    assert (listed.open_breaks, listed.resolved_breaks, listed.breaks) == (4, 1, ())
    last = _run_audits(stack.ctx, run)[0]
    assert (last.data["removed"], last.data["added"], last.data["kinds"]) == (
        1,
        0,
        {"currency_mismatch": 1, "host_only": 1, "network_only": 1, "refund_network_only": 1},
    )


def test_a_statement_the_network_does_not_give_keeps_the_last_breaks(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    trade_no = shop.pay()
    shop.lose_the_key()

    run = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert run.status is RunStatus.STATEMENT_NOT_READY
    assert run.network_code == "channel_secret_missing"
    assert (run.matched, run.lines, run.breaks) == (0, 0, ())

    shop.get_the_key_back()
    shop.change(trade_no, status="FAILED")
    run = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert run.status is RunStatus.DONE and run.network_code is None
    assert _kinds(run) == {(K.NETWORK_ONLY, trade_no)}

    shop.lose_the_key()
    again = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert again.status is RunStatus.STATEMENT_NOT_READY and again.id == run.id
    assert again.breaks == run.breaks and again.lines == 1  # those of the last statement
    statuses = [e.data["status"] for e in _run_audits(stack.ctx, run)]
    assert statuses == ["statement_not_ready", "done", "statement_not_ready"]
    shop.get_the_key_back()


def test_a_service_providers_account_is_reconciled_once_for_its_sub_merchants(
    stack: Stack,
) -> None:
    day = stack.new_day()
    sim, ctx = stack.sim, stack.ctx
    partner = SimMerchant(
        sim.admin("POST", "/sim/merchants", json={"kind": "partner", "mode": "public_key"})
    )
    secrets = {"api": "v3", **v3_secrets(partner, "public_key")}
    remember(secrets["private_key"], secrets["api_v3_key"])
    label = "sp-" + uuid.uuid4().hex[:8]
    network_accounts.add_account(
        ctx,
        network="wechat_pay",
        label=label,
        app_id=partner.appid,
        mch_id=partner.mchid,
        secrets=secrets,
    )
    wallet = int(sim.wallet(100_000)["wallet_id"])
    merchants, subs, trades = [], [], []
    for _ in range(2):
        sub = sim.admin("POST", f"/sim/merchants/{partner.mchid}/sub-merchants", json={})
        merchant_id = make_merchant(ctx)
        channels.add_channel(
            ctx,
            merchant_id,
            network="wechat_pay",
            mode="service_provider",
            account=label,
            sub_mch_id=sub["mchid"],
        )
        terminal = make_terminal(stack.host, merchant_id)
        no = "N" + uuid.uuid4().hex[:20]
        answer = terminal.pay(no, AMOUNT, remember(sim.code(wallet)))
        assert answer.json()["status"] == "SUCCESS", answer.text
        merchants.append(merchant_id)
        subs.append(sub["mchid"])
        trades.append(payment_of(ctx, merchant_id, no).public_id)
    # A sale at the account under a number the host never sent: the account's break.
    foreign = "X" + uuid.uuid4().hex[:20]
    status, body = v3_call(
        sim.client(partner),
        "POST",
        PARTNER_PAY,
        {
            "sp_appid": partner.appid,
            "sp_mchid": partner.mchid,
            "sub_mchid": subs[0],
            "description": "sold elsewhere",
            "out_trade_no": foreign,
            "payer": {"auth_code": remember(sim.code(wallet))},
            "amount": {"total": 500},
            "scene_info": {"device_id": "POS-9"},
        },
    )
    assert status == 200, body
    change_payment(ctx, trades[1], amount=AMOUNT - 4)  # the second sub-merchant's sale

    runs = reconcile(ctx, day, "wechat_pay")
    run = run_of(runs, f"account:{label}")
    assert not [r for r in runs if r.channel_key in merchants]  # the account's, once
    assert run.merchant_id is None and run.status is RunStatus.DONE
    assert (run.matched, run.lines) == (1, 3)
    by_kind = {x.kind: x for x in run.breaks}
    assert _kinds(run) == {(K.NETWORK_ONLY, foreign), (K.AMOUNT_MISMATCH, trades[1])}
    assert by_kind[K.NETWORK_ONLY].merchant_id is None
    # A line is the merchant's through its trade number.
    assert by_kind[K.AMOUNT_MISMATCH].merchant_id == merchants[1]
    assert list_breaks(ctx, merchant=merchants[1]) == [by_kind[K.AMOUNT_MISMATCH]]


def test_a_sale_across_midnight_is_no_break_on_either_day(stack: Stack) -> None:
    day = stack.new_day(at=time(23, 59, 50))
    shop = Shop.open(stack)
    trade_no = shop.pay(shop.code("USERPAYING_SUCCESS", 1))
    assert shop.status(trade_no) == "USER_PAYING"
    stack.advance(5)  # 23:59:55: the network settles it when it is next read
    [order] = stack.sim.admin("GET", "/sim/orders", params={"mchid": shop.wechat.mchid})
    assert order["state"] == "SUCCESS"
    stack.advance(10)  # 00:00:05 the next day: the host's query finds it paid
    assert stack.sweep() >= 1 and shop.status(trade_no) == "SUCCESS"
    paid_at = shop.payment(trade_no).paid_at
    assert paid_at is not None and paid_at.astimezone(BEIJING).date() == day + timedelta(days=1)

    first = run_of(reconcile(stack.ctx, day), shop.merchant_id)
    assert (first.matched, first.breaks) == (1, ())
    second = run_of(reconcile(stack.ctx, day + timedelta(days=1)), shop.merchant_id)
    assert second.status is RunStatus.DONE and second.lines == 0  # no trade that day
    assert (second.matched, second.breaks) == (0, ())
    # Without the previous day's line it would be missing: the host captured it that day.
    shop.change(trade_no, created_at=datetime.combine(second.day, time(0, 0, 1), BEIJING))
    third = run_of(reconcile(stack.ctx, second.day), shop.merchant_id)
    assert _kinds(third) == {(K.HOST_ONLY, trade_no)}


def test_refusals_are_typed_and_said_in_both_languages(stack: Stack) -> None:
    ctx = stack.ctx
    tomorrow = ctx.now().astimezone(BEIJING).date() + timedelta(days=1)
    cases: list[tuple[Callable[[], object], str, str]] = [
        (lambda: reconcile(ctx, tomorrow), "day_in_future", "30"),
        (lambda: reconcile(ctx, tomorrow, "paypal"), "network_unknown", "30"),
        (lambda: resolve_break(ctx, 10**9, "checked", ALICE), "no_such_break", "25"),
        (lambda: resolve_break(ctx, 1, "   ", ALICE), "bad_resolution", "30"),
        (lambda: resolve_break(ctx, 1, "x" * 1001, ALICE), "bad_resolution", "30"),
    ]
    for call, reason, code in cases:
        with pytest.raises(ReconciliationError) as refused:
            call()
        assert (refused.value.reason, refused.value.code) == (reason, code)
        assert refused.value.text.zh_cn != refused.value.text.en
        assert refused.value.http_status >= 400


# ------------------------------------------------------------------------- migration


def _downgrade(db: Database, revision: str) -> None:
    config = alembic_config()
    with db.write() as session:
        config.attributes["connection"] = session.connection()
        command.downgrade(config, revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_goes_down_and_up_again(tmp_path: Path, backend: str) -> None:
    tables = {"reconciliation_runs", "reconciliation_breaks"}
    with host_database(tmp_path, backend) as url:
        db = Database(url)
        try:
            # Later revisions go down and up with it (0010 is reconciliation's own).
            head = head_revision()
            assert current_revision(db) == head >= "0010"
            _downgrade(db, "0009")
            assert current_revision(db) == "0009"
            with db.engine.connect() as conn:
                assert not tables & set(inspect(conn).get_table_names())
            assert upgrade(db) == head
            with db.engine.connect() as conn:
                assert tables <= set(inspect(conn).get_table_names())
                diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == []
        finally:
            db.dispose()


def _cli(stack: Stack, *args: str, lang: str = "en_US.UTF-8") -> Result:
    return host_cli(stack, "reconcile", *args, lang=lang, SCANPAY_OPERATOR="bob")


def test_the_command_line_runs_reads_and_resolves_a_day(stack: Stack) -> None:
    day = stack.new_day()
    shop = Shop.open(stack)
    shop.pay()
    stray = shop.pay_at_the_network()

    ran = _cli(stack, "run", "--day", day.isoformat(), "--network", "wechat_pay", "--json")
    assert ran.exit_code == 1, ran.output  # a break is open: a cron job sees it
    [mine] = [r for r in json.loads(ran.output) if r["channel_key"] == shop.merchant_id]
    assert (mine["status"], mine["matched"], mine["open_breaks"]) == ("done", 1, 1)
    [found] = mine["breaks"]
    assert (found["kind"], found["trade_no"], found["network_amount"]) == (
        "network_only",
        stray,
        777,
    )

    text = _cli(stack, "breaks", "--day", day.isoformat(), "--open", lang="zh_CN.UTF-8")
    assert text.exit_code == 0, text.output
    assert f"#{found['id']} network_only（网络已扣款" in text.output and "7.77 CNY" in text.output
    assert "说明：本机构没有该笔支付" in text.output  # the detail, in the reader's language
    assert found["detail_text"] == {
        "zh-CN": "本机构没有该笔支付",
        "en": "no such payment at the host",
    }
    english = _cli(stack, "breaks", "--day", day.isoformat(), "--open")
    assert "    detail: no such payment at the host" in english.output, english.output

    bad = _cli(stack, "resolve", str(found["id"]), "--resolution", "  ")
    assert bad.exit_code == 1 and "bad_resolution" not in bad.output  # said in words
    done = _cli(stack, "resolve", str(found["id"]), "--resolution", "refunded at the platform")
    assert done.exit_code == 0, done.output
    assert "resolved: refunded at the platform (operator:bob" in done.output
    again = _cli(stack, "resolve", str(found["id"]), "--resolution", "twice", "--json")
    assert again.exit_code == 1 and json.loads(again.output)["error"]["code"] == "12"

    left = _cli(stack, "breaks", "--day", day.isoformat(), "--open", "--json")
    assert [b["id"] for b in json.loads(left.output) if b["channel_key"] == shop.merchant_id] == []
    runs = _cli(stack, "runs", "--day", day.isoformat())
    assert f"{shop.merchant_id}: reconciled, 1 matched, 0 open breaks, 1 resolved" in runs.output
    bad_day = _cli(stack, "run", "--day", "2026-13-01")
    assert bad_day.exit_code == 2 and "YYYY-MM-DD" in bad_day.output
