"""CI's short chaos round with the payment network on SQLite, and proof that the command
reads the network's own books: a charge the host never made fails it (and the host's
reconciliation of the day finds it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaos.rounds import check_network_round, network_round_args, run_chaos_cli, text_report
from scanpay.chaos import harness


@pytest.mark.slow
def test_chaos_round_with_the_network_on_sqlite_keeps_every_invariant(tmp_path: Path) -> None:
    code, report, stderr = run_chaos_cli(*network_round_args("sqlite", tmp_path / "run"))
    check_network_round(code, report, stderr)
    assert report["config"]["hosts"] == 1
    # The facts the invariant judged: each network day of the run reconciled by the
    # host, done, the statement's trades matched, not one break.
    facts = json.loads((tmp_path / "run" / "facts.json").read_text())
    runs = facts["network"]["reconciled"]
    assert runs and all(r["status"] == "done" for r in runs), runs
    assert sum(r["matched"] for r in runs) > 0
    assert [b for r in runs for b in r["breaks"]] == []


def _charge_behind_the_hosts_back(run: Any) -> str:
    """A payment at the network for the run's merchant, straight through the adapter and
    the run's channel: the network charges a customer, the host never hears of it."""
    from scanpay.networks import registry
    from scanpay.networks.port import Channel, ChannelMode, Outcome, PayRequest

    network = run.network
    assert network is not None
    adapter = registry.create("wechat_pay", {"gateway": network.sim.url, "pay_timeout": "60"})
    merchant = network.merchant
    channel = Channel(
        "wechat_pay",
        ChannelMode.DIRECT,
        merchant["appid"],
        merchant["mchid"],
        secrets=network.secrets,
    )
    wallet = network.wallets[0][0].wallet_id
    code = network.admin("POST", f"/sim/wallets/{wallet}/codes", None)["auth_code"]
    answer = adapter.pay(PayRequest(channel, "SABOTAGE1", code, 777, "CNY", "behind the host"))
    assert answer.outcome is Outcome.APPROVED
    return "SABOTAGE1"


def test_a_charge_the_host_never_made_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recover = harness.ChaosRun.recover
    charged: list[str] = []

    def recover_then_sabotage(self: harness.ChaosRun) -> None:
        recover(self)
        charged.append(_charge_behind_the_hosts_back(self))

    monkeypatch.setattr(harness.ChaosRun, "recover", recover_then_sabotage)
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
    reconciled = report["network"]["reconciliation"]
    assert (reconciled["breaks"], reconciled["break_kinds"]) == (1, {"network_only": 1})
    english = text_report(report, "en")
    assert "the host's reconciliation: " in english and "1 breaks (network_only 1)" in english
    chinese = text_report(report, "zh-CN")
    assert "本机构对账：" in chinese and "差异 1 笔 (network_only 1)" in chinese
    assert any("customers are out" in e for e in broken["network_books_balance"]["examples"])
    assert report["network"]["sales"] == 6
