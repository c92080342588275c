"""CI's short chaos round with the payment networks on SQLite, and proof that the command
reads each network's own books: a charge the host never made fails it (and the host's
reconciliation of the day finds it), and so does a refund taken twice there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos.rounds import check_network_round, network_round_args, run_chaos_cli, text_report
from scanpay.chaos import harness
from scanpay.chaos.config import NETWORKS


@pytest.mark.slow
def test_chaos_round_with_the_network_on_sqlite_keeps_every_invariant(tmp_path: Path) -> None:
    code, report, stderr = run_chaos_cli(*network_round_args("sqlite", tmp_path / "run"))
    check_network_round(code, report, stderr)
    assert report["config"]["hosts"] == 1
    # The facts the invariant judged: each network day of the run reconciled by the
    # host, done, the statement's trades matched, not one break - at each network.
    facts = json.loads((tmp_path / "run" / "facts.json").read_text())
    assert [n["network"] for n in facts["networks"]] == list(NETWORKS)
    for network in facts["networks"]:
        runs = network["reconciled"]
        assert runs and all(r["status"] == "done" for r in runs), runs
        assert sum(r["matched"] for r in runs) > 0
        assert [b for r in runs for b in r["breaks"]] == []


def _straight_to(network: Any) -> tuple[Any, Any]:
    """The host's adapter straight at the network's simulator, and the run's channel
    there: (adapter, channel)."""
    from scanpay.networks import registry

    options = {**network.adapter_options(), "pay_timeout": "60"}
    return registry.create(network.name, options), network.channel()


def _charge_behind_the_hosts_back(run: Any) -> str:
    """A payment at the network for the run's merchant, straight through the adapter and
    the run's channel: the network charges a customer, the host never hears of it."""
    from scanpay.networks.port import Outcome, PayRequest

    [network] = run.networks
    adapter, channel = _straight_to(network)
    wallet = network.wallets[0][0].wallet_id
    code = network.admin("POST", f"/sim/wallets/{wallet}/codes", None)["auth_code"]
    answer = adapter.pay(PayRequest(channel, "SABOTAGE1", code, 777, "CNY", "behind the host"))
    assert answer.outcome is Outcome.APPROVED
    return "SABOTAGE1"


def _sabotaged_run(tmp_path: Path, sabotage: Any, *args: str) -> tuple[int, dict[str, Any]]:
    """A short fault-free run through one network with ``sabotage(run)`` done once the
    run recovered: (exit code, report)."""
    recover = harness.ChaosRun.recover

    def recover_then_sabotage(self: harness.ChaosRun) -> None:
        recover(self)
        sabotage(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness.ChaosRun, "recover", recover_then_sabotage)
        code, report, _ = run_chaos_cli(
            "--sales",
            "6",
            "--fault-rate",
            "0",
            "--terminals",
            "1",
            "--network-share",
            "1",
            "--dir",
            str(tmp_path / "run"),
            *args,
        )
    return code, report


def test_a_charge_the_host_never_made_fails_the_command(tmp_path: Path) -> None:
    charged: list[str] = []
    code, report = _sabotaged_run(
        tmp_path,
        lambda run: charged.append(_charge_behind_the_hosts_back(run)),
        "--networks",
        "wechat_pay",
    )
    assert code == 1
    assert report["ok"] is False
    broken = {i["name"]: i for i in report["invariants"] if not i["ok"]}
    assert set(broken) == {
        "network_agrees",
        "network_books_balance",
        "network_day_reconciles",
    }, broken
    assert any(charged[0] in e for e in broken["network_agrees"]["examples"])
    # The host's reconciliation sees the charge on the statement, not in its books.
    assert broken["network_day_reconciles"]["violations"] == 1
    # The break's detail, as the host's reconciliation says it (in English here).
    assert broken["network_day_reconciles"]["examples"][0].endswith(
        f"network_only break on {charged[0]}: no such payment at the host"
    )
    # The text report's reconciliation line, in either language, has the break.
    network = report["networks"]["wechat_pay"]
    reconciled = network["reconciliation"]
    assert (reconciled["breaks"], reconciled["break_kinds"]) == (1, {"network_only": 1})
    english = text_report(report, "en")
    assert "wechat_pay: the host's reconciliation: " in english
    assert "1 breaks (network_only 1)" in english
    chinese = text_report(report, "zh-CN")
    assert "本机构对账：" in chinese and "差异 1 笔 (network_only 1)" in chinese
    assert any("customers are out" in e for e in broken["network_books_balance"]["examples"])
    assert network["sales"] == 6
    assert list(report["networks"]) == ["wechat_pay"]


def _refund_again_behind_the_hosts_back(run: Any) -> str:
    """A trade the host refunded part of, refunded at the network once more by the
    amount of its first refund under a new number: the customer gets it twice, the host
    never hears of the second."""
    import httpx

    from scanpay.networks.port import RefundRequest, RefundStatus

    [network] = run.networks
    with httpx.Client(base_url=network.sim.url, timeout=30, trust_env=False) as admin:
        side = network.rail.read(admin, network.merchant, [])
    partly = [o for o in side.orders if o.state == "REFUND" and o.refunded < o.total]
    assert partly, side.orders
    order = partly[0]
    first = next(r for r in side.refunds if r.trade_no == order.trade_no and not r.reverse)
    adapter, channel = _straight_to(network)
    again = min(first.amount, order.total - order.refunded)
    request = RefundRequest(channel, order.trade_no, "SABOTAGER1", again, order.total, "CNY", "x")
    assert adapter.refund(request).status is RefundStatus.SUCCESS
    return "SABOTAGER1"


@pytest.mark.parametrize("name", NETWORKS)
def test_a_refund_taken_twice_at_the_network_fails_the_command(tmp_path: Path, name: str) -> None:
    refunded: list[str] = []
    # Seed 11's first six sales have two partial refunds of the network's payments,
    # whose first refund WeChat Pay answers PROCESSING (the host's sweeper asks again).
    code, report = _sabotaged_run(
        tmp_path,
        lambda run: refunded.append(_refund_again_behind_the_hosts_back(run)),
        "--networks",
        name,
        "--seed",
        "11",
    )
    assert code == 1
    broken = {i["name"]: i for i in report["invariants"] if not i["ok"]}
    assert "network_refunds_once" in broken, report["invariants"]
    examples = broken["network_refunds_once"]["examples"]
    assert broken["network_refunds_once"]["violations"] == 1, examples
    assert examples[0].startswith(f"{name}: refund {refunded[0]} of ")
    assert examples[0].endswith("taken at the network, the host has no such refund")
    # The customer got it back twice: the money and the day say so too.
    assert {"network_charged_once", "network_books_balance", "network_day_reconciles"} <= set(
        broken
    )
    # Only the sabotage: the run's own refunds all went through the network once.
    refunds = report["networks"][name]["refunds"]
    paid = refunds["host"]["SUCCESS"]
    assert set(refunds["host"]) == {"SUCCESS"} and paid >= 2, refunds
    assert refunds["at_network"] == paid + 1
    line = f"{name} refunds: the host's {{'SUCCESS': {paid}}}; {paid + 1} taken at the network"
    assert line in text_report(report, "en")
