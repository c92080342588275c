"""Payments over signed HTTP: approvals, declines, retries, concurrency, training mode."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from host.kit import World, make_merchant, make_terminal
from scanpay.codes import AccountTemplate, build_mpm
from scanpay.host.domain.wallet_codes import make_cpm
from scanpay.host.services import ledger, merchants


def _payment(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def test_wallet_digits_approved_and_money_moves(world: World) -> None:
    before = world.balance()
    code = world.code()
    data = _payment(world.terminal.pay("S-1", 1234, code, description="coffee"))
    assert data["status"] == "SUCCESS" and data["code"] == "00"
    assert data["message"] == {"zh-CN": "支付成功", "en": "Approved"}
    assert data["amount"] == 1234 and data["currency"] == "CNY"
    assert data["wallet"] == "scanpay"
    assert data["payer"] == code[:6] + "*" * 8 + code[-4:]
    assert data["paid_at"] is not None and data["payment_id"].startswith("P")
    assert world.balance() == before - 1234
    fetched = _payment(world.terminal.get("S-1"))
    assert fetched == data


def test_emv_cpm_form_is_approved(world: World) -> None:
    data = _payment(world.terminal.pay("S-2", 500, world.code(form="cpm")))
    assert data["status"] == "SUCCESS"
    assert data["payer"] is not None and "*" in data["payer"]
    assert world.balance() == 50_000 - 500


def test_reused_code_is_refused_in_either_form(world: World) -> None:
    world.host.clock.advance(5)
    from scanpay.host.services import wallets

    issued = wallets.issue_code(world.ctx, world.wallet.account)
    assert _payment(world.terminal.pay("R-1", 100, issued.digits))["status"] == "SUCCESS"
    again = _payment(world.terminal.pay("R-2", 100, issued.digits))
    assert (again["status"], again["code"]) == ("FAILED", "14")
    assert "already used" in again["message"]["en"]
    other_form = _payment(world.terminal.pay("R-3", 100, issued.cpm))
    assert (other_form["status"], other_form["code"]) == ("FAILED", "14")
    assert world.balance() == 50_000 - 100


def test_cpm_counter_must_rise(world: World) -> None:
    fmt = world.ctx.settings.code_format
    secret = bytes.fromhex(world.wallet.secret)
    step = fmt.step(int(world.host.clock.now().timestamp()))
    newer = make_cpm(fmt, world.wallet.account, secret, step, atc=7)
    older = make_cpm(fmt, world.wallet.account, secret, step - 1, atc=6)
    assert _payment(world.terminal.pay("C-1", 100, newer))["status"] == "SUCCESS"
    replay = _payment(world.terminal.pay("C-2", 100, older))
    assert (replay["status"], replay["code"]) == ("FAILED", "14")
    assert "counter" in replay["message"]["en"]


def test_code_expires_after_sixty_seconds(world: World) -> None:
    clock = world.host.clock
    fmt = world.ctx.settings.code_format
    secret = bytes.fromhex(world.wallet.secret)
    from scanpay.host.domain.wallet_codes import make_digits

    made_at = fmt.step(int(clock.now().timestamp()) + 10) * fmt.step_seconds
    clock.set(clock.now().fromtimestamp(made_at, clock.now().tzinfo))
    step = fmt.step(made_at)
    fresh = make_digits(fmt, world.wallet.account, secret, step)
    stale = make_digits(fmt, world.wallet.account, secret, step - 1)
    clock.advance(59)  # the fresh one has a second to live; the stale one is 64 s old
    assert _payment(world.terminal.pay("E-1", 100, fresh))["status"] == "SUCCESS"
    expired = _payment(world.terminal.pay("E-2", 100, stale))
    assert (expired["status"], expired["code"]) == ("FAILED", "54")
    assert expired["message"]["en"].startswith("The payment code has expired")
    assert world.balance() == 50_000 - 100


def test_insufficient_funds_moves_nothing(world: World) -> None:
    data = _payment(world.terminal.pay("F-1", 60_000, world.code(), training=False))
    # 600.00 is under the PIN threshold (1000.00) but over the 500.00 balance.
    assert (data["status"], data["code"]) == ("FAILED", "51")
    assert data["paid_at"] is None
    assert world.balance() == 50_000


def test_duplicate_retry_returns_the_stored_answer(world: World) -> None:
    code = world.code()
    first = world.terminal.pay("D-1", 700, code)
    second = world.terminal.pay("D-1", 700, code)
    assert first.json() == second.json()
    assert second.headers["x-scanpay-replayed"] == "true"
    assert "x-scanpay-replayed" not in first.headers
    assert world.balance() == 50_000 - 700


def test_same_key_different_body_is_409_95(world: World) -> None:
    code = world.code()
    assert _payment(world.terminal.pay("D-2", 700, code))["status"] == "SUCCESS"
    clash = world.terminal.pay("D-2", 701, code)
    assert clash.status_code == 409
    assert clash.json()["code"] == "95" and clash.json()["name"] == "KEY_REUSED_MISMATCH"
    assert clash.json()["field"] == "out_trade_no"
    assert world.balance() == 50_000 - 700
    assert _payment(world.terminal.get("D-2"))["amount"] == 700


def test_concurrent_duplicates_charge_once(world: World) -> None:
    code = world.code()
    barrier = threading.Barrier(8)

    def send(_: int) -> httpx.Response:
        barrier.wait()
        return world.terminal.pay("DUP-1", 900, code)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    bodies = [_payment(a) for a in answers]
    assert {b["payment_id"] for b in bodies} == {bodies[0]["payment_id"]}
    assert {b["status"] for b in bodies} == {"SUCCESS"}
    assert sum(a.headers.get("x-scanpay-replayed") == "true" for a in answers) == 7
    assert world.balance() == 50_000 - 900


def test_concurrent_payments_never_overdraw(world: World) -> None:
    wallet = world.open_wallet(balance=1_000)
    codes = [world.code(wallet) for _ in range(9)]  # 9 steps: all still live at the end
    barrier = threading.Barrier(len(codes))

    def send(i: int) -> httpx.Response:
        barrier.wait()
        return world.terminal.pay(f"OD-{i}", 300, codes[i])

    with ThreadPoolExecutor(len(codes)) as pool:
        bodies = [_payment(r) for r in pool.map(send, range(len(codes)))]
    outcomes = sorted((b["status"], b["code"]) for b in bodies)
    assert outcomes.count(("SUCCESS", "00")) == 3
    assert outcomes.count(("FAILED", "51")) == 6
    assert world.balance(wallet) == 100


def test_codes_the_host_does_not_issue_are_declined(world: World) -> None:
    wechat = _payment(world.terminal.pay("W-1", 100, "134567890123456789"))
    assert (wechat["status"], wechat["code"], wechat["wallet"]) == ("FAILED", "57", "wechat_pay")
    assert wechat["payer"] == "134567********6789"
    mpm = build_mpm(
        merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M1"})],
        merchant_name="Shop",
        merchant_city="City",
        mcc="5411",
        currency="CNY",
        country="CN",
    )
    sticker = _payment(world.terminal.pay("W-2", 100, mpm))
    assert (sticker["status"], sticker["code"]) == ("FAILED", "14")
    assert "merchant" in sticker["message"]["en"]
    junk = _payment(world.terminal.pay("W-3", 100, "880000000000000000"))
    assert (junk["status"], junk["code"]) == ("FAILED", "14")
    assert world.balance() == 50_000


def test_training_mode_moves_no_real_money(world: World) -> None:
    real_before = ledger.check(world.ctx).totals
    trainee = world.open_wallet(balance=10_000, training=True)
    data = _payment(world.terminal.pay("TR-1", 2_500, world.code(trainee), training=True))
    assert (data["status"], data["training"]) == ("SUCCESS", True)
    assert world.balance(trainee) == 7_500
    after = ledger.check(world.ctx).totals
    assert after["real/CNY/merchant_clearing"] == real_before["real/CNY/merchant_clearing"]
    assert after["training/CNY/merchant_clearing"] > real_before.get(
        "training/CNY/merchant_clearing", 0
    )
    real_code = world.code()
    real_in_training = _payment(world.terminal.pay("TR-2", 100, real_code, training=True))
    assert (real_in_training["status"], real_in_training["code"]) == ("FAILED", "57")
    assert "Training" in real_in_training["message"]["en"]
    # The customer's code was not burnt by the cashier's mistake.
    assert _payment(world.terminal.pay("TR-4", 100, real_code))["status"] == "SUCCESS"
    training_in_real = _payment(world.terminal.pay("TR-3", 100, world.code(trainee)))
    assert (training_in_real["status"], training_in_real["code"]) == ("FAILED", "57")
    assert world.balance() == 50_000 - 100 and world.balance(trainee) == 7_500


def test_currency_other_than_the_merchants_is_refused(world: World) -> None:
    answer = world.terminal.request(
        "POST",
        "/v1/payments",
        {"out_trade_no": "CUR-1", "amount": 100, "currency": "USD", "auth_code": world.code()},
    )
    assert answer.status_code == 400
    # Its own code (31 CURRENCY_NOT_ACCEPTED), not 13 INVALID_AMOUNT: the amount is fine.
    assert (answer.json()["code"], answer.json()["name"], answer.json()["field"]) == (
        "31",
        "CURRENCY_NOT_ACCEPTED",
        "currency",
    )
    assert world.terminal.get("CUR-1").status_code == 404


def test_suspended_merchant_takes_no_payments_but_can_query(world: World) -> None:
    assert _payment(world.terminal.pay("SU-1", 100, world.code()))["status"] == "SUCCESS"
    merchants.set_status(world.ctx, world.merchant_id, "suspend")
    refused = world.terminal.pay("SU-2", 100, world.code())
    assert refused.status_code == 403
    assert (refused.json()["code"], refused.json()["name"]) == ("58", "TERMINAL_NOT_PERMITTED")
    assert world.terminal.get("SU-2").status_code == 404
    assert _payment(world.terminal.get("SU-1"))["status"] == "SUCCESS"
    merchants.set_status(world.ctx, world.merchant_id, "approve")
    assert _payment(world.terminal.pay("SU-3", 100, world.code()))["status"] == "SUCCESS"
    assert world.balance() == 50_000 - 200


def test_another_merchants_trade_number_is_404(world: World) -> None:
    assert _payment(world.terminal.pay("MINE-1", 100, world.code()))["status"] == "SUCCESS"
    other = make_terminal(world.host, make_merchant(world.ctx, name="Other Shop"))
    answer = other.get("MINE-1")
    assert answer.status_code == 404
    assert answer.json()["code"] == "25" and answer.json()["name"] == "NOT_FOUND"
    page = other.request("GET", "/v1/transactions").json()
    assert page["items"] == []


def test_logs_never_hold_a_code_key_or_secret(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = world.code()
    cpm = world.code(form="cpm")
    world.terminal.pay("LOG-1", 100, code)
    world.terminal.pay("LOG-2", 100, cpm)
    world.terminal.reverse("LOG-1")
    world.terminal.request("GET", "/v1/transactions", key="11" * 32, check_reply=False)
    text = caplog.text
    assert "LOG-1" in text  # the host does log payments...
    assert code[:6] + "*" * 8 + code[-4:] in text  # ...with the code masked
    for secret in (code, cpm, world.terminal.key, world.wallet.secret, "123456"):
        assert secret not in text
