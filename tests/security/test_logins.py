"""Attacks on the logins (issue 13), on SQLite and PostgreSQL: locking someone else's
wallet from its login, telling real accounts from unknown ones, guessing PINs fast
from one machine or from many, racing the portal's throttle, and sessions that
outlive a logout, a lock or a PIN change.

The wallet page's login has a throttle of its own, kept in the database: growing
delays per client address and per account number (known or not), claimed before
the PIN is checked; it never touches the payment side's PIN lock. Every client
comes from an address of its own (``login_kit``).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from host.kit import PIN, RunningHost, World, make_merchant, remember
from scanpay.host.db.models import PortalLoginAttempt, UsedCode, WalletAccount
from scanpay.host.portal import accounts
from security.login_kit import client, login, portal_csrf, unknown_account, watch_argon2

#: Wrong PINs an account takes back to back before its logins are slowed.
ACCOUNT_FREE = 3
#: Failed logins one client address makes back to back before it is slowed.
CLIENT_FREE = 20
BIG = 120_000  # above the default PIN amount (1000.00)
WRONG = "000000"


def _parallel(count: int, action: Any) -> list[Any]:
    """``action(i)`` in ``count`` threads released at once; their results in order."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        start.wait()
        results[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def _retry_after(answer: httpx.Response) -> int:
    assert answer.status_code == 429, (answer.status_code, answer.text)
    body = answer.json()
    assert (body["code"], body["name"]) == ("57", "NOT_PERMITTED"), body
    assert body["message"]["en"] and body["message"]["zh-CN"], body
    assert "set-cookie" not in answer.headers
    seconds = int(answer.headers["retry-after"])
    assert seconds >= 1
    return seconds


def _pin_state(world: World, account: str) -> tuple[int, Any]:
    with world.ctx.db.read() as session:
        row = session.scalars(select(WalletAccount).where(WalletAccount.number == account)).one()
        return row.pin_failures, row.locked_until


def _session(host: RunningHost, account: str, pin: str = PIN) -> tuple[httpx.Client, str]:
    http = client(host)
    answer = login(http, account, pin)
    assert answer.status_code == 200, answer.text
    return http, answer.json()["csrf"]


def _copy(host: RunningHost, http: httpx.Client) -> httpx.Client:
    """Another client holding the same cookie (a stolen or leftover one)."""
    other = client(host)
    for cookie in http.cookies.jar:
        other.cookies.set(cookie.name, cookie.value or "", path=cookie.path)
    return other


# ------------------------------------------------------------------ the payment side


def test_failed_logins_never_lock_the_payment_side(world: World) -> None:
    victim = world.open_wallet(balance=10_000)
    answers = [login(client(world.host), victim.account, WRONG) for _ in range(ACCOUNT_FREE + 3)]
    codes = [a.json()["code"] for a in answers]
    assert "75" not in codes, codes
    assert _pin_state(world, victim.account) == (0, None)
    # The customer pays below the PIN amount as ever.
    paid = world.pay("LOGIN-LOCK-1", 100, wallet=victim)
    assert (paid["status"], paid["code"]) == ("SUCCESS", "00"), paid
    assert world.balance(victim) == 10_000 - 100
    # The guesses past the allowance were slowed instead.
    statuses = [a.status_code for a in answers]
    assert statuses == [401] * ACCOUNT_FREE + [429] * 3, statuses


def test_a_lock_refuses_a_code_without_using_it_up(world: World) -> None:
    victim = world.open_wallet(balance=500_000)
    waiting = world.pay("BURN-1", BIG, wallet=victim)
    assert waiting["status"] == "USER_PAYING"
    http, csrf = _session(world.host, victim.account)
    codes = [
        http.post(
            "/wallet/v1/me/confirm", json={"pin": WRONG}, headers={"X-Wallet-CSRF": csrf}
        ).json()["code"]
        for _ in range(3)
    ]
    assert codes == ["55", "55", "75"]
    with world.ctx.db.read() as session:
        pk = session.scalars(
            select(WalletAccount.id).where(WalletAccount.number == victim.account)
        ).one()
        used_before = session.scalar(
            select(func.count()).select_from(UsedCode).where(UsedCode.wallet_account_id == pk)
        )
    refused = world.pay("BURN-2", 100, wallet=victim)
    assert (refused["status"], refused["code"]) == ("FAILED", "75"), refused
    with world.ctx.db.read() as session:
        used_after = session.scalar(
            select(func.count()).select_from(UsedCode).where(UsedCode.wallet_account_id == pk)
        )
    assert used_after == used_before, "a genuine code was used up by a refusal"
    assert world.balance(victim) == 500_000


def test_confirm_needs_the_wallet_session(world: World) -> None:
    victim = world.open_wallet(balance=500_000)
    waiting = world.pay("CONFIRM-1", BIG, wallet=victim)
    assert waiting["status"] == "USER_PAYING"
    url = world.host.url + "/wallet/v1/confirm"
    for pin in (WRONG, PIN):
        anonymous = httpx.post(url, json={"account": victim.account, "pin": pin}, timeout=60)
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.json()["code"] == "63"
        for secret in ("Best Shop", "CONFIRM-1", waiting["payment_id"], "1200"):
            assert secret not in anonymous.text
    # Someone else's session cannot confirm it either.
    other = world.open_wallet(balance=100)
    http, csrf = _session(world.host, other.account)
    foreign = http.post(
        "/wallet/v1/confirm",
        json={"account": victim.account, "pin": PIN},
        headers={"X-Wallet-CSRF": csrf},
    )
    assert foreign.status_code == 403 and foreign.json()["code"] == "63", foreign.text
    assert "Best Shop" not in foreign.text
    assert world.terminal.get("CONFIRM-1").json()["status"] == "USER_PAYING"
    assert _pin_state(world, victim.account) == (0, None)
    assert world.balance(victim) == 500_000
    # The customer's own session and PIN do.
    http, csrf = _session(world.host, victim.account)
    done = http.post(
        "/wallet/v1/confirm",
        json={"account": victim.account, "pin": PIN},
        headers={"X-Wallet-CSRF": csrf},
    ).json()
    assert (done["code"], done["payment"]["status"]) == ("00", "SUCCESS"), done
    assert world.balance(victim) == 500_000 - BIG


# ------------------------------------------------------------------ one answer, one cost


def test_unknown_and_known_accounts_answer_alike_and_cost_alike(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = watch_argon2(monkeypatch)
    known = world.open_wallet(balance=100).account
    unknown = unknown_account(world)
    ignored = {"date", "x-request-id", "content-length"}
    for round_ in range(ACCOUNT_FREE + 2):
        watch.reset()
        a = login(client(world.host), known, WRONG)
        b = login(client(world.host), unknown, WRONG)
        assert a.status_code == b.status_code, (round_, a.text, b.text)
        assert a.json() == b.json(), round_
        assert a.headers.get("retry-after") == b.headers.get("retry-after")
        assert set(a.headers) - ignored == set(b.headers) - ignored
        if round_ < ACCOUNT_FREE:
            assert a.status_code == 401 and a.json()["code"] == "55"
            assert a.json()["field"] == "pin"
            # The same hash work for both: one check each, at the same argon2 cost.
            assert len(watch.checked) == 2 and watch.checked[0] == watch.checked[1]
        else:
            _retry_after(a)
            assert watch.checked == []  # refused before any PIN is checked


# ------------------------------------------------------------------ throttles


def test_failed_logins_from_one_client_are_slowed_more_and_more(world: World) -> None:
    attacker = client(world.host)
    for _ in range(CLIENT_FREE):  # a new account each time: only the client's count grows
        answer = login(attacker, unknown_account(world), WRONG)
        assert answer.status_code == 401, answer.text
    first = _retry_after(login(attacker, unknown_account(world), WRONG))
    # Not even the right PIN is checked from there now; another machine logs in.
    _retry_after(login(attacker, world.wallet.account, PIN))
    assert login(client(world.host), world.wallet.account, PIN).status_code == 200
    world.host.clock.advance(first)
    assert login(attacker, unknown_account(world), WRONG).status_code == 401
    second = _retry_after(login(attacker, unknown_account(world), WRONG))
    assert second > first
    world.host.clock.advance(second)
    assert login(attacker, world.wallet.account, PIN).status_code == 200


def test_failed_logins_on_one_account_are_slowed_from_any_client(world: World) -> None:
    victim = world.open_wallet(balance=100).account
    for _ in range(ACCOUNT_FREE):
        assert login(client(world.host), victim, WRONG).status_code == 401
    first = _retry_after(login(client(world.host), victim, WRONG))
    _retry_after(login(client(world.host), victim, PIN))  # the right PIN waits too
    world.host.clock.advance(first)
    assert login(client(world.host), victim, WRONG).status_code == 401
    second = _retry_after(login(client(world.host), victim, WRONG))
    assert second > first
    world.host.clock.advance(second)
    assert login(client(world.host), victim, PIN).status_code == 200
    # The right PIN starts the count afresh.
    for _ in range(ACCOUNT_FREE):
        assert login(client(world.host), victim, WRONG).status_code == 401


def test_a_burst_on_one_account_checks_no_more_pins_than_allowed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = world.open_wallet(balance=100).account
    watch = watch_argon2(monkeypatch)
    clients = [client(world.host) for _ in range(25)]
    answers = _parallel(25, lambda i: login(clients[i], victim, WRONG))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * ACCOUNT_FREE + [429] * (25 - ACCOUNT_FREE), statuses
    assert len(watch.checked) == ACCOUNT_FREE
    assert _pin_state(world, victim) == (0, None)


def test_a_burst_of_portal_logins_checks_no_more_passwords_than_the_limit(
    host: RunningHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = f"owner-{uuid.uuid4().hex[:10]}@burst.example"
    accounts.add_user(
        host.ctx,
        email=email,
        password=remember("burst-pass-31415"),
        role="owner",
        merchant_id=make_merchant(host.ctx),
    )
    clients = [client(host) for _ in range(25)]
    tokens = [portal_csrf(c) for c in clients]
    watch = watch_argon2(monkeypatch)

    def attempt(i: int) -> int:
        form = {"email": email, "password": f"guess-{i}", "csrf": tokens[i]}
        return clients[i].post("/portal/login", data=form).status_code

    statuses = sorted(_parallel(25, attempt))
    limit = accounts.THROTTLE.max_failures
    # A loaded machine may find SQLite busy past its timeout: 503 (91, try later) is a
    # refusal too, with nothing recorded. Never more than ``limit`` passwords checked.
    busy = statuses.count(503)
    assert statuses == [401] * limit + [429] * (25 - limit - busy) + [503] * busy, statuses
    assert len(watch.checked) == limit
    late = client(host)
    form = {"email": email, "password": "burst-pass-31415", "csrf": portal_csrf(late)}
    assert late.post("/portal/login", data=form).status_code == 429
    with host.ctx.db.read() as session:
        failures = session.scalar(
            select(func.count())
            .select_from(PortalLoginAttempt)
            .where(PortalLoginAttempt.email == email, PortalLoginAttempt.ok.is_(False))
        )
    assert failures == 26 - busy


# ------------------------------------------------------------------ sessions end


def test_logout_ends_the_session_on_the_server(world: World) -> None:
    http, csrf = _session(world.host, world.open_wallet(balance=100).account)
    leftover = _copy(world.host, http)
    assert leftover.get("/wallet/v1/me").status_code == 200
    assert http.delete("/wallet/v1/session", headers={"X-Wallet-CSRF": csrf}).status_code == 204
    assert leftover.get("/wallet/v1/me").status_code == 401
    made = leftover.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf})
    assert made.status_code == 401 and "digits" not in made.json()


def test_a_lock_ends_the_accounts_sessions(world: World) -> None:
    victim = world.open_wallet(balance=500_000)
    world.pay("LOCKOUT-1", BIG, wallet=victim)
    confirming, csrf = _session(world.host, victim.account)
    elsewhere, other_csrf = _session(world.host, victim.account)
    assert elsewhere.get("/wallet/v1/me").status_code == 200
    for _ in range(3):
        confirming.post(
            "/wallet/v1/me/confirm", json={"pin": WRONG}, headers={"X-Wallet-CSRF": csrf}
        )
    assert _pin_state(world, victim.account)[1] is not None
    for http, token in ((confirming, csrf), (elsewhere, other_csrf)):
        assert http.get("/wallet/v1/me").status_code == 401
        made = http.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": token})
        assert made.status_code == 401 and "digits" not in made.json()
    # The customer can log in again and sees the lock.
    again, _ = _session(world.host, victim.account)
    assert again.get("/wallet/v1/me").json()["locked_until"]


def test_a_pin_change_ends_the_accounts_sessions(world: World) -> None:
    from scanpay.host.services import wallets

    victim = world.open_wallet(balance=100).account
    http, csrf = _session(world.host, victim)
    wallets.change_pin(world.ctx, victim, remember("864209"))
    assert http.get("/wallet/v1/me").status_code == 401
    assert http.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf}).status_code == 401
    assert login(client(world.host), victim, PIN).status_code == 401
    assert login(client(world.host), victim, "864209").status_code == 200
