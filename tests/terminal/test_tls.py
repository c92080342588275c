"""The terminal talks to a host served over HTTPS (issue 15, item 1).

A real host on a free loopback port, serving a certificate freshly made by
``scanpay host certs``; the terminal activated with ``--ca-file`` (and a pin)
pays, queries and reverses. Without the CA file, with another CA, or with a
wrong pin it fails with a typed error before a single byte is sent - proved by
the host's database, which has no payment for the sale, and by the activation
code, which is still unused. Plain HTTP to a host off this machine is refused
unless allowed.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanpay.cli import app
from scanpay.terminal.agent import Agent, activate_terminal
from scanpay.terminal.config import load_config, save_config
from scanpay.terminal.errors import TerminalError
from terminal.harness import (
    FAST,
    Host,
    activate,
    add_operators,
    free_port,
    start_agent,
)

runner = CliRunner()


def make_certs(folder: Path) -> dict[str, str]:
    """A fresh self-signed pair, made by the command the docs name."""
    result = runner.invoke(app, ["host", "certs", "--out", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_host(tmp_path_factory: pytest.TempPathFactory, certs: dict[str, str]) -> Iterator[Host]:
    pair = (Path(certs["certfile"]), Path(certs["keyfile"]))
    server = Host(tmp_path_factory.mktemp("host"), tls=pair).start()
    yield server
    server.stop()


def payments_for(host: Host, out_trade_no: str) -> int:
    """Rows in the host's own database for this trade number."""
    with sqlite3.connect(host.db_file) as db:
        row = db.execute(
            "SELECT count(*) FROM payments WHERE out_trade_no = ?", (out_trade_no,)
        ).fetchone()
    return int(row[0])


def test_https_url_and_fingerprint_of_the_certs_command(certs: dict[str, str]) -> None:
    import hashlib
    import ssl

    der = ssl.PEM_cert_to_DER_cert(Path(certs["certfile"]).read_text())
    assert certs["fingerprint_sha256"] == hashlib.sha256(der).hexdigest()


def test_activated_with_the_ca_file_pays_queries_and_reverses(
    tls_host: Host, certs: dict[str, str], tmp_path: Path
) -> None:
    assert tls_host.url.startswith("https://")
    # The CA file is copied at activation: the original may move away afterwards.
    original = tmp_path / "given-ca.pem"
    shutil.copyfile(certs["certfile"], original)
    directory = tmp_path / "terminal"
    activate(tls_host, directory, ca_file=original, pin_sha256=certs["fingerprint_sha256"])
    original.unlink()
    config = load_config(directory)
    assert config.ca_file == "host-ca.pem"
    assert (directory / "host-ca.pem").read_text() == Path(certs["certfile"]).read_text()
    assert config.pin_sha256 == certs["fingerprint_sha256"]
    add_operators(directory)

    account = tls_host.wallet("500.00")
    agent = start_agent(directory)
    try:
        report = agent.agent.run_selftest()
        host_check = next(c for c in report.checks if c.name == "host")
        assert host_check.status == "ok", host_check.message.en
        agent.login("c01", "1234")
        no = agent.sale(1234)["out_trade_no"]
        assert agent.scan(no, tls_host.code(account)).status_code == 200
        done = agent.confirm(no, wait=10)
        assert done["state"] == "APPROVED", done
        assert tls_host.balance(account) == 50_000 - 1234

        from scanpay.terminal.client import Answer

        queried = agent.agent.client.query(no)
        assert isinstance(queried, Answer), queried
        assert queried.body.status.value == "SUCCESS"
        reversed_ = agent.agent.client.reverse(no)
        assert isinstance(reversed_, Answer), reversed_
        assert reversed_.body.status.value == "REVERSED"
        assert tls_host.balance(account) == 50_000
    finally:
        agent.stop()


def test_without_the_ca_file_activation_is_refused_with_a_typed_error(
    tls_host: Host, tmp_path: Path
) -> None:
    code = tls_host.new_terminal()
    with pytest.raises(TerminalError) as caught:
        activate_terminal(tls_host.url, code, directory=tmp_path / "t1")
    assert caught.value.code == "host_untrusted"
    assert "nothing was sent" in caught.value.message("en")
    assert "未发送任何数据" in caught.value.message("zh-CN")
    assert not (tmp_path / "t1" / "terminal.json").exists()

    # Another CA (a second self-signed pair) is no better.
    other = make_certs(tmp_path / "other")
    with pytest.raises(TerminalError) as caught:
        activate_terminal(
            tls_host.url, code, directory=tmp_path / "t2", ca_file=Path(other["certfile"])
        )
    assert caught.value.code == "host_untrusted"

    # The command line says the same, with the stable code.
    result = runner.invoke(
        app,
        ["terminal", "activate", "--host", tls_host.url, "--code", code,
         "--dir", str(tmp_path / "t3")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "(host_untrusted)" in result.output

    # Nothing reached the host: the activation code is still unused.
    activate_terminal(tls_host.url, code, directory=tmp_path / "t4", ca_file=tls_host_ca(tls_host))


def tls_host_ca(host: Host) -> Path:
    assert host.server.tls is not None
    return host.server.tls[0]


def test_the_system_store_is_used_without_a_ca_file(
    tls_host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --ca-file: the system's trust store, which SSL_CERT_FILE extends (it was ignored)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_host_ca(tls_host)))
    config = activate_terminal(tls_host.url, tls_host.new_terminal(), directory=tmp_path / "t")
    assert config.ca_file is None


def test_a_wrong_pin_fails_before_anything_is_sent(
    tls_host: Host, certs: dict[str, str], tmp_path: Path
) -> None:
    wrong = "ab" * 32
    code = tls_host.new_terminal()
    ca = Path(certs["certfile"])
    with pytest.raises(TerminalError) as caught:
        activate_terminal(
            tls_host.url, code, directory=tmp_path / "t0", ca_file=ca, pin_sha256=wrong
        )
    assert caught.value.code == "host_pin_mismatch"
    assert wrong in caught.value.message("en")
    assert certs["fingerprint_sha256"] in caught.value.message("en")

    # The same code still activates (the refused attempt never reached the host),
    # with the right pin; then the pin changes under the terminal (a certificate
    # the terminal was not told about).
    directory = tmp_path / "terminal"
    activate_terminal(
        tls_host.url,
        code,
        directory=directory,
        ca_file=ca,
        pin_sha256=certs["fingerprint_sha256"].upper(),
        settings=dict(FAST),
    )
    add_operators(directory)
    result = runner.invoke(
        app, ["terminal", "trust", "--pin-sha256", wrong, "--dir", str(directory)]
    )
    assert result.exit_code == 0, result.output

    account = tls_host.wallet("500.00")
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        no = agent.sale(1234)["out_trade_no"]
        assert agent.scan(no, tls_host.code(account)).status_code == 200
        done = agent.confirm(no, wait=10)
        # Never sent: not in doubt, not declined, nothing to reverse.
        assert done["state"] == "CANCELLED", done
        assert done["screen"]["id"] == "not_sent"
        assert done["screen"]["code"] == "host_pin_mismatch"
        assert agent.agent.journal.count_in_doubt() == 0
        assert agent.agent.journal.reversals(waiting=True) == []
        report = agent.agent.run_selftest()
        host_check = next(c for c in report.checks if c.name == "host")
        assert host_check.status == "fail"
        assert "pinned" in host_check.message.en
    finally:
        agent.stop()
    assert payments_for(tls_host, no) == 0
    assert tls_host.balance(account) == 50_000


def refunds_for(host: Host, out_refund_no: str) -> int:
    """Refunds in the host's own database under this number."""
    with sqlite3.connect(host.db_file) as db:
        row = db.execute(
            "SELECT count(*) FROM refunds WHERE out_refund_no = ?", (out_refund_no,)
        ).fetchone()
    return int(row[0])


def trust(directory: Path, pin: str) -> None:
    result = runner.invoke(app, ["terminal", "trust", "--pin-sha256", pin, "--dir", str(directory)])
    assert result.exit_code == 0, result.output


def test_a_refund_the_certificate_stops_fails_at_once_and_works_once_trusted(
    tls_host: Host, certs: dict[str, str], tmp_path: Path
) -> None:
    """A refund whose only send the pin stopped never reached the host: it fails at
    once with the certificate error (not left in doubt, not sent again), and once the
    trust is fixed the cashier refunds again."""
    right = certs["fingerprint_sha256"]
    directory = tmp_path / "terminal"
    activate(tls_host, directory, ca_file=Path(certs["certfile"]), pin_sha256=right)
    add_operators(directory)
    account = tls_host.wallet("500.00")
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        no = agent.sale(1234)["out_trade_no"]
        assert agent.scan(no, tls_host.code(account)).status_code == 200
        assert agent.confirm(no, wait=10)["state"] == "APPROVED"
    finally:
        agent.stop()
    assert tls_host.balance(account) == 50_000 - 1234

    trust(directory, "ab" * 32)  # the host's certificate is no longer the pinned one
    supervisor = {"operator_id": "s01", "pin": "987654"}
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        r = agent.http.post(
            f"/api/sales/{no}/refunds", json={"amount": 500, "supervisor": supervisor}
        )
        assert r.status_code == 200, r.text
        refund, sale = r.json()["refund"], r.json()["sale"]
        failed = refund["out_refund_no"]
        assert (refund["state"], refund["settled"]) == ("FAILED", True), refund
        assert refund["result"]["code"] == "host_pin_mismatch"
        assert "nothing was sent" in refund["result"]["message"]["en"]
        assert "未发送任何数据" in refund["result"]["message"]["zh-CN"]
        assert sale["state"] == "APPROVED" and sale["refundable"] == 1234
        # Nothing pending, nothing in doubt, and no driver left sending it again.
        journal = agent.agent.journal
        assert journal.refunds(unsettled=True) == []
        assert journal.count_in_doubt() == 0
        driver = agent.agent.engine._drivers[failed]
        driver.join(30)
        assert not driver.is_alive()
        events = journal.events(ref=failed)
        assert [e.event for e in events] == ["refund_requested", "refund_not_sent"]
        assert events[-1].to_state == "FAILED"
        assert events[-1].detail is not None
        assert events[-1].detail["sent"] is False
        assert events[-1].detail["code"] == "host_pin_mismatch"
    finally:
        agent.stop()
    assert refunds_for(tls_host, failed) == 0
    assert tls_host.balance(account) == 50_000 - 1234

    trust(directory, right)  # fixed: the cashier refunds again
    agent = start_agent(directory)
    try:
        agent.login("c01", "1234")
        r = agent.http.post(
            f"/api/sales/{no}/refunds", json={"amount": 500, "supervisor": supervisor}
        )
        assert r.status_code == 200, r.text
        refund, sale = r.json()["refund"], r.json()["sale"]
        assert refund["state"] == "SUCCESS", refund
        assert refund["out_refund_no"] != failed
        assert sale["state"] == "PARTIALLY_REFUNDED" and sale["refundable"] == 734
    finally:
        agent.stop()
    assert refunds_for(tls_host, failed) == 0
    assert refunds_for(tls_host, refund["out_refund_no"]) == 1
    assert tls_host.balance(account) == 50_000 - 1234 + 500


def outward_address() -> str:
    """This machine's address on its network (not loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        return str(s.getsockname()[0])


def test_plain_http_off_this_machine_is_refused_unless_allowed(tmp_path: Path) -> None:
    address = outward_address()
    assert not address.startswith("127.")
    host = Host(tmp_path / "host", bind="0.0.0.0").start()
    try:
        url = f"http://{address}:{host.port}"
        code = host.new_terminal()
        with pytest.raises(TerminalError) as caught:
            activate_terminal(url, code, directory=tmp_path / "t1")
        assert caught.value.code == "plain_http_refused"
        assert caught.value.field == "host"
        result = runner.invoke(
            app,
            ["terminal", "activate", "--host", url, "--code", code,
             "--dir", str(tmp_path / "t2")],
        )  # fmt: skip
        assert result.exit_code == 1
        assert "(plain_http_refused)" in result.output

        # Allowed explicitly: it works, and is remembered.
        directory = tmp_path / "t3"
        result = runner.invoke(
            app,
            ["terminal", "activate", "--host", url, "--code", code, "--allow-plain-http",
             "--dir", str(directory)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert load_config(directory).allow_plain_http is True
        Agent(directory).close()

        # An existing configuration that does not allow it is refused at agent start.
        config = load_config(directory)
        save_config(directory, config.with_settings(allow_plain_http=False))
        with pytest.raises(TerminalError) as caught:
            Agent(directory)
        assert caught.value.code == "plain_http_refused"

        # Loopback stays allowed (tests and the laptop demo).
        activate_terminal(
            f"http://127.0.0.1:{host.port}", host.new_terminal(), directory=tmp_path / "t4"
        )
    finally:
        host.stop()


def test_a_bad_pin_or_ca_file_is_refused_at_activation(tmp_path: Path) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    with pytest.raises(TerminalError) as caught:
        activate_terminal(url, "X", directory=tmp_path / "a", pin_sha256="12:34")
    assert caught.value.field == "pin_sha256"
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(TerminalError) as caught:
        activate_terminal(url, "X", directory=tmp_path / "b", ca_file=not_pem)
    assert caught.value.field == "ca_file"
