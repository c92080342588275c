"""Issue 14 item 13: the terminal learns the merchant's business timezone from the
host at activation, so its screens and receipts show the times the portal shows."""

from __future__ import annotations

from pathlib import Path

from scanpay.terminal.config import load_config
from terminal.harness import Host, activate


def test_activation_takes_the_hosts_business_zone(tmp_path: Path) -> None:
    host = Host(tmp_path / "host", timezone="Europe/Berlin").start()
    try:
        activate(host, tmp_path / "pos")
        assert load_config(tmp_path / "pos").timezone == "Europe/Berlin"
        # The operator may still name another zone when activating.
        activate(host, tmp_path / "pos2", timezone="Asia/Tokyo")
        assert load_config(tmp_path / "pos2").timezone == "Asia/Tokyo"
    finally:
        host.stop()
