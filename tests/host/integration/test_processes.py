"""Several host processes on one database: no overdraft, no double charge; the
metrics of ``serve --workers`` add up every worker.

Two separate ``scanpay host serve`` processes (the system clock) share the
session's database; requests alternate between them and race each other.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from host.kit import (
    RunningHost,
    SignedClient,
    activate,
    make_merchant,
    remember,
)
from host.served import serve_in_processes, served
from scanpay.host import HostContext, SystemClock
from scanpay.host.db.engine import Database
from scanpay.host.domain.wallet_codes import make_digits
from scanpay.host.services import audit, ledger, terminals, wallets


def test_two_processes_never_overdraw_or_double_charge(host: RunningHost) -> None:
    ctx = HostContext(host.ctx.settings, Database(host.ctx.settings.database_url), SystemClock())
    try:
        merchant_id = make_merchant(ctx)
        issued = terminals.add_terminal(ctx, merchant_id)
        opened = wallets.open_account(ctx, name="Bob", currency="CNY", balance=1_000, pin="123456")
        fmt = ctx.settings.code_format
        secret = bytes.fromhex(opened.secret_hex)
        with serve_in_processes(ctx.settings.database_url, 2) as urls:
            key = activate(urls[0], remember(issued.activation_code)).json()
            remember(key["key"], opened.secret_hex)
            clients = [
                SignedClient(url, key["terminal_id"], key["key"], SystemClock()) for url in urls
            ]
            step = fmt.step(int(datetime.now(UTC).timestamp()))
            # Eight different live codes (one per recent time step), as a phone makes them.
            codes = [make_digits(fmt, opened.info.account, secret, step - i) for i in range(8)]
            remember(*codes)
            barrier = threading.Barrier(len(codes))

            def pay(i: int) -> httpx.Response:
                barrier.wait()
                return clients[i % 2].pay(f"MP-{i}", 300, codes[i])

            with ThreadPoolExecutor(len(codes)) as pool:
                bodies = [r.json() for r in pool.map(pay, range(len(codes)))]
            outcomes = sorted((b["status"], b["code"]) for b in bodies)
            assert outcomes.count(("SUCCESS", "00")) == 3, outcomes
            assert outcomes.count(("FAILED", "51")) == 5, outcomes
            assert wallets.wallet_info(ctx, opened.info.account).balance == 100

            # The same request raced through both processes: one charge.
            topped = wallets.open_account(
                ctx, name="Eve", currency="CNY", balance=1_000, pin="123456"
            )
            code = make_digits(fmt, topped.info.account, bytes.fromhex(topped.secret_hex), step)
            remember(code, topped.secret_hex)
            barrier = threading.Barrier(6)

            def duplicate(i: int) -> httpx.Response:
                barrier.wait()
                return clients[i % 2].pay("MP-DUP", 250, code)

            with ThreadPoolExecutor(6) as pool:
                answers = [r.json() for r in pool.map(duplicate, range(6))]
            assert {a["payment_id"] for a in answers} == {answers[0]["payment_id"]}
            assert {a["status"] for a in answers} == {"SUCCESS"}
            assert wallets.wallet_info(ctx, topped.info.account).balance == 750
        report = ledger.check(ctx)
        assert report.ok, report.to_dict()
    finally:
        ctx.close()


def test_two_processes_never_refund_more_than_was_paid(host: RunningHost) -> None:
    ctx = HostContext(host.ctx.settings, Database(host.ctx.settings.database_url), SystemClock())
    try:
        merchant_id = make_merchant(ctx)
        issued = terminals.add_terminal(ctx, merchant_id)
        opened = wallets.open_account(ctx, name="Cy", currency="CNY", balance=5_000, pin="123456")
        remember(opened.secret_hex)
        fmt = ctx.settings.code_format
        secret = bytes.fromhex(opened.secret_hex)
        with serve_in_processes(ctx.settings.database_url, 2) as urls:
            key = activate(urls[0], remember(issued.activation_code)).json()
            remember(key["key"])
            clients = [
                SignedClient(url, key["terminal_id"], key["key"], SystemClock()) for url in urls
            ]
            step = fmt.step(int(datetime.now(UTC).timestamp()))
            code = remember(make_digits(fmt, opened.info.account, secret, step))
            assert clients[0].pay("MR-1", 1_000, code).json()["status"] == "SUCCESS"
            barrier = threading.Barrier(10)

            def refund(i: int) -> httpx.Response:
                barrier.wait()
                return clients[i % 2].refund(f"MR-1-R{i}", "MR-1", 300)

            with ThreadPoolExecutor(10) as pool:
                answers = list(pool.map(refund, range(10)))
            done = [a for a in answers if a.status_code == 200]
            assert len(done) == 3 and {a.json()["status"] for a in done} == {"SUCCESS"}
            assert {a.json()["code"] for a in answers if a.status_code != 200} == {"13"}
            payment = clients[1].get("MR-1").json()
            assert (payment["refunded_amount"], payment["status"]) == (900, "PARTIALLY_REFUNDED")
            assert wallets.wallet_info(ctx, opened.info.account).balance == 5_000 - 1_000 + 900
        assert ledger.check(ctx).ok
        # Both processes appended to one chain, in turn: it verifies end to end.
        chain = audit.verify(ctx)
        assert chain.ok, chain.to_dict()
    finally:
        ctx.close()


def test_metrics_add_up_every_worker(tmp_path: Path) -> None:
    """`serve --workers 2`: connections land on either worker, and a scrape of
    whichever answers counts the requests of both."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    # Ready is /readyz, not /healthz, the route counted below: a probe that timed out on
    # a worker still starting would be answered (and counted) by it later.
    with served(None, tmp_path, "--workers", "2", env=env) as host:
        url = host.url
        for _ in range(40):  # a new connection each time: the kernel picks a worker
            assert httpx.get(url + "/healthz", timeout=10).status_code == 200
        # Each worker alone counted about half; a scrape on any of them gives the sum.
        for _ in range(6):
            assert _healthz_count(httpx.get(url + "/metrics", timeout=10).text) == 40


def _healthz_count(metrics: str) -> int:
    prefix = 'scanpay_http_requests_total{method="GET",route="/healthz",status="200"} '
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix) :]))
    return 0
