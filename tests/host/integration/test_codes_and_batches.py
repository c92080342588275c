"""The sticker check (whom does a merchant QR pay?) and the terminal's batch close."""

from __future__ import annotations

from typing import Any

import httpx

from host.kit import World, make_merchant, make_terminal
from scanpay.codes import SCANPAY_GUI, AccountTemplate, build_mpm
from scanpay.host.db.models import parse_public_id
from scanpay.host.services import audit, refunds
from scanpay.protocol.models import RefundRequest

PIX = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def _sticker(payee: str, name: str = "Best Shop") -> str:
    return build_mpm(
        merchant_accounts=[AccountTemplate("26", SCANPAY_GUI, {"01": payee})],
        merchant_name=name,
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
    )


def _verify(world: World, payload: str) -> httpx.Response:
    return world.terminal.request("POST", "/v1/codes/verify", {"payload": payload})


def test_a_sticker_of_this_merchant(world: World) -> None:
    answer = _verify(world, _sticker(world.merchant_id))
    assert answer.status_code == 200
    assert answer.json() == {
        "verdict": "this_merchant",
        "merchant_name": "Best Shop",
        "payee": world.merchant_id,
        "scheme": "scanpay",
        "message": {"zh-CN": "收款码属于本商户", "en": "This code pays this merchant"},
    }
    # The merchant's own order QR is its own too.
    order = world.order("CV-1", 100)
    assert _verify(world, order["payload"]).json()["verdict"] == "this_merchant"


def test_a_swapped_sticker_is_flagged(world: World) -> None:
    thief = make_merchant(world.ctx, name="Other Shop")
    # The fraudster's sticker even carries the victim's name: the payee gives it away.
    other = _verify(world, _sticker(thief, name="Best Shop")).json()
    assert (other["verdict"], other["merchant_name"], other["payee"]) == (
        "other_merchant",
        "Other Shop",
        thief,
    )
    assert other["message"]["en"].startswith("Warning")
    unknown = _verify(world, _sticker("M999999")).json()
    assert (unknown["verdict"], unknown["merchant_name"], unknown["payee"]) == (
        "unknown_payee",
        None,
        "M999999",
    )
    pix = _verify(world, PIX).json()
    assert (pix["verdict"], pix["scheme"], pix["payee"]) == (
        "unknown_payee",
        "pix",
        "123e4567-e12b-12d1-a456-426655440000",
    )
    records = [r for r in audit.history(world.ctx, merchant=world.merchant_id) if
               r.action == "sticker.verify"]  # fmt: skip
    assert [r.data["verdict"] for r in reversed(records)] == [
        "other_merchant",
        "unknown_payee",
        "unknown_payee",
    ]


def test_what_is_not_a_merchant_code_is_refused(world: World) -> None:
    for payload in (world.code(), "hello", PIX[:-1] + "E"):
        answer = _verify(world, payload)
        assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
            400,
            "30",
            "payload",
        )


def _batch(world: World, **fields: Any) -> httpx.Response:
    return world.terminal.request("POST", "/v1/batches/close", fields)


def _today(world: World) -> str:
    return world.host.clock.now().astimezone(world.ctx.settings.zone).date().isoformat()


def test_a_matching_batch(world: World) -> None:
    world.pay("BC-1", 1_000)
    world.pay("BC-2", 2_500)
    world.terminal.refund("BC-2-R1", "BC-2", 500)
    world.pay("BC-3", 60_000)  # declined: not in the batch
    world.pay("BC-4", 300)
    world.terminal.reverse("BC-4")  # reversed: not in the batch
    late = world.order("BC-5", 400)
    world.terminal.close_order("BC-5")
    assert world.wallet_pay(late["payload"]).json()["refunded"] is True  # the host's affair
    items = [
        {"out_trade_no": "BC-1", "kind": "payment", "status": "SUCCESS", "amount": 1_000},
        {"out_trade_no": "BC-2", "kind": "payment", "status": "PARTIALLY_REFUNDED",
         "amount": 2_500},
        {"out_trade_no": "BC-2-R1", "kind": "refund", "status": "SUCCESS", "amount": 500},
    ]  # fmt: skip
    answer = _batch(
        world,
        date=_today(world),
        count=2,
        total=3_500,
        refund_count=1,
        refund_total=500,
        items=items,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "matched": True,
        "count": 2,
        "total": 3_500,
        "refund_count": 1,
        "refund_total": 500,
        "differences": [],
    }
    totals_only = _batch(world, date=_today(world), count=2, total=3_500, refund_count=1,
                         refund_total=500)  # fmt: skip
    assert totals_only.json()["matched"] is True


def test_differences_are_named(world: World) -> None:
    world.pay("BD-1", 1_000)
    world.pay("BD-2", 2_000)
    order = world.order("BD-3", 700)
    assert world.wallet_pay(order["payload"]).json()["code"] == "00"
    items = [
        {"out_trade_no": "BD-1", "kind": "payment", "status": "SUCCESS", "amount": 1_100},
        {"out_trade_no": "BD-3", "kind": "payment", "status": "SUCCESS", "amount": 700},
        {"out_trade_no": "BD-9", "kind": "payment", "status": "SUCCESS", "amount": 50},
    ]
    answer = _batch(world, date=_today(world), count=3, total=1_850, refund_count=0,
                    refund_total=0, items=items).json()  # fmt: skip
    assert answer["matched"] is False
    assert (answer["count"], answer["total"]) == (3, 3_700)  # the host's figures
    assert answer["differences"] == [
        {"out_trade_no": "BD-1", "kind": "payment", "terminal": "SUCCESS 1100",
         "host": "SUCCESS 1000", "terminal_status": "SUCCESS", "terminal_amount": 1100,
         "host_status": "SUCCESS", "host_amount": 1000},
        {"out_trade_no": "BD-2", "kind": "payment", "terminal": None, "host": "SUCCESS 2000",
         "terminal_status": None, "terminal_amount": None, "host_status": "SUCCESS",
         "host_amount": 2000},
        {"out_trade_no": "BD-9", "kind": "payment", "terminal": "SUCCESS 50", "host": None,
         "terminal_status": "SUCCESS", "terminal_amount": 50, "host_status": None,
         "host_amount": None},
    ]  # fmt: skip
    # Another day, another terminal: nothing of this one's.
    other = make_terminal(world.host, world.merchant_id)
    empty = other.request(
        "POST",
        "/v1/batches/close",
        {"date": _today(world), "count": 0, "total": 0, "refund_count": 0, "refund_total": 0},
    ).json()
    assert (empty["matched"], empty["count"]) == (True, 0)
    records = [r for r in audit.history(world.ctx, merchant=world.merchant_id)
               if r.action == "batch.close"]  # fmt: skip
    assert [r.data["matched"] for r in records] == [True, False]


def test_a_malformed_batch_is_refused(world: World) -> None:
    answer = _batch(world, date="yesterday", count=1, total=1, refund_count=0, refund_total=0)
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
        400,
        "30",
        "date",
    )


def _portal_refund(world: World, out_refund_no: str, out_trade_no: str, amount: int) -> None:
    """A refund the merchant's owner makes in the portal: the host's refund service with a
    portal user as the actor and no terminal (as ``routes_merchant.refund`` calls it)."""
    merchant_pk = parse_public_id(world.merchant_id, "M")
    request = RefundRequest(
        out_refund_no=out_refund_no, out_trade_no=out_trade_no, amount=amount, approved_by="U1"
    )
    done = refunds.create_refund(
        world.ctx, request, merchant_pk=merchant_pk, actor=audit.Actor("portal", "owner@shop")
    )
    assert done.refund.status == "SUCCESS"


def test_a_refund_made_in_the_portal_counts_in_the_terminals_batch(world: World) -> None:
    """Issue 14: a portal refund made the terminal's day close differ ("SUCCESS 1234" /
    "PARTIALLY_REFUNDED 1234"). The terminal can ask for it, and the batch counts it."""
    world.pay("BR-1", 1_234)
    world.pay("BR-2", 2_000)
    _portal_refund(world, "PRBR1", "BR-1", 800)
    today = _today(world)

    # The terminal asks: the day's refunds of its payments, wherever they were made.
    day = world.terminal.request("GET", f"/v1/refunds?date={today}&currency=CNY")
    assert day.status_code == 200, day.text
    listed = [(r["out_refund_no"], r["out_trade_no"], r["amount"]) for r in day.json()["items"]]
    assert listed == [("PRBR1", "BR-1", 800)]
    one = world.terminal.request("GET", "/v1/refunds?out_trade_no=BR-1").json()
    assert [r["out_refund_no"] for r in one["items"]] == ["PRBR1"]
    assert world.terminal.request("GET", "/v1/refunds?out_trade_no=BR-2").json()["items"] == []
    # Another terminal of the merchant took no part in it.
    other = make_terminal(world.host, world.merchant_id)
    assert other.request("GET", f"/v1/refunds?date={today}").json()["items"] == []
    # Neither a day nor a payment: refused, naming the field.
    bare = world.terminal.request("GET", "/v1/refunds")
    assert (bare.status_code, bare.json()["code"], bare.json()["field"]) == (400, "30", "date")

    # A terminal that counts it matches, whatever status it gives the refunded payment.
    payments = [
        {"out_trade_no": "BR-1", "kind": "payment", "status": "SUCCESS", "amount": 1_234},
        {"out_trade_no": "BR-2", "kind": "payment", "status": "SUCCESS", "amount": 2_000},
    ]
    refund = {"out_trade_no": "PRBR1", "kind": "refund", "status": "SUCCESS", "amount": 800}
    answer = _batch(world, date=today, count=2, total=3_234, refund_count=1, refund_total=800,
                    items=[*payments, refund]).json()  # fmt: skip
    assert (answer["matched"], answer["differences"]) == (True, []), answer
    # One that does not is told which refund it lacks, and how much.
    short = _batch(world, date=today, count=2, total=3_234, refund_count=0, refund_total=0,
                   items=payments).json()  # fmt: skip
    assert short["matched"] is False
    assert [(d["out_trade_no"], d["kind"], d["terminal_amount"], d["host_status"],
             d["host_amount"]) for d in short["differences"]] == [
        ("PRBR1", "refund", None, "SUCCESS", 800)
    ]  # fmt: skip
