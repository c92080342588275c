"""Asynchronous notifications: posted to a loopback receiver, verifiable with the SDK's
own verify, sent again on Alipay's intervals until the receiver answers ``success``."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from sim.alipay.kit import Receiver, RunningSim, receiver


def _wait(what: str, ok: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not ok():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _count(box: Receiver, n: int) -> Callable[[], bool]:
    return lambda: len(box.forms()) >= n


def test_a_payment_is_notified_until_the_receiver_says_success(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(10_000)
    with receiver(["fail", "success"]) as box:
        client = sim.client(shop, app_notify_url=box.url)
        out = "N" + secrets.token_hex(6)
        reply = client.api_alipay_trade_pay(
            out, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="3.21"
        )
        assert reply["code"] == "10000"
        _wait("the first notification", _count(box, 1))
        first = box.forms()[0]
        assert first["trade_status"] == "TRADE_SUCCESS" and first["out_trade_no"] == out
        assert first["total_amount"] == "3.21" and first["notify_type"] == "trade_status_sync"
        assert first["app_id"] == shop.app_id and first["sign_type"] == "RSA2"
        signature = first.pop("sign")
        assert client.verify(dict(first), signature)  # the SDK's own check
        assert not client.verify({**first, "total_amount": "321.00"}, signature)
        # not acknowledged: sent again after Alipay's first interval (4 minutes)
        sim.clock.advance(239)
        time.sleep(0.3)  # a chance to (wrongly) send early; the count must not move
        assert len(box.forms()) == 1
        sim.clock.advance(2)
        _wait("the second notification", _count(box, 2))
        second = box.forms()[1]
        assert second["notify_id"] == first["notify_id"]
        signature = second.pop("sign")
        assert client.verify(dict(second), signature)
        _wait(
            "the delivery to be recorded",
            lambda: (
                sim.admin("GET", f"/sim/notifications?app_id={shop.app_id}")[0]["delivered_at"]
                is not None
            ),
        )
        sim.clock.advance(3600)
        time.sleep(0.3)
        assert len(box.forms()) == 2  # acknowledged: never again


def test_a_refund_and_a_close_are_notified(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(10_000, password_above=500)
    with receiver(["success"]) as box:
        client = sim.client(shop, app_notify_url=box.url)
        out = "N" + secrets.token_hex(6)
        client.api_alipay_trade_pay(
            out, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="2.00"
        )
        client.api_alipay_trade_refund("0.50", out_trade_no=out, out_request_no="RN1")
        waiting = "N" + secrets.token_hex(6)
        reply = client.api_alipay_trade_pay(
            waiting, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="9.00"
        )
        assert reply["code"] == "10003"
        client.api_alipay_trade_cancel(out_trade_no=waiting)
        _wait("three notifications", _count(box, 3))
        forms = box.forms()
        refund = next(f for f in forms if f.get("out_biz_no") == "RN1")
        assert refund["refund_fee"] == "0.50" and refund["trade_status"] == "TRADE_SUCCESS"
        closed = next(f for f in forms if f["out_trade_no"] == waiting)
        assert closed["trade_status"] == "TRADE_CLOSED"
        for form in forms:
            signature = form.pop("sign")
            assert client.verify(dict(form), signature)


def test_only_loopback_urls_are_called(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(1_000)
    client = sim.client(shop, app_notify_url="http://example.com/notify")
    client.api_alipay_trade_pay(
        "N1", "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="1.00"
    )
    notices = sim.admin("GET", f"/sim/notifications?app_id={shop.app_id}")
    assert len(notices) == 1 and notices[0]["attempts"] == 0
    assert "loopback" in notices[0]["last_error"] and notices[0]["next_at"] is None


def test_a_password_step_completing_on_its_own_is_notified(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(10_000)
    with receiver(["success"]) as box:
        client = sim.client(shop, app_notify_url=box.url)
        out = "N" + secrets.token_hex(6)
        code = sim.code(buyer["wallet_id"], "WAIT_PASSWORD_SUCCESS", seconds=30)
        reply = client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="4.00")
        assert reply["code"] == "10003"
        assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "WAIT_BUYER_PAY"
        sim.clock.advance(31)  # nobody queries: the network notices on its own
        _wait("the notification", _count(box, 1))
        assert box.forms()[0]["trade_status"] == "TRADE_SUCCESS"
        assert sim.balance(buyer["wallet_id"]) == 9_600
