"""Above the account's PIN amount a payment waits for the customer's PIN (USER_PAYING)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from host.kit import PIN, World

BIG = 120_000  # 1200.00: above the default PIN threshold of 1000.00


def _confirm(world: World, pin: str, **extra: str) -> httpx.Response:
    """The customer confirms from their wallet page session (logged in with the PIN)."""
    account = world.wallet.account
    with httpx.Client(base_url=world.host.url, timeout=30) as http:
        login = http.post("/wallet/v1/session", json={"account": account, "pin": PIN})
        assert login.status_code == 200, login.text
        body = {"account": account, "pin": pin, **extra}
        csrf = {"X-Wallet-CSRF": login.json()["csrf"]}
        return http.post("/wallet/v1/confirm", json=body, headers=csrf)


def _rich(world: World) -> None:
    # The default world wallet holds 500.00; a PIN-sized payment needs more.
    world.wallet = world.open_wallet(balance=500_000)


def test_wrong_then_right_pin(world: World) -> None:
    _rich(world)
    waiting = world.terminal.pay("PIN-1", BIG, world.code()).json()
    assert (waiting["status"], waiting["code"]) == ("USER_PAYING", "09")
    assert waiting["paid_at"] is None and world.balance() == 500_000
    assert world.terminal.get("PIN-1").json()["status"] == "USER_PAYING"
    wrong = _confirm(world, "000000")
    assert wrong.status_code == 200
    data = wrong.json()
    assert (data["code"], data["tries_left"]) == ("55", 2)
    assert data["payment"]["status"] == "USER_PAYING" and data["merchant_name"] == "Best Shop"
    assert world.balance() == 500_000
    right = _confirm(world, "123456", payment_id=waiting["payment_id"]).json()
    assert (right["code"], right["payment"]["status"], right["tries_left"]) == ("00", "SUCCESS", 3)
    assert world.balance() == 500_000 - BIG
    final = world.terminal.get("PIN-1").json()
    assert (final["status"], final["code"]) == ("SUCCESS", "00") and final["paid_at"]
    again = _confirm(world, "123456").json()  # nothing is waiting any more
    assert again["code"] == "25" and again["name"] == "NOT_FOUND"


def test_three_wrong_pins_lock_the_account(world: World) -> None:
    _rich(world)
    world.terminal.pay("LOCK-1", BIG, world.code())
    codes = [_confirm(world, "999999").json()["code"] for _ in range(3)]
    assert codes == ["55", "55", "75"]
    failed = world.terminal.get("LOCK-1").json()
    assert (failed["status"], failed["code"]) == ("FAILED", "75")
    assert "locked" in failed["message"]["en"]
    # While locked, even a small payment without PIN is declined.
    small = world.terminal.pay("LOCK-2", 100, world.code()).json()
    assert (small["status"], small["code"]) == ("FAILED", "75")
    world.host.clock.advance(world.ctx.settings.pin_lock)
    assert world.terminal.pay("LOCK-3", 100, world.code()).json()["status"] == "SUCCESS"
    assert world.balance() == 500_000 - 100


def test_unconfirmed_payment_closes_at_the_deadline(world: World) -> None:
    _rich(world)
    world.terminal.pay("LATE-1", BIG, world.code())
    world.host.clock.advance(world.ctx.settings.user_paying_timeout)
    closed = world.terminal.get("LATE-1").json()
    assert (closed["status"], closed["code"]) == ("FAILED", "12")
    assert "did not confirm" in closed["message"]["en"]
    late = _confirm(world, "123456").json()
    assert late["code"] == "25"  # nothing waits any more
    assert world.balance() == 500_000


def _wallet_me(world: World) -> dict[str, Any]:
    """The wallet page's view of the account (logged in with the PIN)."""
    with httpx.Client(base_url=world.host.url, timeout=30) as http:
        login = http.post("/wallet/v1/session", json={"account": world.wallet.account, "pin": PIN})
        assert login.status_code == 200, login.text
        me: dict[str, Any] = http.get("/wallet/v1/me").json()
        return me


def test_the_hosts_pin_deadline_is_in_every_reply(world: World) -> None:
    """Issue 14: one PIN deadline, the host's. The payment's reply and its queries name
    it (absolute, and as seconds left for a terminal whose clock differs), and the
    wallet page's pending list counts down to the same; a payment that no longer
    waits names none, and the page's history says it timed out."""
    _rich(world)
    timeout = world.ctx.settings.user_paying_timeout
    waiting = world.terminal.pay("DL-1", BIG, world.code()).json()
    assert waiting["status"] == "USER_PAYING"
    created = datetime.fromisoformat(waiting["created_at"])
    deadline = datetime.fromisoformat(waiting["pin_deadline"])
    assert deadline == created + timedelta(seconds=timeout)
    assert waiting["pin_expires_in"] == timeout
    world.host.clock.advance(30)
    polled = world.terminal.get("DL-1").json()
    assert datetime.fromisoformat(polled["pin_deadline"]) == deadline
    assert polled["pin_expires_in"] == timeout - 30
    me = _wallet_me(world)
    [pending] = me["pending"]
    assert pending["payment_id"] == waiting["payment_id"]
    assert datetime.fromisoformat(pending["pin_deadline"]) == deadline
    assert (pending["pin_expires_in"], pending["outcome"]) == (timeout - 30, "waiting")
    assert me["timezone"] == world.ctx.settings.timezone
    world.host.clock.advance(timeout)
    closed = world.terminal.get("DL-1").json()
    assert (closed["status"], closed["code"]) == ("FAILED", "12")
    assert closed["pin_deadline"] is None and closed["pin_expires_in"] is None
    me = _wallet_me(world)
    assert me["pending"] == []
    [entry] = [p for p in me["history"] if p["payment_id"] == waiting["payment_id"]]
    assert (entry["outcome"], entry["pin_expires_in"]) == ("timed_out", None)


def test_reverse_while_waiting_then_confirm_moves_nothing(world: World) -> None:
    _rich(world)
    waiting = world.terminal.pay("RW-1", BIG, world.code()).json()
    reversed_ = world.terminal.reverse("RW-1").json()
    assert (reversed_["status"], reversed_["code"]) == ("REVERSED", "12")
    answer = _confirm(world, "123456", payment_id=waiting["payment_id"]).json()
    assert (answer["code"], answer["payment"]["status"]) == ("12", "REVERSED")
    assert world.balance() == 500_000


def test_pin_above_balance_is_declined_at_once(world: World) -> None:
    data = world.terminal.pay("POOR-1", BIG, world.code()).json()
    assert (data["status"], data["code"]) == ("FAILED", "51")
    assert world.balance() == 50_000
