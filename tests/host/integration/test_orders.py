"""Merchant-presented orders: the QR, the wallet's preview and payment, long-poll, signed
server-sent events, close, expiry, and the refund of a payment that comes too late."""

from __future__ import annotations

import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import zxingcpp
from PIL import Image
from sqlalchemy import select

from host.kit import World, reply_verifies
from scanpay.codes import parse_payment_code
from scanpay.host.api.events import parse_events, verify_event
from scanpay.host.db.models import Order
from scanpay.host.domain.orders import order_payload
from scanpay.host.services import audit, operations


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def _preview(world: World, payload: str, account: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"payload": payload}
    if account:
        body["account"] = account
    return httpx.post(world.host.url + "/wallet/v1/preview", json=body, timeout=30)


def test_an_order_qr_names_the_merchant_amount_and_reference(world: World) -> None:
    order = world.order("OR-1", 1_234, description="two coffees", expires_in=120)
    assert (order["status"], order["amount"], order["currency"]) == ("CREATED", 1_234, "CNY")
    assert order["description"] == "two coffees"
    code = parse_payment_code(order["payload"])
    assert (code.kind, code.amount, code.is_dynamic, code.merchant_name) == (
        "emv_mpm",
        1_234,
        True,
        "Best Shop",
    )
    assert (code.merchant_city, code.mcc, code.country) == ("Shanghai", "5411", "CN")
    assert code.merchant_accounts[0].payee == world.merchant_id
    assert code.additional_data is not None
    assert code.additional_data.reference_label == order["order_id"]
    png = world.terminal.request("GET", order["qr_png_url"])
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [order["payload"]]
    svg = world.terminal.request("GET", order["qr_svg_url"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content


def test_creating_an_order_is_idempotent(world: World) -> None:
    first = world.terminal.create_order("OR-2", 500)
    again = world.terminal.create_order("OR-2", 500)
    assert _ok(first) == _ok(again) and again.headers["x-scanpay-replayed"] == "true"
    clash = world.terminal.create_order("OR-2", 501)
    assert (clash.status_code, clash.json()["code"]) == (409, "95")
    # One trade number, one sale: orders and payments share the numbers.
    world.pay("OR-3", 100)
    assert world.terminal.create_order("OR-3", 100).json()["code"] == "95"
    blocked = world.terminal.pay("OR-2", 500, world.code())
    assert (blocked.status_code, blocked.json()["code"]) == (409, "95")
    bad = world.terminal.create_order("OR-4", 100, currency="USD")
    assert (bad.status_code, bad.json()["code"]) == (400, "31")  # CURRENCY_NOT_ACCEPTED


def test_the_wallet_previews_then_pays(world: World) -> None:
    order = world.order("OR-5", 2_000)
    seen = _ok(_preview(world, order["payload"], world.wallet.account))
    assert (seen["merchant_name"], seen["amount"], seen["status"], seen["payable"]) == (
        "Best Shop",
        2_000,
        "CREATED",
        True,
    )
    assert seen["pin_required"] is False and seen["order_id"] == order["order_id"]
    paid = _ok(world.wallet_pay(order["payload"]))
    assert (paid["code"], paid["order_status"], paid["refunded"]) == ("00", "PAID", False)
    assert paid["message"]["en"] == "Paid" and paid["payment_id"].startswith("P")
    assert world.balance() == 48_000
    state = _ok(world.terminal.get_order("OR-5"))
    assert state["status"] == "PAID" and state["paid_at"] is not None
    assert state["payer"] is not None and "*" in state["payer"]
    # The order's payment is a payment like any other: listed, and refundable.
    payment = _ok(world.terminal.get("OR-5"))
    assert (payment["status"], payment["payment_id"], payment["wallet"]) == (
        "SUCCESS",
        paid["payment_id"],
        "scanpay",
    )
    listed = [
        p["out_trade_no"] for p in _ok(world.terminal.request("GET", "/v1/transactions"))["items"]
    ]
    assert "OR-5" in listed
    assert _ok(world.terminal.refund("OR-5-R1", "OR-5", 500))["status"] == "SUCCESS"
    assert world.balance() == 48_500
    preview = _ok(_preview(world, order["payload"]))
    assert (preview["status"], preview["payable"]) == ("PAID", False)


def test_a_paid_order_takes_no_second_payment(world: World) -> None:
    order = world.order("OR-6", 1_000)
    assert _ok(world.wallet_pay(order["payload"]))["code"] == "00"
    other = world.open_wallet(balance=5_000)
    again = _ok(world.wallet_pay(order["payload"], wallet=other))
    assert (again["code"], again["refunded"]) == ("12", False)
    assert "already paid" in again["message"]["en"]
    assert world.balance(other) == 5_000 and world.balance() == 49_000


def test_the_pin_rule_is_the_payments_rule(world: World) -> None:
    careful = world.open_wallet(balance=10_000, pin_above=1_000)
    order = world.order("OR-7", 3_000)
    assert _ok(_preview(world, order["payload"], careful.account))["pin_required"] is True
    missing = _ok(world.wallet_pay(order["payload"], wallet=careful))
    assert (missing["code"], missing["message"]["en"]) == ("55", "This amount needs the PIN")
    wrong = _ok(world.wallet_pay(order["payload"], wallet=careful, pin="000000"))
    assert (wrong["code"], wrong["tries_left"], wrong["order_status"]) == ("55", 2, "CREATED")
    right = _ok(world.wallet_pay(order["payload"], wallet=careful, pin="123456"))
    assert (right["code"], right["order_status"]) == ("00", "PAID")
    assert world.balance(careful) == 7_000


def test_three_wrong_pins_lock_the_account(world: World) -> None:
    careful = world.open_wallet(balance=10_000, pin_above=1_000)
    order = world.order("OR-8", 3_000)
    answers = [
        _ok(world.wallet_pay(order["payload"], wallet=careful, pin="000000"))["code"]
        for _ in range(3)
    ]
    assert answers == ["55", "55", "75"]
    locked = _ok(world.wallet_pay(order["payload"], wallet=careful, pin="123456"))
    assert locked["code"] == "75" and world.balance(careful) == 10_000


def test_short_funds_keep_the_order_payable(world: World) -> None:
    poor = world.open_wallet(balance=100)
    order = world.order("OR-9", 2_000)
    assert _ok(world.wallet_pay(order["payload"], wallet=poor))["code"] == "51"
    assert _ok(world.terminal.get_order("OR-9"))["status"] == "CREATED"
    assert _ok(world.wallet_pay(order["payload"]))["code"] == "00"
    assert world.balance(poor) == 100


def test_a_payment_after_close_is_refunded_at_once(world: World) -> None:
    order = world.order("OR-10", 1_500)
    closed = _ok(world.terminal.close_order("OR-10"))
    assert closed["status"] == "CLOSED"
    assert _ok(world.terminal.close_order("OR-10"))["status"] == "CLOSED"  # idempotent
    late = _ok(world.wallet_pay(order["payload"]))
    assert (late["code"], late["refunded"], late["order_status"]) == ("12", True, "CLOSED")
    assert "refunded" in late["message"]["en"]
    assert world.balance() == 50_000
    payment = _ok(world.terminal.get("OR-10"))
    assert (payment["status"], payment["refunded_amount"]) == ("REFUNDED", 1_500)
    records = audit.history(world.ctx, merchant=world.merchant_id, limit=20)
    auto = [r for r in records if r.action == "refund.auto"]
    assert len(auto) == 1 and auto[0].actor == "host:scanpay"
    assert auto[0].data["order_status"] == "CLOSED"
    assert _ok(world.terminal.get_order("OR-10"))["status"] == "CLOSED"
    # A second late payment finds the first one's refund: nothing more is taken.
    again = _ok(world.wallet_pay(order["payload"]))
    assert (again["code"], again["refunded"], again["message"]["en"]) == (
        "12",
        False,
        "The order is closed; nothing was taken",
    )
    assert world.balance() == 50_000


def test_a_paid_order_stays_paid_when_closed(world: World) -> None:
    order = world.order("OR-11", 700)
    _ok(world.wallet_pay(order["payload"]))
    assert _ok(world.terminal.close_order("OR-11"))["status"] == "PAID"
    assert world.terminal.close_order("NOPE").status_code == 404


def test_an_order_expires_and_a_late_payment_goes_back(world: World) -> None:
    order = world.order("OR-12", 800, expires_in=30)
    world.host.clock.advance(31)
    # The host's own sweeper (on its interval, on the same clock) may expire it first:
    # either way it is EXPIRED in the database before anyone asks for it.
    operations.sweep(world.ctx)
    with world.ctx.db.read() as session:
        stored = session.scalar(select(Order.status).where(Order.out_trade_no == "OR-12"))
    assert stored == "EXPIRED"
    assert _ok(world.terminal.get_order("OR-12"))["status"] == "EXPIRED"
    late = _ok(world.wallet_pay(order["payload"]))
    assert (late["code"], late["refunded"], late["order_status"]) == ("12", True, "EXPIRED")
    assert _ok(world.terminal.close_order("OR-12"))["status"] == "CLOSED"
    assert world.balance() == 50_000


def test_an_order_expires_on_access_without_the_sweeper(world: World) -> None:
    world.order("OR-13", 800, expires_in=30)
    world.host.clock.advance(30)
    assert _ok(world.terminal.get_order("OR-13"))["status"] == "EXPIRED"
    actions = [r.action for r in audit.history(world.ctx, merchant=world.merchant_id)]
    assert actions.count("order.expire") == 1


def test_altered_and_unknown_codes_are_refused(world: World) -> None:
    order = world.order("OR-14", 1_000)
    # A code with a valid CRC that names the order but asks for less money.
    altered = order_payload(
        payee=world.merchant_id,
        reference=order["order_id"],
        merchant_name="Best Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
        amount=1,
    )
    refused = world.wallet_pay(altered)
    assert (refused.status_code, refused.json()["code"]) == (400, "30")
    assert "does not match" in refused.json()["message"]["en"]
    unknown = order_payload(
        payee=world.merchant_id,
        reference="O0000000000000000",
        merchant_name="Best Shop",
        merchant_city="Shanghai",
        mcc="5411",
        currency="CNY",
        country="CN",
        amount=1,
    )
    assert _preview(world, unknown).status_code == 404
    assert world.wallet_pay("not a code").status_code == 400
    assert world.balance() == 50_000


def test_long_poll_answers_when_the_order_is_paid(world: World) -> None:
    order = world.order("OR-15", 900)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(world.terminal.get_order, "OR-15", 20)
        started = time.monotonic()
        assert _ok(world.wallet_pay(order["payload"]))["code"] == "00"
        answer = _ok(waiting.result(timeout=30))
    assert answer["status"] == "PAID"
    assert time.monotonic() - started < 10


def test_long_poll_answers_on_expiry_and_times_out_unchanged(world: World) -> None:
    world.order("OR-16", 900, expires_in=30)
    started = time.monotonic()
    unchanged = _ok(world.terminal.get_order("OR-16", wait=1))
    assert unchanged["status"] == "CREATED" and time.monotonic() - started >= 0.9
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(world.terminal.get_order, "OR-16", 20)
        world.host.clock.advance(31)
        assert _ok(waiting.result(timeout=30))["status"] == "EXPIRED"


def test_server_sent_events_are_signed_and_end_when_the_order_does(world: World) -> None:
    order = world.order("OR-17", 1_100)
    nonce = "ab" * 16
    path = "/v1/orders/OR-17/events"
    text = ""
    with world.terminal.stream(path, nonce=nonce) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-scanpay-stream"] == "events"
        h = response.headers
        # The headers are signed over the empty body, for this request's nonce.
        assert h["x-scanpay-nonce"] == nonce
        assert reply_verifies(response, world.terminal.key, body=b"")
        paid = False
        for chunk in response.iter_text():
            text += chunk
            if not paid and len(parse_events(text)) == 1:
                assert _ok(world.wallet_pay(order["payload"]))["code"] == "00"
                paid = True
    events = parse_events(text)
    assert [(e.name, e.id) for e in events] == [("order", "1"), ("order", "2")]
    assert [json.loads(e.data)["status"] for e in events] == ["CREATED", "PAID"]
    assert all(verify_event(world.terminal.key, nonce, e) for e in events)
    # A signature binds the event to this stream: another nonce does not verify.
    assert not verify_event(world.terminal.key, "cd" * 16, events[0])
    forged = type(events[1])(
        "order", "2", events[1].data.replace("PAID", "CLOSED"), events[1].signature
    )
    assert not verify_event(world.terminal.key, nonce, forged)


def test_an_event_stream_for_an_unknown_order_is_a_signed_404(world: World) -> None:
    answer = world.terminal.request("GET", "/v1/orders/NOPE/events")
    assert (answer.status_code, answer.json()["code"]) == (404, "25")


def test_payments_racing_a_close_never_keep_money_for_a_closed_order(world: World) -> None:
    order = world.order("OR-18", 1_000)
    payer = world.open_wallet(balance=5_000)
    code = world.code(payer)
    barrier = threading.Barrier(2)

    def pay() -> httpx.Response:
        barrier.wait()
        return httpx.post(
            world.host.url + "/wallet/v1/pay",
            json={"payload": order["payload"], "auth_code": code},
            timeout=30,
        )

    def close() -> httpx.Response:
        barrier.wait()
        return world.terminal.close_order("OR-18")

    with ThreadPoolExecutor(2) as pool:
        paid, closed = pool.submit(pay), pool.submit(close)
        paid_body, closed_body = _ok(paid.result()), _ok(closed.result())
    final = _ok(world.terminal.get_order("OR-18"))["status"]
    if final == "PAID":  # the payment came first: the close answers PAID
        assert paid_body["code"] == "00" and closed_body["status"] == "PAID"
        assert world.balance(payer) == 4_000
    else:  # the close came first: the payment was refunded
        assert (final, paid_body["code"], paid_body["refunded"]) == ("CLOSED", "12", True)
        assert world.balance(payer) == 5_000


def test_an_order_is_closed_not_reversed(world: World) -> None:
    order = world.order("OR-19", 600)
    refused = world.terminal.reverse("OR-19")
    assert (refused.status_code, refused.json()["code"]) == (409, "95")
    assert "close it" in refused.json()["message"]["en"]
    assert _ok(world.wallet_pay(order["payload"]))["code"] == "00"
    assert world.terminal.reverse("OR-19").status_code == 409
    assert _ok(world.terminal.get("OR-19"))["status"] == "SUCCESS"
    assert world.balance() == 50_000 - 600
