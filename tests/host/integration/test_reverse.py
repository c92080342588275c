"""Reversals: after the payment (money back), before it (a tombstone), idempotent."""

from __future__ import annotations

from host.kit import World, make_merchant, make_terminal


def test_reverse_after_payment_returns_the_money_once(world: World) -> None:
    paid = world.terminal.pay("RV-1", 4_000, world.code()).json()
    assert paid["status"] == "SUCCESS" and world.balance() == 46_000
    first = world.terminal.reverse("RV-1").json()
    assert (first["status"], first["code"], first["payment_id"]) == (
        "REVERSED",
        "12",
        paid["payment_id"],
    )
    assert world.balance() == 50_000
    second = world.terminal.reverse("RV-1").json()
    assert second == first
    assert world.balance() == 50_000
    assert world.terminal.get("RV-1").json()["status"] == "REVERSED"


def test_reverse_before_payment_makes_the_payment_fail(world: World) -> None:
    mark = world.terminal.reverse("RB-1").json()
    assert (mark["status"], mark["code"], mark["amount"]) == ("REVERSED", "12", 0)
    assert world.terminal.get("RB-1").json()["status"] == "REVERSED"
    listed = world.terminal.request("GET", "/v1/transactions").json()["items"]
    assert [p["out_trade_no"] for p in listed] == []  # a bare mark is not a transaction
    code = world.code()
    late = world.terminal.pay("RB-1", 3_000, code).json()
    assert (late["status"], late["code"], late["amount"]) == ("REVERSED", "12", 3_000)
    assert "reversed before" in late["message"]["en"]
    assert world.balance() == 50_000
    # The late payment is now on record: its retry is answered the same, another body is 95.
    assert world.terminal.pay("RB-1", 3_000, code).json() == late
    assert world.terminal.pay("RB-1", 3_001, code).status_code == 409
    # The customer's code was not consumed by the refused payment.
    assert world.terminal.pay("RB-2", 3_000, code).json()["status"] == "SUCCESS"
    assert world.balance() == 47_000


def test_reverse_of_a_declined_payment(world: World) -> None:
    declined = world.terminal.pay("RD-1", 90_000, world.code()).json()
    assert declined["code"] == "51"
    reversed_ = world.terminal.reverse("RD-1").json()
    assert (reversed_["status"], reversed_["code"]) == ("REVERSED", "12")
    assert world.balance() == 50_000


def test_reversing_another_merchants_trade_number_touches_nothing_of_theirs(world: World) -> None:
    assert world.terminal.pay("THEIRS-1", 1_000, world.code()).json()["status"] == "SUCCESS"
    other = make_terminal(world.host, make_merchant(world.ctx, name="Other Shop"))
    mark = other.reverse("THEIRS-1").json()
    assert (mark["status"], mark["amount"]) == ("REVERSED", 0)  # a mark of its own
    assert world.terminal.get("THEIRS-1").json()["status"] == "SUCCESS"
    assert world.balance() == 49_000
