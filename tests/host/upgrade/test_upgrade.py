"""Upgrading an installation of every earlier release, on both databases (issue 15, item 2).

Each case loads a database made by that release's own code (``fixtures/``, built by
``build_fixtures.py``), runs today's ``scanpay host init`` as an operator would, serves
today's host over loopback, and checks that the old terminal (its id and key from
before the upgrade) pays with a signed 200, that wallets opened before the upgrade make
codes that pay, that the ledger and the audit chain check, and that no secret is left
in plain text or in an older sealed format.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from host.kit import SignedClient, remember, serve_in_thread
from host.upgrade.upgrading import BACKENDS, RELEASES, old_installation
from scanpay.host import HostSettings, ManualClock
from scanpay.host.db.migrate import head_revision
from scanpay.host.domain.sealing import key_fingerprint
from scanpay.host.services import wallets

#: Terminals of releases before 9d004e1 do not ask for replies bound to their requests.
BOUND_REPLIES_FROM = "9d004e1"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("release", RELEASES)
def test_an_installation_of_an_earlier_release_upgrades_and_keeps_working(
    release: str, backend: str, tmp_path: Path
) -> None:
    with old_installation(release, backend, tmp_path / "data") as old:
        facts = old.facts
        remember(facts["terminal_key"], facts["wallet"]["secret_hex"])
        remember(facts["spare_wallet"]["secret_hex"])
        before = old.cli("init", "--json")
        assert before["revision"] == head_revision() and before["from"] == old.revision

        clock = ManualClock(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))
        settings = HostSettings(database_url=old.url, data_dir=str(old.data_dir))
        with serve_in_thread(settings, clock, backend) as host:
            terminal = SignedClient(
                host.url,
                facts["terminal_id"],
                facts["terminal_key"],
                clock,
                signature_version=2 if release == BOUND_REPLIES_FROM else None,
            )
            # The old terminal's signed request gets a signed answer (checked by the client).
            shown = terminal.request("GET", f"/v1/payments/{facts['payments'][0]['out_trade_no']}")
            assert shown.status_code == 200, shown.text
            for number, wallet in (("AFTER-1", "wallet"), ("AFTER-2", "spare_wallet")):
                clock.advance(host.ctx.settings.code_format.step_seconds)
                code = wallets.issue_code(host.ctx, facts[wallet]["account"]).digits
                paid = terminal.pay(number, 300, code)
                assert paid.status_code == 200, paid.text
                assert paid.json()["code"] == "00", paid.json()
            if facts["refunds"]:
                refunded = terminal.refund("AFTER-R", "AFTER-1", 100)
                assert refunded.status_code == 200 and refunded.json()["code"] == "00"
        # Nothing left in plain text or in an older sealed format.
        with old.ctx_read() as rows:
            keys = rows("SELECT key_hex, key_sealed FROM terminal_keys")
            secrets_ = rows("SELECT secret_hex, secret_sealed FROM wallet_accounts")
        assert keys and all(plain == "" and sealed.startswith("enc2:") for plain, sealed in keys)
        assert secrets_ and all(p == "" and s.startswith("enc2:") for p, s in secrets_)
        assert old.cli("init", "--json")["sealed_secrets"] == 0  # idempotent
        # The key is the one the release used (a5a8886 had none: init made it) and the
        # database now knows its fingerprint.
        key = bytes.fromhex((old.data_dir / "master.key").read_text().strip())
        assert old.master_key is None or key.hex() == old.master_key
        with old.ctx_read() as rows:
            assert rows("SELECT fingerprint FROM host_keys") == [(key_fingerprint(key),)]

        assert old.cli("ledger", "check", "--json")["ok"] is True
        assert old.cli("audit", "verify", "--json")["ok"] is True
