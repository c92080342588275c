"""Date filters at the edge of the calendar: the terminal API's ``/v1/transactions`` and
the merchant portal's transaction list and exports. On SQLite and PostgreSQL.

``from=0001-01-01`` or ``to=9999-12-31`` used to be a 500 (the day's bounds overflow
when they are moved to UTC or a day is added), and the CSV export answered 200 and
then dropped the connection. One rule (:mod:`scanpay.host.domain.periods`) now holds
every filter within 1970-01-01 .. 9998-12-31: the API answers ``400/30`` naming the
filter, the list page shows the message beside the field (as for any mistyped filter),
and an export refuses with a ``400`` page before its first byte, never a file of
another set than the one asked for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from host.kit import RunningHost, World, make_world
from host.portal.portal_kit import PortalClient, add_user, logged_in
from security.attack_kit import assert_unchanged, snapshot


def _api_cursor(stamp: str, pk: int = 1) -> str:
    """A cursor of ``/v1/transactions`` (base64 of ``[created_at, id]``) at ``stamp``."""
    return base64.urlsafe_b64encode(json.dumps([stamp, pk]).encode()).decode().rstrip("=")


def _portal_cursor(stamp: str, pk: int = 1) -> str:
    raw = json.dumps(["created_at", 1, stamp, pk, 0], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Scene:
    host: RunningHost
    world: World
    owner: PortalClient
    payment: dict[str, Any]


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    world = make_world(host)
    payment = world.pay("EDGE-1", 1_000)
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    yield Scene(host, world, owner, payment)
    owner.close()


#: (query, the filter the answer must name). Days, times without an offset (host time)
#: and with the offsets that push a time over the edge when it is moved to UTC.
API_EDGES = [
    ("from=0001-01-01", "from"),
    ("to=9999-12-31", "to"),
    ("from=0001-01-01T00:00:00", "from"),
    ("to=9999-12-31T23:59:59", "to"),
    ("from=0001-01-01T00:00:00+14:00", "from"),
    ("to=9999-12-31T23:59:59-12:00", "to"),
    ("from=2026-01-01&to=9999-12-30", "to"),
    ("cursor=" + _api_cursor("0001-01-01T00:00:00+14:00"), "cursor"),
    ("cursor=" + _api_cursor("9999-12-31T23:59:59-12:00"), "cursor"),
]


@pytest.mark.parametrize(("query", "field"), API_EDGES)
def test_out_of_range_dates_on_the_terminal_api_are_400_naming_the_filter(
    scene: Scene, query: str, field: str
) -> None:
    before = snapshot(scene.host)
    answer = scene.world.terminal.request("GET", "/v1/transactions?" + quote(query, safe="=&"))
    assert answer.status_code == 400, (query, answer.status_code, answer.text[:300])
    body = answer.json()
    assert (body["code"], body["field"]) == ("30", field), body
    assert body["message"]["en"] and body["message"]["zh-CN"], body
    assert_unchanged(scene.host, before)


def test_the_rule_serves_its_own_edges_and_refuses_a_second_past_them(scene: Scene) -> None:
    """1970-01-01 .. 9998-12-31 is served (and holds every payment); a second outside is
    not, whatever the offset it is written in."""
    terminal = scene.world.terminal
    for query in (
        "from=1970-01-01T00:00:00Z&to=9998-12-31T23:59:59Z",
        "from=1970-01-01&to=9998-12-31",
        "from=1970-01-01T00:00:00-12:00&to=9998-12-31T23:59:59+14:00",
    ):
        answer = terminal.request("GET", "/v1/transactions?" + quote(query, safe="=&"))
        assert answer.status_code == 200, (query, answer.text)
        ids = [item["payment_id"] for item in answer.json()["items"]]
        assert scene.payment["payment_id"] in ids, query
    for query, field in (
        ("from=1969-12-31T23:59:59Z", "from"),
        ("from=1969-12-31T23:59:59-12:00", "from"),
        ("to=9999-01-01T00:00:00", "to"),
        ("to=9999-01-01T00:00:00+14:00", "to"),
    ):
        answer = terminal.request("GET", "/v1/transactions?" + quote(query, safe="=&"))
        assert answer.status_code == 400, (query, answer.text)
        assert (answer.json()["code"], answer.json()["field"]) == ("30", field)


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=0001-01-01", "from"), ("to=9999-12-31", "to"), ("from=1969-12-31", "from")],
)
def test_the_portal_list_shows_an_out_of_range_date_beside_its_field(
    scene: Scene, query: str, field: str
) -> None:
    """As for any mistyped filter: 400, the list shown with the message (never a 500)."""
    page = scene.owner.get("/portal/transactions?" + query)
    assert page.status_code == 400, (query, page.status_code, page.text[:300])
    assert "out of range" in page.text, page.text[:2000]
    assert scene.payment["payment_id"] in page.text  # the date was left out, not the list


def test_a_portal_cursor_at_the_edge_of_the_calendar_is_the_first_page(scene: Scene) -> None:
    for stamp in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        page = scene.owner.get("/portal/transactions?cursor=" + _portal_cursor(stamp))
        assert page.status_code == 200, (stamp, page.text[:300])
        assert scene.payment["payment_id"] in page.text


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("query", "field"),
    [("from=0001-01-01", "from"), ("to=9999-12-31", "to"), ("from=2026-13-01", "from")],
)
def test_exports_refuse_an_unusable_filter_before_the_first_byte(
    scene: Scene, kind: str, query: str, field: str
) -> None:
    """A 400 page naming the filter, sent whole: never a file of another set than the one
    asked for, never a stream that starts 200 and breaks off."""
    with scene.owner.http.stream("GET", f"/portal/transactions/export.{kind}?{query}") as answer:
        body = answer.read()  # a stream that broke off would raise here
        assert answer.status_code == 400, (kind, query, answer.status_code, body[:300])
        assert "attachment" not in answer.headers.get("content-disposition", "")
        assert answer.headers["content-type"].startswith("text/html")
        assert f"({field})" in body.decode(), body[:2000]
