"""Every risk rule through the real host, on SQLite and PostgreSQL.

Each test sets a limit scoped to its own merchant, terminal or wallet (so the
session's other tests are not affected), shows the rule decline with 57 (and
move no money) or flag for review, and the ``world`` fixture then proves the
ledger balances and the audit chain holds.
"""

from __future__ import annotations

from typing import Any

import httpx

from host.kit import World, remember
from scanpay.host.domain.wallet_codes import make_digits
from scanpay.host.services import audit, risk

OPERATOR = audit.Actor.operator("risk-officer")


def _limit(world: World, rule: str, value: int, scope: str, key: str, **extra: Any) -> None:
    risk.set_limit(world.ctx, OPERATOR, rule, value, scope=scope, key=key, **extra)


def _risk_of(world: World, payment_id: str) -> dict[str, str]:
    record = audit.history(world.ctx, subject=("payment", payment_id))[-1]
    return {r["rule"]: r["outcome"] for r in record.data["risk"] or []}


def test_per_transaction_limit_of_the_merchant(world: World) -> None:
    _limit(world, "txn_amount", 20_000, "merchant", world.merchant_id)
    ok = world.pay("RK-1", 20_000)
    assert ok["status"] == "SUCCESS"
    declined = world.pay("RK-2", 20_001)
    assert (declined["status"], declined["code"]) == ("FAILED", "57")
    assert declined["message"]["en"] == "Over the merchant's transaction limit"
    assert world.balance() == 50_000 - 20_000
    assert _risk_of(world, declined["payment_id"])["txn_amount"] == "decline"


def test_per_transaction_limit_by_mcc_class(world: World) -> None:
    # The world's merchant is a grocer (5411): a class row applies to it...
    _limit(world, "txn_amount", 1_500, "mcc_class", "grocery", currency="CNY")
    try:
        assert world.pay("RK-3", 1_501)["code"] == "57"
        assert world.pay("RK-4", 1_500)["code"] == "00"
        # ...unless a merchant row is more specific.
        _limit(world, "txn_amount", 3_000, "merchant", world.merchant_id)
        assert world.pay("RK-5", 2_999)["code"] == "00"
    finally:
        risk.unset_limit(world.ctx, OPERATOR, "txn_amount", "mcc_class", "grocery", currency="CNY")
    assert world.balance() == 50_000 - 1_500 - 2_999


def test_daily_limit_of_the_merchant(world: World) -> None:
    _limit(world, "daily_amount", 5_000, "merchant", world.merchant_id)
    assert world.pay("RK-6", 3_000)["code"] == "00"
    assert world.pay("RK-7", 2_000)["code"] == "00"
    declined = world.pay("RK-8", 1)
    assert (declined["code"], declined["message"]["en"]) == (
        "57",
        "Over the merchant's transaction limit",
    )
    # A refund does not give the day's allowance back (the sale happened)...
    assert world.terminal.refund("RK-6-R", "RK-6", 1_000).json()["status"] == "SUCCESS"
    assert world.pay("RK-8b", 1)["code"] == "57"
    # ...a reversal of a captured payment does (the sale is undone).
    assert world.terminal.reverse("RK-7").json()["status"] == "REVERSED"
    assert world.pay("RK-9", 2_000)["code"] == "00"
    assert world.balance() == 50_000 - 3_000 + 1_000 - 2_000


def test_wallet_limits_per_transaction_and_per_day(world: World) -> None:
    wallet = world.open_wallet(balance=50_000)
    _limit(world, "wallet_txn_amount", 4_000, "wallet", wallet.account)
    _limit(world, "wallet_daily_amount", 6_000, "wallet", wallet.account)
    over = world.pay("RK-10", 4_001, wallet=wallet)
    assert (over["code"], over["message"]["en"]) == ("57", "Over the payer account's limit")
    assert world.pay("RK-11", 4_000, wallet=wallet)["code"] == "00"
    assert world.pay("RK-12", 2_000, wallet=wallet)["code"] == "00"
    assert world.pay("RK-13", 1, wallet=wallet)["code"] == "57"
    # Another wallet at the same merchant is not limited.
    assert world.pay("RK-14", 4_500)["code"] == "00"
    assert world.balance(wallet) == 50_000 - 6_000


def test_velocity_per_terminal(world: World) -> None:
    _limit(world, "velocity", 3, "terminal", world.terminal.terminal_id, window_seconds=60)
    answers = [world.pay(f"RK-V{i}", 100)["code"] for i in range(4)]
    assert answers == ["00", "00", "00", "57"]
    assert world.pay("RK-V4", 100)["message"]["en"].startswith("Too many payments")
    world.host.clock.advance(61)
    assert world.pay("RK-V5", 100)["code"] == "00"
    assert world.balance() == 50_000 - 400


def _bad_code(world: World) -> str:
    """A well-formed code for the world's wallet with a wrong one-time part."""
    good = world.code()
    return remember(good[:-6] + f"{(int(good[-6:]) + 1) % 1_000_000:06d}")


def test_failed_codes_lock_the_terminal_then_the_lock_lifts(world: World) -> None:
    key = world.terminal.terminal_id
    _limit(world, "failed_codes", 3, "terminal", key, window_seconds=300, lock_seconds=600)
    codes = [world.pay(f"RK-F{i}", 100, auth_code=_bad_code(world))["code"] for i in range(3)]
    assert codes == ["14", "14", "14"]
    # Locked: even a genuine code is refused, and not even checked (so not used up).
    genuine = world.code()
    locked = world.terminal.pay("RK-F3", 100, genuine).json()
    assert (locked["code"], locked["message"]["en"]) == (
        "57",
        "Too many invalid codes at this terminal: its payments are paused for a while",
    )
    assert _risk_of(world, locked["payment_id"])["failed_codes"] == "decline"
    assert world.balance() == 50_000
    world.host.clock.advance(601)
    fresh = world.pay("RK-F4", 100)
    assert fresh["code"] == "00"
    assert world.balance() == 50_000 - 100


def test_brute_force_through_the_wallet_locks_the_account(world: World) -> None:
    victim = world.open_wallet(balance=5_000)
    _limit(world, "failed_codes", 3, "wallet", victim.account, window_seconds=300,
           lock_seconds=600)  # fmt: skip
    order = world.order("RK-O1", 1_000)
    fmt = world.ctx.settings.code_format
    step = fmt.step(int(world.host.clock.now().timestamp()))
    good = make_digits(fmt, victim.account, bytes.fromhex(victim.secret), step)
    remember(good)
    candidates = (good[:-6] + f"{n:06d}" for n in range(10))
    guesses = [guess for guess in candidates if guess != good][:3]

    def pay(auth_code: str) -> dict[str, Any]:
        body = {"payload": order["payload"], "auth_code": auth_code}
        answer = httpx.post(world.host.url + "/wallet/v1/pay", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    assert [pay(guess)["code"] for guess in guesses] == ["14", "14", "14"]
    # Locked: the real code is refused without being checked, and no money moves.
    locked = pay(good)
    assert locked["code"] == "57" and "paused" in locked["message"]["en"]
    assert world.balance(victim) == 5_000


def test_duplicate_payments_are_flagged_for_review_not_refused(world: World) -> None:
    first = world.pay("RK-D1", 888)
    second = world.pay("RK-D2", 888)
    third = world.pay("RK-D3", 889)
    assert [p["status"] for p in (first, second, third)] == ["SUCCESS"] * 3
    assert _risk_of(world, first["payment_id"])["duplicate"] == "approve"
    assert _risk_of(world, second["payment_id"])["duplicate"] == "review"
    assert _risk_of(world, third["payment_id"])["duplicate"] == "approve"
    flagged = [i for i in risk.flagged(world.ctx, 200) if i["merchant_id"] == world.merchant_id]
    assert [(i["number"], i["flags"]) for i in flagged] == [("RK-D2", "duplicate")]
    # Past the window the same payment is not suspicious.
    world.host.clock.advance(121)
    assert _risk_of(world, world.pay("RK-D4", 888)["payment_id"])["duplicate"] == "approve"


def test_refunds_above_a_share_of_the_days_sales(world: World) -> None:
    world.pay("RK-R1", 10_000)
    refund = world.terminal.refund("RK-R1-1", "RK-R1", 5_000).json()
    assert refund["status"] == "SUCCESS"
    flagged = world.terminal.refund("RK-R1-2", "RK-R1", 1).json()
    assert flagged["status"] == "SUCCESS"  # the default action flags, it does not refuse
    reviewed = [i for i in risk.flagged(world.ctx, 200) if i["number"] == "RK-R1-2"]
    assert [i["flags"] for i in reviewed] == ["refund_share"]
    _limit(world, "refund_share", 500_000, "merchant", world.merchant_id, action="decline")
    declined = world.terminal.refund("RK-R1-3", "RK-R1", 100).json()
    assert (declined["status"], declined["code"]) == ("FAILED", "57")
    assert world.balance() == 50_000 - 10_000 + 5_001


def test_order_payments_are_checked_by_the_money_rules(world: World) -> None:
    _limit(world, "txn_amount", 1_000, "merchant", world.merchant_id)
    order = world.order("RK-O2", 1_001)
    refused = world.wallet_pay(order["payload"]).json()
    assert (refused["code"], refused["order_status"]) == ("57", "CREATED")
    assert world.balance() == 50_000


def test_rule_hits_are_counted_in_the_metrics(world: World) -> None:
    _limit(world, "txn_amount", 10, "merchant", world.merchant_id)
    assert world.pay("RK-M1", 11)["code"] == "57"
    text = httpx.get(world.host.url + "/metrics", timeout=30).text
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith('scanpay_risk_rule_hits_total{outcome="decline",rule="txn_amount"}')
    )
    assert float(line.split()[-1]) >= 1
