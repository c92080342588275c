"""``scanpay demo --headless --tls``: the scripted sale with the host over HTTPS and the
terminal trusting it through its CA file and pinned fingerprint (issue 15, item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from terminal.harness import process_env

SCANPAY = str(Path(sys.executable).parent / "scanpay")


def test_demo_runs_over_tls(tmp_path: Path) -> None:
    done = subprocess.run(
        [SCANPAY, "demo", "--headless", "--tls", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        env=process_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any("serving on https://127.0.0.1:" in line for line in lines), lines
    assert any("activated over HTTPS" in line for line in lines), lines
    assert any("APPROVED" in line for line in lines)
    assert lines[-1].startswith("demo OK")
    config = json.loads((tmp_path / "terminal" / "terminal.json").read_text())
    assert config["host_url"].startswith("https://127.0.0.1:")
    assert config["ca_file"] == "host-ca.pem"
    assert config["pin_sha256"] and len(config["pin_sha256"]) == 64
    assert (tmp_path / "terminal" / "host-ca.pem").read_bytes() == (
        tmp_path / "tls" / "host.crt"
    ).read_bytes()
