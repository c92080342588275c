"""CI's short chaos round on SQLite, and proof that the command fails on a double charge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chaos.rounds import check_round, round_args, run_chaos_cli
from scanpay.chaos import harness


@pytest.mark.slow
def test_chaos_round_on_sqlite_keeps_every_invariant(tmp_path: Path) -> None:
    code, report, stderr = run_chaos_cli(*round_args("sqlite", tmp_path / "run", seed=9))
    check_round(code, report, stderr, db="sqlite")
    assert report["config"]["hosts"] == 1


def _charge_one_payment_again(run: Any) -> str:
    """A second capture of an approved payment, posted straight into the host's ledger
    (balanced, as a real double charge would be): only the exactly-once checks see it."""
    from sqlalchemy import select

    from scanpay.host.db.models import Merchant, Payment, WalletAccount
    from scanpay.host.domain import ledger as rules
    from scanpay.host.domain.ledger import Book
    from scanpay.host.services import ledger
    from scanpay.host.services.context import HostContext

    ctx = HostContext.open(run.settings)
    try:
        with ctx.db.write() as session:
            row = session.scalar(select(Payment).where(Payment.status == "SUCCESS").limit(1))
            assert row is not None and row.wallet_account_id is not None
            account = session.get(WalletAccount, row.wallet_account_id)
            merchant = session.get(Merchant, row.merchant_id)
            assert account is not None and account.number is not None and merchant is not None
            entry = rules.capture(
                Book.REAL,
                row.currency,
                ledger.wallet_code(account.number),
                ledger.clearing_code(merchant.public_id, Book.REAL),
                row.amount,
            )
            ledger.post(session, entry, kind="capture", now=ctx.now(), payment_id=row.id)
            return row.out_trade_no
    finally:
        ctx.close()


def test_a_double_charge_in_the_database_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The invariants read the real database: a second capture of one sale, slipped in
    after recovery, makes ``scanpay chaos`` exit 1 and name the sale."""
    recover = harness.ChaosRun.recover
    charged: list[str] = []

    def recover_then_sabotage(self: harness.ChaosRun) -> None:
        recover(self)
        charged.append(_charge_one_payment_again(self))

    monkeypatch.setattr(harness.ChaosRun, "recover", recover_then_sabotage)
    code, report, _ = run_chaos_cli(
        "--sales", "8", "--fault-rate", "0", "--terminals", "1", "--dir", str(tmp_path / "run")
    )
    assert code == 1
    assert report["ok"] is False
    broken = {i["name"]: i for i in report["invariants"] if not i["ok"]}
    assert {"charged_once", "no_double_charge", "settlement_agrees"} <= set(broken)
    assert "ledger_balances" not in broken  # a balanced entry: the books alone cannot tell
    assert any(
        charged[0] in e and "captured 2 times" in e for e in broken["charged_once"]["examples"]
    )
    assert report["faults"]["host_sigkill"] == 0  # no faults at rate 0
