"""Merchant A's terminal against merchant B's data, through every route of the terminal
API, on SQLite and PostgreSQL.

A matrix names every ``/v1/`` route of the app (a test fails when a route is added
without joining it). For each one, A's real terminal aims a signed request at B's
records (trade, refund and order numbers, B's settled day, B's used codes): the
answer is A's own (404/25, or a record of A's that merely shares a number) and
never holds anything of B's, and B's rows, money and ledger are as they were.
Then every route is tried with one terminal's id and another terminal's key: 401/63,
nothing changes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from host.kit import (
    RunningHost,
    SignedClient,
    World,
    activate,
    make_world,
    remember,
    reply_verifies,
)
from scanpay.host import create_app
from scanpay.host.db.models import Base
from scanpay.host.services import settlement, terminals
from security.attack_kit import app_routes, assert_unchanged, snapshot


@dataclass
class Scene:
    """A (the attacker's terminal) and B (the victim: payments, a refund, an open
    order, a settled day, a used activation code and a used payment code)."""

    host: RunningHost
    a: World
    b: World
    b_paid: list[dict[str, Any]]
    b_refund: dict[str, Any]
    b_order: dict[str, Any]
    b_other_order: dict[str, Any]
    b_day: date
    b_cursor: str
    b_used_code: str
    b_activation_code: str
    b_terminal: SignedClient
    secrets_of_b: set[str] = field(default_factory=set)


def _b_terminal(host: RunningHost, merchant_id: str) -> tuple[SignedClient, str]:
    """A second terminal of B, and the (now used) activation code that installed it."""
    issued = terminals.add_terminal(host.ctx, merchant_id)
    code = remember(issued.activation_code)
    data = activate(host.url, code).json()
    return SignedClient(host.url, data["terminal_id"], remember(data["key"]), host.clock), code


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    a = make_world(host)
    b = make_world(host, balance=500_000)
    tag = secrets.token_hex(3).upper()
    used = b.code()
    # Each attack that makes A a record under one of B's numbers gets a number of its own
    # (2: a payment, 3: a reversal tombstone, order 2), so no attack meets another's.
    paid = [b.pay(f"B{tag}-1", 1_500, auth_code=used)]
    paid += [b.pay(f"B{tag}-{i}", 1_000 * i) for i in (2, 3, 4)]
    refund = b.terminal.refund(f"B{tag}-R1", paid[0]["out_trade_no"], 500)
    assert refund.status_code == 200, refund.text
    zone = host.ctx.settings.zone
    day = host.clock.now().astimezone(zone).date()
    # Ten past midnight: B's day is over and settled (the clock only moves forward).
    host.clock.set(datetime.combine(day + timedelta(days=1), time(0, 10), zone))
    assert settlement.settle_day(host.ctx, day, b.merchant_id)
    order = b.order(f"B{tag}-O", 777, description="B's cake")
    other_order = b.order(f"B{tag}-O2", 888)
    page = b.terminal.request("GET", "/v1/transactions?limit=1").json()
    assert page["next_cursor"], page
    b_terminal, activation_code = _b_terminal(host, b.merchant_id)
    found = Scene(
        host,
        a,
        b,
        paid,
        refund.json(),
        order,
        other_order,
        day,
        page["next_cursor"],
        used,
        activation_code,
        b_terminal,
    )
    found.secrets_of_b = {
        b.merchant_id,
        b.terminal.terminal_id,
        b_terminal.terminal_id,
        *(p["payment_id"] for p in paid),
        refund.json()["refund_id"],
        order["order_id"],
        other_order["order_id"],
        "B's cake",
    }
    yield found


# ------------------------------------------------------------------ B's state


_MERCHANT_TABLES = ("payments", "refunds", "orders", "settlements", "batch_closes")


def _b_state(scene: Scene) -> dict[str, Any]:
    """B's rows (by merchant), B's terminals and keys, and B's customer's balance."""
    b_pk = int(scene.b.merchant_id[1:])
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    state: dict[str, Any] = {}
    with scene.host.ctx.db.read() as session:
        for name in _MERCHANT_TABLES:
            table = tables[name]
            rows = session.execute(select(table).where(table.c.merchant_id == b_pk)).all()
            state[name] = sorted((tuple(r) for r in rows), key=repr)
        t = tables["terminals"]
        state["terminals"] = sorted(
            session.execute(select(t.c.id, t.c.status).where(t.c.merchant_id == b_pk)).all()
        )
    state["balance"] = scene.b.balance()
    return state


# ------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Attack:
    """A's request at B's data, and the statuses a correct host answers it with."""

    send: Callable[[Scene], httpx.Response]
    statuses: frozenset[int]
    check: Callable[[Scene, httpx.Response], None] | None = None
    signed: bool = True


def _req(
    method: str, path: Callable[[Scene], str], body: Callable[[Scene], Any] | None = None
) -> Callable[[Scene], httpx.Response]:
    def send(scene: Scene) -> httpx.Response:
        payload = body(scene) if body is not None else None
        return scene.a.terminal.request(method, path(scene), payload)

    return send


def _b_no(scene: Scene) -> str:
    return str(scene.b_paid[0]["out_trade_no"])


def _b_order_no(scene: Scene) -> str:
    return str(scene.b_order["out_trade_no"])


def _a_own(scene: Scene, answer: httpx.Response) -> None:
    """A record of A's that merely shares B's number: A's own id, A's own payload."""
    data = answer.json()
    ids = {p["payment_id"] for p in scene.b_paid}
    ids |= {scene.b_order["order_id"], scene.b_other_order["order_id"]}
    assert data.get("payment_id", data.get("order_id")) not in ids


def _self_is_a(scene: Scene, answer: httpx.Response) -> None:
    data = answer.json()
    assert (data["terminal_id"], data["merchant_id"]) == (
        scene.a.terminal.terminal_id,
        scene.a.merchant_id,
    )


def _only_a_transactions(scene: Scene, answer: httpx.Response) -> None:
    numbers = {item["out_trade_no"] for item in answer.json()["items"]}
    assert not numbers & {p["out_trade_no"] for p in scene.b_paid}


def _no_b_refunds(scene: Scene, answer: httpx.Response) -> None:
    # B's day and B's payment, asked by A: A's own refunds only (none).
    assert answer.json()["items"] == []


def _other_merchant(scene: Scene, answer: httpx.Response) -> None:
    # The sticker check says whose code it is (that is its job), never B's records.
    assert answer.json()["verdict"] == "other_merchant"


def _no_b_lines(scene: Scene, answer: httpx.Response) -> None:
    data = answer.json()
    # The host's side is A's: nothing on B's day; B's lines are "terminal only".
    assert (data["count"], data["total"], data["refund_count"], data["refund_total"]) == (
        0,
        0,
        0,
        0,
    )
    assert all(d["host"] is None for d in data["differences"])


def _declined_code(scene: Scene, answer: httpx.Response) -> None:
    data = answer.json()
    assert (data["status"], data["code"]) == ("FAILED", "14"), data


NOT_FOUND = frozenset({404})

MATRIX: dict[tuple[str, str], Attack] = {
    # Unsigned: B's already used activation code installs nothing for anyone.
    ("POST", "/v1/terminals/activate"): Attack(
        lambda s: activate(s.host.url, s.b_activation_code), frozenset({401}), signed=False
    ),
    ("GET", "/v1/terminals/self"): Attack(
        _req("GET", lambda s: "/v1/terminals/self"), frozenset({200}), _self_is_a
    ),
    ("POST", "/v1/terminals/self/report"): Attack(
        _req(
            "POST",
            lambda s: "/v1/terminals/self/report",
            lambda s: {"status": "ok", "pending": [_b_no(s)]},
        ),
        frozenset({204}),
    ),
    # B's number is only a number in A's space (A's own new payment), and the code B's
    # customer already paid B with is used up.
    ("POST", "/v1/payments"): Attack(
        _req(
            "POST",
            lambda s: "/v1/payments",
            lambda s: {
                "out_trade_no": s.b_paid[2]["out_trade_no"],
                "amount": 100,
                "currency": "CNY",
                "auth_code": s.b_used_code,
            },
        ),
        frozenset({200}),
        lambda s, a: (_a_own(s, a), _declined_code(s, a)),
    ),
    ("GET", "/v1/payments/{out_trade_no}"): Attack(
        _req("GET", lambda s: f"/v1/payments/{s.b_paid[1]['out_trade_no']}"), NOT_FOUND
    ),
    # A reversal of a number A does not have leaves A's own tombstone; B's sale stands.
    ("POST", "/v1/payments/{out_trade_no}/reverse"): Attack(
        _req("POST", lambda s: f"/v1/payments/{s.b_paid[3]['out_trade_no']}/reverse"),
        frozenset({200}),
        _a_own,
    ),
    ("GET", "/v1/transactions"): Attack(
        _req("GET", lambda s: f"/v1/transactions?limit=100&cursor={s.b_cursor}"),
        frozenset({200}),
        _only_a_transactions,
    ),
    ("POST", "/v1/refunds"): Attack(
        _req(
            "POST",
            lambda s: "/v1/refunds",
            lambda s: {"out_refund_no": "X-R1", "out_trade_no": _b_no(s), "amount": 100},
        ),
        NOT_FOUND,
    ),
    ("GET", "/v1/refunds"): Attack(
        _req("GET", lambda s: f"/v1/refunds?date={s.b_day.isoformat()}&out_trade_no={_b_no(s)}"),
        frozenset({200}),
        _no_b_refunds,
    ),
    ("GET", "/v1/refunds/{out_refund_no}"): Attack(
        _req("GET", lambda s: f"/v1/refunds/{s.b_refund['out_refund_no']}"), NOT_FOUND
    ),
    ("POST", "/v1/orders"): Attack(
        _req(
            "POST",
            lambda s: "/v1/orders",
            lambda s: {
                "out_trade_no": s.b_other_order["out_trade_no"],
                "amount": 100,
                "currency": "CNY",
            },
        ),
        frozenset({200}),
        _a_own,
    ),
    ("GET", "/v1/orders/{out_trade_no}"): Attack(
        _req("GET", lambda s: f"/v1/orders/{_b_order_no(s)}?wait=1"), NOT_FOUND
    ),
    ("GET", "/v1/orders/{out_trade_no}/events"): Attack(
        _req("GET", lambda s: f"/v1/orders/{_b_order_no(s)}/events"), NOT_FOUND
    ),
    ("POST", "/v1/orders/{out_trade_no}/close"): Attack(
        _req("POST", lambda s: f"/v1/orders/{_b_order_no(s)}/close"), NOT_FOUND
    ),
    ("GET", "/v1/orders/{out_trade_no}/qr.png"): Attack(
        _req("GET", lambda s: f"/v1/orders/{_b_order_no(s)}/qr.png"), NOT_FOUND
    ),
    ("GET", "/v1/orders/{out_trade_no}/qr.svg"): Attack(
        _req("GET", lambda s: f"/v1/orders/{_b_order_no(s)}/qr.svg"), NOT_FOUND
    ),
    ("POST", "/v1/codes/verify"): Attack(
        _req("POST", lambda s: "/v1/codes/verify", lambda s: {"payload": s.b_order["payload"]}),
        frozenset({200}),
        _other_merchant,
    ),
    ("GET", "/v1/settlements/{business_date}"): Attack(
        _req("GET", lambda s: f"/v1/settlements/{s.b_day.isoformat()}"), NOT_FOUND
    ),
    ("GET", "/v1/settlements/{business_date}/file"): Attack(
        _req("GET", lambda s: f"/v1/settlements/{s.b_day.isoformat()}/file"), NOT_FOUND
    ),
    ("POST", "/v1/batches/close"): Attack(
        _req(
            "POST",
            lambda s: "/v1/batches/close",
            lambda s: {
                "date": s.b_day.isoformat(),
                "count": 4,
                "total": 10_500,
                "refund_count": 1,
                "refund_total": 500,
                "items": [
                    {"out_trade_no": p["out_trade_no"], "status": "SUCCESS", "amount": p["amount"]}
                    for p in s.b_paid
                ],
            },
        ),
        frozenset({200}),
        _no_b_lines,
    ),
}


def test_the_matrix_names_every_terminal_api_route(host: RunningHost) -> None:
    app = create_app(host.ctx.settings, migrate=False, sweep=False)
    routes = {(m, p) for m, p in app_routes(app) if p.startswith("/v1/")}
    assert routes == set(MATRIX), (routes - set(MATRIX), set(MATRIX) - routes)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_a_terminal_never_reaches_another_merchants_data(
    scene: Scene, route: tuple[str, str]
) -> None:
    attack = MATRIX[route]
    before = _b_state(scene)
    answer = attack.send(scene)
    assert answer.status_code in attack.statuses, (route, answer.status_code, answer.text)
    if answer.status_code == 404:
        assert answer.json()["code"] == "25"
    if attack.signed:
        assert reply_verifies(answer, scene.a.terminal.key)
    # Nothing of B's that the request did not carry itself (a sticker's QR names its payee).
    sent = answer.request.url.path + answer.request.content.decode()
    leaked = [s for s in scene.secrets_of_b if s in answer.text and s not in sent]
    assert not leaked, (route, leaked)
    if attack.check is not None:
        attack.check(scene, answer)
    assert _b_state(scene) == before


@pytest.mark.parametrize(
    "route", sorted(r for r, a in MATRIX.items() if a.signed), ids=lambda r: f"{r[0]} {r[1]}"
)
def test_another_terminals_key_is_refused_on_every_route(
    scene: Scene, route: tuple[str, str]
) -> None:
    """B's terminal id signed with A's key (A claims to be B), and A's id signed with B's
    key (a stolen key used under the wrong name): 401/63 on every route, nothing changes."""
    method, template = route
    path = (
        template.replace("{out_trade_no}", _b_order_no(scene))
        .replace("{out_refund_no}", scene.b_refund["out_refund_no"])
        .replace("{business_date}", scene.b_day.isoformat())
    )
    body = {"out_trade_no": "IMP-1", "amount": 1, "currency": "CNY"} if method == "POST" else None
    before = snapshot(scene.host)
    pairs = [
        (scene.b.terminal.terminal_id, scene.a.terminal.key),
        (scene.a.terminal.terminal_id, scene.b_terminal.key),
    ]
    for terminal_id, key in pairs:
        impostor = SignedClient(scene.host.url, terminal_id, key, scene.host.clock)
        answer = impostor.request(method, path, body, check_reply=False)
        assert answer.status_code == 401, (route, answer.text)
        assert (answer.json()["code"], answer.json()["field"]) == ("63", "X-Scanpay-Signature")
        # The request did not authenticate, so the refusal is signed with no key at all:
        # a signed "no" over a nonce the sender chose is what an attacker needs (issue 13).
        assert "x-scanpay-signature" not in answer.headers
        assert not reply_verifies(answer, key)
    assert_unchanged(scene.host, before)
