"""Guessing a customer's one-time payment code, with the host's shipped limits (no limit
set by the test), on SQLite and PostgreSQL.

``tests/host/integration/test_risk_rules.py`` proves the lockout with limits it sets
itself; here the defaults a fresh install has (5 failed codes in 300 s lock for 900 s)
hold against an attacker: at the terminal (merchant scans), and through the wallet's
order payment (customer side, where the account is what locks). Past the limit no
guess is even checked, the genuine code is refused unused, and no money moves.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import httpx
from sqlalchemy import func, select

from host.kit import PIN, World, make_world, remember
from scanpay.host.db.models import CodeFailure, RiskLimit
from scanpay.host.domain.wallet_codes import CodeOutcome, make_digits, verify_digits

#: The shipped default (migration 0002): value, window, lock.
DEFAULT = (5, 300, 900)


def _default_limit(world: World) -> tuple[int, int, int]:
    with world.ctx.db.read() as session:
        row = session.scalars(
            select(RiskLimit).where(RiskLimit.rule == "failed_codes", RiskLimit.scope == "default")
        ).one()
    return row.value, row.window_seconds or 0, row.lock_seconds or 0


def _guesses(world: World, account: str, secret: str, count: int) -> tuple[str, list[str]]:
    """The victim's genuine code now, and ``count`` guesses of it (all wrong)."""
    fmt = world.ctx.settings.code_format
    world.host.clock.advance(fmt.step_seconds)
    step = fmt.step(int(world.host.clock.now().timestamp()))
    good = remember(make_digits(fmt, account, bytes.fromhex(secret), step))
    now = int(world.host.clock.now().timestamp())

    def invalid(guess: str) -> bool:
        # Wrong for every step: a guess that happens to be an older step's code is
        # answered 54 (expired), not 14 - about one run in 150 before this filter.
        otp_part = guess[len(fmt.prefix) + fmt.account_digits :]
        check = verify_digits(fmt, bytes.fromhex(secret), otp_part, now)
        return check.outcome is CodeOutcome.INVALID

    guesses = (good[:-6] + f"{n:06d}" for n in range(1_000_000))
    wrong = [remember(g) for g in islice((g for g in guesses if g != good and invalid(g)), count)]
    return good, wrong


def _failures(world: World) -> int:
    with world.ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(CodeFailure)) or 0


def test_guessing_codes_at_a_terminal_locks_it_with_the_shipped_limits(world: World) -> None:
    assert _default_limit(world) == DEFAULT
    victim = world.open_wallet(balance=10_000)
    good, wrong = _guesses(world, victim.account, victim.secret, 20)
    before = _failures(world)
    answers = [world.terminal.pay(f"BF-{i}", 100, g).json() for i, g in enumerate(wrong)]
    codes = [a["code"] for a in answers]
    # Five guesses are checked and declined (14); every later one stops at the lock (57).
    assert codes[:5] == ["14"] * 5 and codes[5:] == ["57"] * 15, codes
    assert all(a["status"] == "FAILED" for a in answers)
    assert _failures(world) - before == 5  # locked guesses are not even checked
    genuine = world.terminal.pay("BF-G", 100, good).json()
    assert (genuine["status"], genuine["code"]) == ("FAILED", "57")
    assert world.balance(victim) == 10_000
    # Still locked just before the lock ends; the customer's next code works after it.
    world.host.clock.advance(DEFAULT[2] - world.ctx.settings.code_format.step_seconds - 5)
    assert world.terminal.pay("BF-L", 100, world.code(victim)).json()["code"] == "57"
    world.host.clock.advance(10)
    after = world.terminal.pay("BF-OK", 100, world.code(victim)).json()
    assert (after["status"], after["code"]) == ("SUCCESS", "00"), after
    assert world.balance(victim) == 10_000 - 100


def test_guessing_codes_through_order_payments_locks_the_wallet(world: World) -> None:
    """Order payments come from the customer side (no terminal to lock): the account
    locks, even when the guesses go to orders of different merchants."""
    victim = world.open_wallet(balance=10_000)
    shops = [world, make_world(world.host)]
    good, wrong = _guesses(world, victim.account, victim.secret, 8)

    def pay(shop: World, n: int, auth_code: str) -> dict[str, Any]:
        order = shop.order(f"BFO-{n}", 1_000)
        body = {"payload": order["payload"], "auth_code": auth_code}
        answer = httpx.post(world.host.url + "/wallet/v1/pay", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    codes = [pay(shops[i % 2], i, g)["code"] for i, g in enumerate(wrong)]
    assert codes[:5] == ["14"] * 5 and codes[5:] == ["57"] * 3, codes
    locked = pay(world, 99, good)
    assert locked["code"] == "57" and locked["order_status"] == "CREATED"
    # The PIN does not open it either: a lock on codes is not a PIN question.
    with_pin = httpx.post(
        world.host.url + "/wallet/v1/pay",
        json={"payload": world.order("BFO-P", 1_000)["payload"], "auth_code": good, "pin": PIN},
        timeout=30,
    ).json()
    assert with_pin["code"] == "57"
    assert world.balance(victim) == 10_000
