"""docs/host.md, "## Deploying": its shell commands run as written (issue 15).

The section's fenced ``sh`` blocks are taken from the document itself and run
with these substitutions only: ``/etc/scanpay`` and ``/var/lib/scanpay`` become
temporary folders,
``host.bank.example`` becomes ``localhost``, port 8600 a free port, and the
PostgreSQL URL a database made for this test. The host block makes the
certificate, migrates, and serves HTTPS with its workers on PostgreSQL; the
terminal block, given an activation code, trusts the host with the CA file and
the pinned fingerprint, activates and passes its self-test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from host.kit import postgres_available, postgres_database
from support import ROOT, require

DOC = ROOT / "docs" / "host.md"
DOC_DB_URL = "postgresql+psycopg://scanpay@127.0.0.1:5432/scanpay"
BIN = Path(sys.executable).parent


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {title}' section in {DOC}"
    return match.group(1)


def shell_blocks(text: str) -> list[str]:
    """The ``sh`` blocks, continuation lines joined, comments and blank lines dropped."""
    blocks = []
    for body in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        joined = re.sub(r"\\\n\s*", "", body)
        lines = [ln.split("  #")[0].rstrip() for ln in joined.splitlines()]
        blocks.append("\n".join(ln for ln in lines if ln and not ln.lstrip().startswith("#")))
    return blocks


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCANPAY_", "SSL_CERT"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT / "src")
    return {**env, **extra}


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def database() -> Iterator[str]:
    require(postgres_available(), "PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)")
    with postgres_database() as url:
        yield url


def stop(pid: int) -> None:
    """End the host we started (uvicorn's supervisor stops its workers on SIGTERM)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def test_the_deploying_section_runs_as_written(database: str, tmp_path: Path) -> None:
    text = section(DOC.read_text(encoding="utf-8"), "Deploying")
    blocks = shell_blocks(text)
    host_block = next(b for b in blocks if "scanpay host serve" in b)
    terminal_block = next(b for b in blocks if "scanpay terminal activate" in b)
    assert "--certfile" in host_block and "--workers" in host_block
    assert "--ca-file" in terminal_block and "--pin-sha256" in terminal_block

    etc, port = tmp_path / "etc", free_port()
    etc.mkdir()

    def local(script: str) -> str:
        script = script.replace(DOC_DB_URL, database).replace("/etc/scanpay", str(etc))
        script = script.replace("/var/lib/scanpay", str(tmp_path / "var"))
        return script.replace("host.bank.example", "localhost").replace("8600", str(port))

    # The host: everything before `serve` runs as written, `serve` in the background.
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    lines = local(host_block).splitlines()
    serve_at = next(i for i, ln in enumerate(lines) if ln.startswith("scanpay host serve"))
    assert serve_at == len(lines) - 1, "serve is the host block's last command"
    script = "\n".join(
        [*lines[:serve_at], f"{lines[serve_at]} > serve.log 2>&1 &", "echo $! > serve.pid"]
    )
    done = bash(script, host_dir, clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    pid = int((host_dir / "serve.pid").read_text())
    try:
        certfile = etc / "tls" / "host.crt"
        trust = ssl.create_default_context(cafile=str(certfile))
        end = time.monotonic() + 180
        while True:
            try:
                ready = httpx.get(f"https://localhost:{port}/readyz", verify=trust, timeout=5)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            log = (host_dir / "serve.log").read_text()
            assert time.monotonic() < end, f"the host did not become ready:\n{log[-3000:]}"
            time.sleep(0.2)
        assert ready.headers["strict-transport-security"].startswith("max-age=")
        # Plain HTTP on that port gets no answer: HTTPS only.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)

        # A merchant and a terminal, as "A merchant, a terminal, a wallet" shows.
        exports = dict(re.findall(r"^export (\w+)=(\S+)$", local(host_block), re.M))
        assert exports["SCANPAY_DATABASE_URL"] == database

        def host_cli(*args: str) -> dict[str, str]:
            run = subprocess.run(
                [str(BIN / "scanpay"), "host", *args, "--json"],
                cwd=host_dir,
                env=clean_env(**exports),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert run.returncode == 0, run.stdout + run.stderr
            return dict(json.loads(run.stdout))

        merchant = host_cli(
            "merchant", "add", "--name", "Best Shop", "--city", "Shanghai",
            "--mcc", "5411", "--license", "91350100M000100Y43",
        )["merchant_id"]  # fmt: skip
        host_cli("merchant", "approve", merchant)
        code = host_cli("terminal", "add", "--merchant", merchant)["activation_code"]

        # The terminal, on its own machine (a folder of its own here).
        term_dir = tmp_path / "terminal"
        term_dir.mkdir()
        done = bash(local(terminal_block), term_dir, clean_env(CODE=code))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "activated terminal" in done.stdout
        assert re.search(r"^host\s+OK", done.stdout, re.M), done.stdout
        config = json.loads((term_dir / "data" / "terminal" / "terminal.json").read_text())
        assert config["host_url"] == f"https://localhost:{port}"
        assert config["ca_file"] == "host-ca.pem"
        der = ssl.PEM_cert_to_DER_cert(certfile.read_text())
        import hashlib

        assert config["pin_sha256"] == hashlib.sha256(der).hexdigest()
    finally:
        stop(pid)
