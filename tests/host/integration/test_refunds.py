"""Refunds over signed HTTP: partial and full, never more than paid, idempotent, audited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from host.kit import World, make_merchant, make_terminal
from scanpay.host.services import audit, ledger


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_partial_then_full_refund_moves_the_money_back(world: World) -> None:
    paid = world.pay("RF-1", 10_000)
    assert paid["status"] == "SUCCESS"
    clearing = ledger.clearing_code(world.merchant_id, ledger.Book.REAL)
    before = ledger.check(world.ctx).totals["real/CNY/merchant_clearing"]

    first = _ok(
        world.terminal.refund("RF-1-R1", "RF-1", 2_500, reason="damaged", approved_by="sup1")
    )
    assert (first["status"], first["code"], first["amount"]) == ("SUCCESS", "00", 2_500)
    assert first["message"]["en"] == "Refunded" and first["refund_id"].startswith("R")
    assert (first["approved_by"], first["reason"], first["out_trade_no"]) == (
        "sup1",
        "damaged",
        "RF-1",
    )
    payment = _ok(world.terminal.get("RF-1"))
    assert (payment["status"], payment["refunded_amount"]) == ("PARTIALLY_REFUNDED", 2_500)
    assert world.balance() == 50_000 - 10_000 + 2_500

    rest = _ok(world.terminal.refund("RF-1-R2", "RF-1", 7_500, approved_by="sup1"))
    assert rest["status"] == "SUCCESS"
    payment = _ok(world.terminal.get("RF-1"))
    assert (payment["status"], payment["refunded_amount"]) == ("REFUNDED", 10_000)
    assert world.balance() == 50_000
    after = ledger.check(world.ctx).totals["real/CNY/merchant_clearing"]
    assert before - after == 10_000 and clearing.startswith("clearing:")
    assert _ok(world.terminal.request("GET", "/v1/refunds/RF-1-R1")) == first


def test_more_than_was_paid_is_refused_and_changes_nothing(world: World) -> None:
    world.pay("RF-2", 1_000)
    assert _ok(world.terminal.refund("RF-2-R1", "RF-2", 600))["status"] == "SUCCESS"
    over = world.terminal.refund("RF-2-R2", "RF-2", 401)
    assert over.status_code == 400
    assert (over.json()["code"], over.json()["field"]) == ("13", "amount")
    assert "4.00 left" in over.json()["message"]["en"]
    assert world.terminal.request("GET", "/v1/refunds/RF-2-R2").status_code == 404
    assert world.balance() == 50_000 - 1_000 + 600
    assert _ok(world.terminal.refund("RF-2-R3", "RF-2", 400))["status"] == "SUCCESS"
    again = world.terminal.refund("RF-2-R4", "RF-2", 1)
    assert (again.status_code, again.json()["code"]) == (400, "13")


def test_a_retry_gets_the_stored_refund_and_a_changed_body_is_95(world: World) -> None:
    world.pay("RF-3", 2_000)
    first = world.terminal.refund("RF-3-R1", "RF-3", 500, approved_by="sup9")
    second = world.terminal.refund("RF-3-R1", "RF-3", 500, approved_by="sup9")
    assert first.json() == second.json()
    assert second.headers["x-scanpay-replayed"] == "true"
    clash = world.terminal.refund("RF-3-R1", "RF-3", 501, approved_by="sup9")
    assert (clash.status_code, clash.json()["code"], clash.json()["field"]) == (
        409,
        "95",
        "out_refund_no",
    )
    assert world.balance() == 50_000 - 2_000 + 500


def test_unknown_and_foreign_payments_are_404(world: World) -> None:
    unknown = world.terminal.refund("RF-4-R1", "NOPE", 100)
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        404,
        "25",
        "out_trade_no",
    )
    world.pay("RF-4", 1_000)
    other = make_terminal(world.host, make_merchant(world.ctx, name="Other Shop"))
    assert other.refund("RF-4-R1", "RF-4", 100).status_code == 404
    world.terminal.refund("RF-4-R2", "RF-4", 100)
    assert other.request("GET", "/v1/refunds/RF-4-R2").status_code == 404
    assert world.balance() == 50_000 - 1_000 + 100


def test_a_payment_without_money_cannot_be_refunded(world: World) -> None:
    world.pay("RF-5", 1_000)
    assert _ok(world.terminal.reverse("RF-5"))["status"] == "REVERSED"
    refused = _ok(world.terminal.refund("RF-5-R1", "RF-5", 1_000))
    assert (refused["status"], refused["code"]) == ("FAILED", "12")
    assert "cannot be refunded" in refused["message"]["en"]
    declined = world.terminal.pay("RF-6", 60_000, world.code())  # more than the balance
    assert declined.json()["status"] == "FAILED"
    assert _ok(world.terminal.refund("RF-6-R1", "RF-6", 100))["code"] == "12"
    # The refusal is stored under its number: a retry gets it again.
    again = world.terminal.refund("RF-5-R1", "RF-5", 1_000)
    assert again.json()["code"] == "12" and again.headers["x-scanpay-replayed"] == "true"
    assert world.balance() == 50_000


def test_concurrent_refunds_never_exceed_the_payment(world: World) -> None:
    world.pay("RF-7", 1_000)
    barrier = threading.Barrier(8)

    def send(i: int) -> httpx.Response:
        barrier.wait()
        return world.terminal.refund(f"RF-7-R{i}", "RF-7", 300)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    done = [a for a in answers if a.status_code == 200 and a.json()["status"] == "SUCCESS"]
    refused = [a for a in answers if a.status_code == 400]
    assert (len(done), len(refused)) == (3, 5)
    assert {a.json()["code"] for a in refused} == {"13"}
    payment = _ok(world.terminal.get("RF-7"))
    assert (payment["refunded_amount"], payment["status"]) == (900, "PARTIALLY_REFUNDED")
    assert world.balance() == 50_000 - 1_000 + 900


def test_the_refund_is_audited_with_its_approver(world: World) -> None:
    world.pay("RF-8", 3_000)
    refund = _ok(world.terminal.refund("RF-8-R1", "RF-8", 1_000, approved_by="boss"))
    records = audit.history(world.ctx, subject=("refund", refund["refund_id"]))
    assert [r.action for r in records] == ["refund.create"]
    record = records[0]
    assert record.actor == f"terminal:{world.terminal.terminal_id}"
    assert record.merchant_id == world.merchant_id
    assert record.data["approved_by"] == "boss"
    assert (record.data["payment_before"], record.data["payment_after"]) == (
        "SUCCESS",
        "PARTIALLY_REFUNDED",
    )
    assert {r["rule"] for r in record.data["risk"]} == {"refund_share"}


def test_a_training_refund_moves_play_money_only(world: World) -> None:
    trainee = world.open_wallet(balance=5_000, training=True)
    paid = world.pay("RF-9", 1_000, wallet=trainee, training=True)
    assert paid["training"] is True
    real_before = ledger.check(world.ctx).totals["real/CNY/merchant_clearing"]
    assert _ok(world.terminal.refund("RF-9-R1", "RF-9", 1_000))["status"] == "SUCCESS"
    assert world.balance(trainee) == 5_000
    assert ledger.check(world.ctx).totals["real/CNY/merchant_clearing"] == real_before


def test_a_refunded_payment_is_not_reversed(world: World) -> None:
    world.pay("RF-10", 1_000)
    assert _ok(world.terminal.refund("RF-10-R1", "RF-10", 400))["status"] == "SUCCESS"
    refused = world.terminal.reverse("RF-10")
    assert (refused.status_code, refused.json()["code"], refused.json()["name"]) == (
        409,
        "12",
        "ORDER_CLOSED",
    )
    payment = _ok(world.terminal.get("RF-10"))
    assert (payment["status"], payment["refunded_amount"]) == ("PARTIALLY_REFUNDED", 400)
    assert world.balance() == 50_000 - 600
