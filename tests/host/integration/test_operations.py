"""Operations: health, readiness, metrics, request ids in JSON logs, masking, the leak scan,
a database outage."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from host.kit import (
    CAPTURE,
    PG_ADMIN,
    SECRETS,
    World,
    harvest,
    leaks,
    make_world,
    migrate,
    postgres_available,
    postgres_database,
    remember,
    serve_in_thread,
)
from scanpay.host import HostSettings, ManualClock, create_app
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import head_revision, upgrade
from scanpay.host.logs import JsonFormatter, redact
from support import app_in_thread, require


def test_health_and_readiness(world: World) -> None:
    assert httpx.get(world.host.url + "/healthz", timeout=10).json() == {"status": "ok"}
    ready = httpx.get(world.host.url + "/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {
        "ok": True,
        "database": True,
        "revision": head_revision(),
        "expected": head_revision(),
        "detail": "",
    }


def test_not_ready_on_an_old_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    upgrade(db, "0001")
    db.dispose()
    app = create_app(HostSettings(database_url=url), migrate=False, sweep=False)
    with app_in_thread(app, "the host", lifespan="auto") as base:
        answer = httpx.get(base + "/readyz", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["revision"] == "0001"
        assert answer.json()["detail"] == "the schema is not migrated"
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200


def _sample(text: str, prefix: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_count_requests_payments_and_refunds(world: World) -> None:
    before = httpx.get(world.host.url + "/metrics", timeout=10).text
    world.pay("MT-1", 100)
    world.pay("MT-2", 90_000)  # declined 51
    world.terminal.refund("MT-1-R1", "MT-1", 50)
    world.terminal.get("MT-1")
    after = httpx.get(world.host.url + "/metrics", timeout=10)
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    ok = 'scanpay_payments_total{code="00",kind="payment",status="SUCCESS"}'
    assert _sample(text, ok) - _sample(before, ok) >= 1
    declined = 'scanpay_payments_total{code="51",kind="payment",status="FAILED"}'
    assert _sample(text, declined) - _sample(before, declined) >= 1
    assert _sample(text, 'scanpay_refunds_total{code="00",status="SUCCESS"}') >= 1
    route = 'scanpay_http_requests_total{method="POST",route="/v1/payments",status="200"}'
    assert _sample(text, route) - _sample(before, route) >= 2
    # Routes are labelled by template, never by the raw path (no trade numbers in labels).
    assert 'route="/v1/payments/{out_trade_no}"' in text and "MT-1" not in text
    assert "scanpay_http_request_duration_seconds_bucket" in text


def test_every_answer_has_a_request_id_in_the_logs(world: World) -> None:
    mine = "req-" + "7" * 12
    answer = world.terminal.request("GET", "/v1/terminals/self")
    assert len(answer.headers["x-request-id"]) == 32
    world.terminal.http.headers["X-Request-Id"] = mine
    try:
        echoed = world.terminal.pay("LG-1", 100, world.code())
    finally:
        del world.terminal.http.headers["X-Request-Id"]
    assert echoed.headers["x-request-id"] == mine

    def records_now() -> list[dict[str, Any]]:
        return [json.loads(line) for line in CAPTURE.lines if mine in line]

    # The access line is written once the answer has gone out: on a busy machine the
    # client can read the answer before the server thread logs it.
    deadline = time.monotonic() + 120
    records = records_now()
    while not any(r["logger"] == "scanpay.host.access" for r in records):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
        records = records_now()
    loggers = {r["logger"] for r in records}
    assert {"scanpay.host.payments", "scanpay.host.access"} <= loggers
    assert all(r["request_id"] == mine for r in records)
    access = next(r for r in records if r["logger"] == "scanpay.host.access")
    assert (access["route"], access["status"], access["level"]) == ("/v1/payments", 200, "info")
    assert access["ts"].endswith("+00:00")


def test_redaction_masks_what_looks_like_a_secret() -> None:
    text = (
        "code 881234567890123456 cpm hQVDUFYwMWEQTwjwU0NBTlBBWVAHU0NBTlBBWV8 "
        f"key {'ab' * 32} sealed enc2:QUJDREVGR0g trade T1-0001 at 1798300800"
    )
    masked = redact(text)
    assert "881234567890123456" not in masked and "881234********3456" in masked
    assert "hQVDUF" in masked and "WVAHU0NB" not in masked
    assert "ab" * 32 not in masked and "[redacted]" in masked and "[sealed]" in masked
    assert "T1-0001" in masked and "1798300800" in masked  # ordinary numbers stay
    record = logging.LogRecord("x", logging.INFO, "f", 1, "paid %s", ("881234567890123456",),
                               None)  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "paid 881234********3456"


def test_the_leak_scan_finds_a_planted_secret() -> None:
    secret = remember("99" + "0" * 14 + "42")
    lines = ['{"message": "ok"}', f'{{"message": "oops {secret}"}}', '{"pin": 1234567}']
    assert leaks(lines, {secret}) == [(secret, lines[1])]
    # A short secret (a PIN) counts only standing alone, not inside a longer number.
    assert leaks(lines, {"123456"}) == []
    assert leaks(['{"pin": "123456"}'], {"123456"}) == [("123456", '{"pin": "123456"}')]
    SECRETS.discard(secret)  # planted here, never logged


def test_a_payment_is_logged_masked_and_never_in_full(world: World) -> None:
    code = world.code()
    world.terminal.pay("LG-2", 100, code)
    lines = [line for line in CAPTURE.lines if "LG-2" in line]
    assert any(code[:6] + "*" * 8 + code[-4:] in line for line in lines)
    assert not leaks(CAPTURE.lines, {code, world.terminal.key, world.wallet.secret})


def test_a_database_outage_answers_unknown_and_loses_nothing(tmp_path: Path) -> None:
    """PostgreSQL refuses connections mid-day: the host answers 503 / 91 ("unknown,
    query later"), which a terminal treats as no answer, never a bare 500 or a
    decline; once the database is back the same request goes through exactly once.
    (SQLite is a file inside the host's own process: it has no such outage.)"""
    require(postgres_available(), "needs PostgreSQL on 127.0.0.1:5432")
    with postgres_database() as url:
        migrate(url)
        settings = HostSettings(
            database_url=url, min_terminal_version="1.0.0", data_dir=str(tmp_path)
        )
        clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
        with serve_in_thread(settings, clock, "postgresql") as host:
            world = make_world(host)
            name = make_url(url).database
            assert world.pay("DB-0", 100)["status"] == "SUCCESS"
            code = world.code()
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                database = sql.Identifier(name)
                admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
                try:
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()",
                        (name,),
                    )
                    answer = world.terminal.request(
                        "POST",
                        "/v1/payments",
                        {
                            "out_trade_no": "DB-1",
                            "amount": 250,
                            "currency": "CNY",
                            "auth_code": code,
                        },
                        check_reply=False,  # no database, no key to sign with
                    )
                finally:
                    admin.execute(
                        sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database)
                    )
            assert answer.status_code == 503, answer.text
            body = answer.json()
            assert (body["code"], body["name"]) == ("91", "UNKNOWN")
            assert set(body["message"]) == {"zh-CN", "en"}
            # Back up: the query finds nothing, and the same sale then goes through once.
            assert world.terminal.get("DB-1").status_code == 404
            assert world.terminal.pay("DB-1", 250, code).json()["status"] == "SUCCESS"
            again = world.terminal.pay("DB-1", 250, code)
            assert again.headers["X-Scanpay-Replayed"] == "true"
            assert world.balance() == 50_000 - 100 - 250
            assert host.check_ledger().ok
            SECRETS.update(harvest(host.ctx))
