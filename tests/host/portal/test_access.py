"""Who may see and do what, on every route of the portal, on SQLite and PostgreSQL.

A matrix names every portal route (a test fails when a route is added without
joining it); then: anonymous visitors are sent to the login page; a merchant's
user sees only its merchant, everywhere, exports included (another merchant's
ids answer 404 and change nothing); roles limit exports, refunds and key
rotation; operator and merchant pages are apart; every POST needs the form's
CSRF token from this site; logins are throttled; sessions end at logout, when
their user is disabled and after an hour idle. Injection and path traversal
in what users type get a clean answer, never an effect.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from host.kit import RunningHost
from host.portal.portal_kit import (
    PASSWORD,
    PortalClient,
    Shop,
    add_user,
    logged_in,
    make_shop,
)
from scanpay.host import create_app
from scanpay.host.db.models import (
    ActivationCode,
    Application,
    Merchant,
    Payment,
    PortalLoginAttempt,
    PortalSession,
    Refund,
    RiskLimit,
)
from scanpay.host.portal import accounts, onboarding
from scanpay.host.portal.accounts import token_digest
from scanpay.host.portal.forms import parse_application
from scanpay.host.services import audit, ledger, settlement

PUBLIC, MERCHANT, OPERATOR, APPLICANT = "public", "merchant", "operator", "applicant"

#: Every route of the portal: who it is for.
MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/portal"): PUBLIC,
    ("GET", "/portal/"): PUBLIC,
    ("GET", "/portal/static/{name}"): PUBLIC,
    ("GET", "/portal/lang/{lang}"): PUBLIC,
    ("GET", "/portal/login"): PUBLIC,
    ("POST", "/portal/login"): PUBLIC,
    ("POST", "/portal/logout"): PUBLIC,
    ("GET", "/portal/apply"): PUBLIC,
    ("POST", "/portal/apply"): PUBLIC,
    ("GET", "/portal/application"): APPLICANT,
    ("GET", "/portal/today"): MERCHANT,
    ("GET", "/portal/transactions"): MERCHANT,
    ("GET", "/portal/transactions/export.csv"): MERCHANT,
    ("GET", "/portal/transactions/export.xlsx"): MERCHANT,
    ("GET", "/portal/transactions/{payment_id}"): MERCHANT,
    ("GET", "/portal/transactions/{payment_id}/receipt"): MERCHANT,
    ("POST", "/portal/transactions/{payment_id}/refund"): MERCHANT,
    ("GET", "/portal/orders"): MERCHANT,
    ("GET", "/portal/orders/{order_id}"): MERCHANT,
    ("GET", "/portal/orders/{order_id}/qr.svg"): MERCHANT,
    ("GET", "/portal/refunds"): MERCHANT,
    ("GET", "/portal/refunds/{refund_id}"): MERCHANT,
    ("GET", "/portal/settlements"): MERCHANT,
    ("GET", "/portal/settlements/{business_date}"): MERCHANT,
    ("GET", "/portal/settlements/{business_date}/file"): MERCHANT,
    ("GET", "/portal/terminals"): MERCHANT,
    ("POST", "/portal/terminals/{terminal_id}/rotate"): MERCHANT,
    ("GET", "/portal/operator"): OPERATOR,
    ("GET", "/portal/operator/"): OPERATOR,
    ("GET", "/portal/operator/applications"): OPERATOR,
    ("GET", "/portal/operator/applications/{reference}"): OPERATOR,
    ("POST", "/portal/operator/applications/{reference}/approve"): OPERATOR,
    ("POST", "/portal/operator/applications/{reference}/reject"): OPERATOR,
    ("GET", "/portal/operator/merchants"): OPERATOR,
    ("POST", "/portal/operator/merchants/{merchant_id}/status"): OPERATOR,
    ("POST", "/portal/operator/merchants/{merchant_id}/fee"): OPERATOR,
    ("GET", "/portal/operator/limits"): OPERATOR,
    ("POST", "/portal/operator/limits"): OPERATOR,
    ("GET", "/portal/operator/audit"): OPERATOR,
    ("GET", "/portal/operator/reconciliation"): OPERATOR,
    ("GET", "/portal/operator/reconciliation/day"): OPERATOR,
    ("POST", "/portal/operator/reconciliation/run"): OPERATOR,
    ("POST", "/portal/operator/reconciliation/resolve"): OPERATOR,
    ("GET", "/portal/operator/channels"): OPERATOR,
    ("POST", "/portal/operator/channels/accounts"): OPERATOR,
    ("POST", "/portal/operator/channels/accounts/update"): OPERATOR,
    ("POST", "/portal/operator/channels/accounts/remove"): OPERATOR,
    ("GET", "/portal/operator/merchants/{merchant_id}/channels"): OPERATOR,
    ("POST", "/portal/operator/merchants/{merchant_id}/channels"): OPERATOR,
    ("POST", "/portal/operator/merchants/{merchant_id}/channels/update"): OPERATOR,
    ("POST", "/portal/operator/merchants/{merchant_id}/channels/remove"): OPERATOR,
}

NOT_FOUND = "No such page or record"
FORBIDDEN = "Your role does not allow this"
BAD_FORM = "The form expired or did not come from this site"


@dataclass
class Scene:
    host: RunningHost
    a: Shop
    b: Shop
    settled_day: date
    reference: str
    clients: dict[str, PortalClient]
    emails: dict[str, str]


def _application(host: RunningHost, company: str) -> str:
    form = {
        "company_name": company,
        "license": "91350100M000100Y43",
        "legal_representative": "Li Si",
        "phone": "13800138000",
        "email": f"{company.lower().replace(' ', '')}-{uuid.uuid4().hex[:8]}@apply.example",
        "city": "Fuzhou",
        "address": "Wuyi Road 1",
        "mcc": "5411",
        "monthly_volume": "50000",
        "terminal_count": "1",
    }
    parsed, errors = parse_application(form)
    assert parsed is not None, errors
    view, _ = onboarding.submit(host.ctx, parsed, PASSWORD)
    return view.reference


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    a = make_shop(host, payments=3, prefix="A")
    b = make_shop(host, payments=2, prefix="B")
    zone = host.ctx.settings.zone
    day = host.clock.now().astimezone(zone).date()
    # Just after midnight: yesterday is over and can be settled (B's only).
    host.clock.set(datetime.combine(day + timedelta(days=1), time(0, 10), zone))
    settlement.settle_day(host.ctx, day, b.merchant_id)
    emails = {
        "owner": add_user(host, "owner", a.merchant_id),
        "accountant": add_user(host, "accountant", a.merchant_id),
        "read_only": add_user(host, "read_only", a.merchant_id),
        "b_owner": add_user(host, "owner", b.merchant_id),
        "operator": add_user(host, "operator"),
    }
    clients = {role: logged_in(host, email) for role, email in emails.items()}
    reference = _application(host, "Matrix Shop")
    yield Scene(host, a, b, day, reference, clients, emails)
    for client in clients.values():
        client.close()
    assert ledger.check(host.ctx).ok
    assert audit.verify(host.ctx).ok


def _fill(template: str, scene: Scene, shop: Shop) -> str:
    values = {
        "payment_id": shop.payments[0]["payment_id"],
        "order_id": (shop.order or {})["order_id"],
        "refund_id": (shop.refund or {})["refund_id"],
        "business_date": scene.settled_day.isoformat(),
        "terminal_id": shop.world.terminal.terminal_id,
        "reference": scene.reference,
        "merchant_id": shop.merchant_id,
        "name": "portal.css",
        "lang": "en",
    }
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def _state(host: RunningHost) -> dict[str, Any]:
    """What a refused request must not change."""
    with host.ctx.db.read() as session:
        return {
            "refunds": session.scalar(select(func.count()).select_from(Refund)),
            "refunded": session.scalar(select(func.sum(Payment.refunded_amount))),
            "applications": sorted(
                session.execute(select(Application.reference, Application.status)).all()
            ),
            "merchants": sorted(
                session.execute(select(Merchant.id, Merchant.status, Merchant.fee_rate_ppm)).all()
            ),
            "limits": sorted(
                session.execute(
                    select(RiskLimit.rule, RiskLimit.scope, RiskLimit.key, RiskLimit.value)
                ).all()
            ),
            "rotations": session.scalar(
                select(func.count())
                .select_from(ActivationCode)
                .where(ActivationCode.purpose == "rotate")
            ),
            "sessions": session.scalar(select(func.count()).select_from(PortalSession)),
        }


def _routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, included routers' routes too (FastAPI wraps them)."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in contexts() if callable(contexts) else [route]:
            for method in getattr(item, "methods", None) or ():
                if method != "HEAD":
                    yield method, getattr(item, "path", "")


def test_the_matrix_names_every_portal_route(host: RunningHost) -> None:
    app = create_app(host.ctx.settings, migrate=False, sweep=False)
    routes = {(m, path) for m, path in _routes(app) if path.startswith("/portal")}
    assert routes == set(MATRIX), (routes - set(MATRIX), set(MATRIX) - routes)


def test_anonymous_visitors_are_sent_to_the_login_page(scene: Scene) -> None:
    visitor = PortalClient(scene.host.url)
    before = _state(scene.host)
    token = visitor.csrf("/portal/login")
    for (method, template), kind in MATRIX.items():
        path = _fill(template, scene, scene.a)
        if kind == PUBLIC:
            if method == "GET":
                answer = visitor.get(path)
                assert answer.status_code in (200, 303), path
            continue
        if method == "GET":
            answer = visitor.get(path)
        else:
            answer = visitor.post(
                path, {"amount": "1.00", "fee_rate": "0", "action": "suspend"}, csrf=token
            )
        assert answer.status_code == 303, (method, path, answer.status_code)
        location = answer.headers["location"]
        assert location.startswith("/portal/login?next="), location
        if method == "GET":
            assert location == "/portal/login?next=" + quote(path, safe="/")
    assert _state(scene.host) == before
    login_page = visitor.get("/portal/login?next=/portal/transactions")
    assert 'value="/portal/transactions"' in login_page.text
    # an open redirect is not possible: next is a path of the portal, or nothing
    assert (
        'value="https://evil.example"'
        not in visitor.get("/portal/login?next=https://evil.example").text
    )
    assert visitor.get("/portal/lang/en?next=//evil.example").headers["location"] == "/portal/"


def test_a_merchant_sees_its_own_records(scene: Scene) -> None:
    owner = scene.clients["owner"]
    a = scene.a
    pay = a.payments[0]
    page = owner.get(f"/portal/transactions/{pay['payment_id']}")
    assert page.status_code == 200
    assert pay["out_trade_no"] in page.text and pay["payer"] in page.text
    assert "10.00 CNY" in page.text and "3.00 CNY" in page.text  # amount, refunded
    assert a.refund is not None and a.refund["out_refund_no"] in page.text
    assert "payment.create" in page.text or "payment" in page.text
    order = owner.get(f"/portal/orders/{(a.order or {})['order_id']}")
    assert order.status_code == 200 and "a cake" in order.text and "7.77" in order.text
    qr = owner.get(f"/portal/orders/{(a.order or {})['order_id']}/qr.svg")
    assert qr.status_code == 200 and qr.text.lstrip().startswith("<svg")
    refund = owner.get(f"/portal/refunds/{a.refund['refund_id']}")
    assert refund.status_code == 200 and a.refund["out_refund_no"] in refund.text
    receipt = owner.get(f"/portal/transactions/{pay['payment_id']}/receipt")
    assert receipt.status_code == 200 and "10.00 CNY" in receipt.text
    terminals = owner.get("/portal/terminals")
    assert a.world.terminal.terminal_id in terminals.text
    assert scene.b.world.terminal.terminal_id not in terminals.text


def test_another_merchants_ids_answer_404_and_change_nothing(scene: Scene) -> None:
    owner = scene.clients["owner"]
    before = _state(scene.host)
    for (method, template), kind in MATRIX.items():
        if kind != MERCHANT or "{" not in template:
            continue
        path = _fill(template, scene, scene.b)
        if method == "GET":
            answer = owner.get(path)
        else:
            answer = owner.post(path, {"amount": "1.00"}, token_from="/portal/today")
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert NOT_FOUND in answer.text, path
        for record in (scene.b.payments[0]["out_trade_no"], scene.b.merchant_id):
            assert record not in answer.text
    assert _state(scene.host) == before


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_lists_and_exports_hold_only_the_merchants_rows(scene: Scene) -> None:
    owner = scene.clients["owner"]
    a_numbers = {p["out_trade_no"] for p in scene.a.payments}
    b_numbers = {p["out_trade_no"] for p in scene.b.payments}
    listing = owner.get("/portal/transactions").text
    assert all(n in listing for n in a_numbers)
    assert not any(n in listing for n in b_numbers)
    foreign = owner.get(f"/portal/transactions?terminal={scene.b.world.terminal.terminal_id}")
    assert "No transactions match" in foreign.text
    by_number = owner.get(f"/portal/transactions?trade_no={scene.b.payments[0]['out_trade_no']}")
    assert "No transactions match" in by_number.text
    exported = owner.get("/portal/transactions/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = _csv_rows(exported.text)
    with scene.host.ctx.db.read() as session:
        mine = set(
            session.scalars(
                select(Payment.public_id).where(
                    Payment.merchant_id == int(scene.a.merchant_id[1:]),
                    Payment.request_hash.is_not(None),
                )
            )
        )
    assert {r["payment_id"] for r in rows} == mine
    assert {r["out_trade_no"] for r in rows} == a_numbers
    xlsx = owner.get("/portal/transactions/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    for path in ("/portal/orders", "/portal/refunds"):
        text = owner.get(path).text
        assert scene.b.payments[0]["out_trade_no"] not in text
        assert (scene.b.order or {})["out_trade_no"] not in text
    settlements = owner.get("/portal/settlements").text
    assert "No settled days yet" in settlements
    today = owner.get("/portal/today")
    assert today.status_code == 200 and "<svg" in today.text
    b_view = scene.clients["b_owner"].get(f"/portal/settlements/{scene.settled_day.isoformat()}")
    assert b_view.status_code == 200 and scene.b.payments[1]["out_trade_no"] in b_view.text
    file = scene.clients["b_owner"].get(f"/portal/settlements/{scene.settled_day}/file")
    assert file.status_code == 200 and scene.b.payments[0]["out_trade_no"] in file.text
    assert not any(n in file.text for n in a_numbers)


def test_roles_limit_exports_refunds_and_keys(scene: Scene) -> None:
    pay = scene.a.payments[1]
    refund_path = f"/portal/transactions/{pay['payment_id']}/refund"
    rotate_path = f"/portal/terminals/{scene.a.world.terminal.terminal_id}/rotate"
    b_day = scene.settled_day.isoformat()
    for role in ("read_only", "accountant"):
        client = scene.clients[role]
        before = _state(scene.host)
        detail = client.get(f"/portal/transactions/{pay['payment_id']}")
        assert detail.status_code == 200 and 'id="refund-form"' not in detail.text
        assert "Only the owner can refund" in detail.text
        for path, data in ((refund_path, {"amount": "1.00"}), (rotate_path, {})):
            answer = client.post(path, data, token_from="/portal/today")
            assert answer.status_code == 403 and FORBIDDEN in answer.text, (role, path)
        assert _state(scene.host) == before
        exports = [
            client.get(p)
            for p in ("/portal/transactions/export.csv", "/portal/transactions/export.xlsx")
        ]
        listing = client.get("/portal/transactions").text
        if role == "read_only":
            assert all(e.status_code == 403 and FORBIDDEN in e.text for e in exports)
            assert 'id="export-csv"' not in listing
        else:
            assert all(e.status_code == 200 for e in exports)
            assert 'id="export-csv"' in listing
        assert 'class="small" data-confirm' not in client.get("/portal/terminals").text
    # B's owner may download B's file; A's read-only user gets 404 for it, not 403
    assert scene.clients["read_only"].get(f"/portal/settlements/{b_day}/file").status_code in (
        403,
        404,
    )
    owner = scene.clients["owner"]
    assert 'id="refund-form"' in owner.get(f"/portal/transactions/{pay['payment_id']}").text


def test_operator_and_merchant_pages_are_apart(scene: Scene) -> None:
    applicant = logged_in(scene.host, _applicant_email(scene))
    try:
        for (method, template), kind in MATRIX.items():
            if method != "GET":
                continue
            path = _fill(template, scene, scene.a)
            if kind == OPERATOR:
                for role in ("owner", "accountant", "read_only"):
                    answer = scene.clients[role].get(path)
                    assert answer.status_code == 404 and NOT_FOUND in answer.text, (role, path)
                assert applicant.get(path).status_code == 404
                assert scene.clients["operator"].get(path).status_code in (200, 303)
            if kind == MERCHANT:
                assert scene.clients["operator"].get(path).status_code == 403, path
                assert applicant.get(path).status_code == 404, path
        assert applicant.get("/portal/application").status_code == 200
        assert scene.clients["owner"].get("/portal/application").status_code == 404
    finally:
        applicant.close()


def _applicant_email(scene: Scene) -> str:
    with scene.host.ctx.db.read() as session:
        email = session.scalar(
            select(Application.email).where(Application.reference == scene.reference)
        )
    assert email is not None
    return email


def test_every_post_needs_this_sites_csrf_token(scene: Scene) -> None:
    before = _state(scene.host)
    anonymous = PortalClient(scene.host.url)
    anonymous.csrf("/portal/login")  # the pre-session cookie is set
    bodies = {
        "/portal/login": {"email": scene.emails["owner"], "password": PASSWORD},
        "/portal/apply": {"company_name": "Forged Ltd", "license": "91350100M000100Y43"},
        "/portal/operator/applications/{reference}/approve": {"fee_rate": "0.0038"},
        "/portal/operator/applications/{reference}/reject": {"reason": "forged"},
        "/portal/operator/merchants/{merchant_id}/status": {"action": "suspend"},
        "/portal/operator/merchants/{merchant_id}/fee": {"fee_rate": "0.05"},
        "/portal/operator/limits": {"rule": "txn_amount", "value": "1.00"},
        "/portal/transactions/{payment_id}/refund": {"amount": "1.00"},
    }
    for (method, template), kind in MATRIX.items():
        if method != "POST":
            continue
        client = {
            PUBLIC: anonymous,
            MERCHANT: scene.clients["owner"],
            OPERATOR: scene.clients["operator"],
        }[kind]
        if template == "/portal/logout":
            client = scene.clients["owner"]
        path = _fill(template, scene, scene.a)
        data = bodies.get(template, {})
        real = client.csrf("/portal/login" if client is anonymous else "/portal/apply")
        attempts = [
            client.post(path, data),
            client.post(path, data, csrf="x" * 32),
            client.post(path, data, csrf=scene.clients["b_owner"].csrf("/portal/today")),
            client.post(path, data, csrf=real, headers={"Origin": "https://evil.example"}),
        ]
        for answer in attempts:
            assert answer.status_code == 403, (path, answer.status_code)
            assert BAD_FORM in answer.text
    assert _state(scene.host) == before
    # still logged in: the forged logout did nothing
    assert scene.clients["owner"].get("/portal/today").status_code == 200
    # the same token from this site, same origin, is accepted
    ok = scene.clients["owner"].post(
        f"/portal/terminals/{scene.a.world.terminal.terminal_id}/rotate",
        csrf=scene.clients["owner"].csrf("/portal/terminals"),
        headers={"Origin": scene.host.url},
    )
    assert ok.status_code == 200 and 'id="rotation-code"' in ok.text


def test_what_users_type_is_inert(scene: Scene) -> None:
    owner = scene.clients["owner"]
    for query in (
        "trade_no=' OR '1'='1",
        "status=SUCCESS' --",
        "terminal=T1;DROP TABLE payments",
        "amount_min=1e9",
        "from=2026-02-30",
        "sort=payer;--",
        "cursor=%27%3B--",
        "wallet=<script>",
    ):
        answer = owner.get("/portal/transactions?" + query)
        # A filter that cannot be used is a 400 page with its message, the rest a 200 list.
        assert answer.status_code in (200, 400), query
        if query == "from=2026-02-30":
            assert answer.status_code == 400, query
        assert "<script>" not in answer.text
    with scene.host.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) > 0
    hostile = "<script>alert(1)</script>'; DROP TABLE merchants; --"
    visitor = PortalClient(scene.host.url)
    form = {
        "company_name": hostile[:64],
        "license": "91350100M000100Y43",
        "legal_representative": "<b>x</b>",
        "phone": "13800138000",
        "email": "hostile@apply.example",
        "city": "Fuzhou",
        "address": "<img src=x onerror=1>",
        "mcc": "5411",
        "monthly_volume": "1000",
        "terminal_count": "1",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    done = visitor.post("/portal/apply", form, token_from="/portal/apply")
    assert done.status_code == 303
    status = visitor.get("/portal/application").text
    assert "&lt;script&gt;" in status and "<script>alert" not in status
    operator = scene.clients["operator"]
    listing = operator.get("/portal/operator/applications").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert" not in listing
    with scene.host.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Merchant)) > 0
    for path in (
        "/portal/static/..%2F..%2Fportal%2Faccounts.py",
        "/portal/static/%2e%2e",
        "/portal/static/accounts.py",
        "/portal/static/..%5Caccounts.py",
        "/portal/settlements/..%2F..%2Fetc%2Fpasswd/file",
        "/portal/settlements/2026-02-30/file",
        "/portal/transactions/..%2Fexport.csv",
    ):
        answer = owner.get(path)
        assert answer.status_code == 404, path
        assert "def " not in answer.text and "root:" not in answer.text
    visitor.close()


def test_logins_are_throttled(scene: Scene) -> None:
    host = scene.host
    email = add_user(host, "read_only", scene.a.merchant_id)
    client = PortalClient(host.url)
    for _ in range(accounts.THROTTLE.max_failures):
        wrong = client.login(email, "not the password")
        assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text
    locked = client.login(email)  # the right password, too late
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert "scanpay_portal=" not in locked.headers.get("set-cookie", "")
    nobody = "nobody-" + email
    for _ in range(accounts.THROTTLE.max_failures):
        assert client.login(nobody, "guess").status_code == 401
    assert client.login(nobody, "guess").status_code == 429
    with host.ctx.db.read() as session:
        failures = session.scalar(
            select(func.count())
            .select_from(PortalLoginAttempt)
            .where(PortalLoginAttempt.email == email, PortalLoginAttempt.ok.is_(False))
        )
    assert failures == accounts.THROTTLE.max_failures + 1
    host.clock.advance(accounts.THROTTLE.window.total_seconds() + 1)
    assert client.login(email).status_code == 303
    client.close()


def test_sessions_are_http_only_strict_and_end(scene: Scene) -> None:
    host = scene.host
    email = add_user(host, "accountant", scene.a.merchant_id)
    client = PortalClient(host.url)
    answer = client.login(email)
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/portal" in cookie
    token = client.http.cookies["scanpay_portal"]
    with host.ctx.db.read() as session:
        stored = session.scalars(select(PortalSession.token_digest)).all()
    assert token not in stored and token_digest(token) in stored
    assert client.get("/portal/today").status_code == 200
    # logout ends the session on the server: the old cookie no longer works
    done = client.post("/portal/logout", token_from="/portal/today")
    assert done.status_code == 303
    again = PortalClient(host.url)
    again.http.cookies.set("scanpay_portal", token, domain="127.0.0.1", path="/portal")
    assert again.get("/portal/today").status_code == 303
    # a disabled user's sessions end
    other = logged_in(host, email)
    accounts.set_user_status(host.ctx, email, False)
    assert other.get("/portal/today").status_code == 303
    assert other.login(email).status_code == 401
    accounts.set_user_status(host.ctx, email, True)
    # an hour without a request ends a session (this runs last: every session idles out)
    fresh = logged_in(host, email)
    assert fresh.get("/portal/today").status_code == 200
    host.clock.advance(accounts.IDLE_TIMEOUT.total_seconds() + 60)
    assert fresh.get("/portal/today").status_code == 303
    for c in (client, again, other, fresh):
        c.close()
