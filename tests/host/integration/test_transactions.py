"""``GET /v1/transactions``: the merchant's own payments, newest first, cursor pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from host.kit import World


def test_pages_cover_every_payment_once_newest_first(world: World) -> None:
    made = []
    for i in range(5):
        amount = 100 + i if i != 2 else 90_000  # the third is declined (51)
        made.append(world.terminal.pay(f"TX-{i}", amount, world.code()).json()["payment_id"])
    seen, cursor, pages = [], None, 0
    while True:
        path = "/v1/transactions?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = world.terminal.request("GET", path).json()
        pages += 1
        seen += [p["payment_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(made))
    failed = world.terminal.request("GET", "/v1/transactions?status=FAILED").json()["items"]
    assert [(p["out_trade_no"], p["code"]) for p in failed] == [("TX-2", "51")]


def test_time_window_and_bad_cursor(world: World) -> None:
    world.terminal.pay("TW-1", 100, world.code())
    middle = world.host.clock.now() + timedelta(seconds=1)  # after TW-1, before TW-2
    world.terminal.pay("TW-2", 100, world.code())
    since = quote(middle.isoformat())
    after = world.terminal.request("GET", f"/v1/transactions?from={since}").json()["items"]
    before = world.terminal.request("GET", f"/v1/transactions?to={since}").json()["items"]
    assert [p["out_trade_no"] for p in after] == ["TW-2"]
    assert [p["out_trade_no"] for p in before] == ["TW-1"]
    bad = world.terminal.request("GET", "/v1/transactions?cursor=bm90LWEtY3Vyc29y")
    assert bad.status_code == 400 and (bad.json()["code"], bad.json()["field"]) == ("30", "cursor")
    too_many = world.terminal.request("GET", "/v1/transactions?limit=1000")
    assert too_many.status_code == 400 and too_many.json()["field"] == "limit"
