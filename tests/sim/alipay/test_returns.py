"""alipay.trade.cancel, .refund and .fastpay.refund.query through python-alipay-sdk."""

from __future__ import annotations

import secrets
from typing import Any

from alipay import AliPay

from sim.alipay.kit import RunningSim


def _paid(
    sim: RunningSim, amount: str = "10.00", balance: int = 10_000
) -> tuple[AliPay, Any, str, int]:
    shop = sim.app()
    buyer = sim.wallet(balance)
    client = sim.client(shop)
    out = "T" + secrets.token_hex(8)
    reply = client.api_alipay_trade_pay(
        out, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount=amount
    )
    assert reply["code"] == "10000", reply
    return client, shop, out, int(buyer["wallet_id"])


def test_cancel_closes_an_unpaid_trade_and_again_is_the_same(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(100_000, password_above=100)
    client = sim.client(shop)
    out = "T" + secrets.token_hex(8)
    reply = client.api_alipay_trade_pay(
        out, "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="5.00"
    )
    assert reply["code"] == "10003"
    for _ in range(2):
        cancelled = client.api_alipay_trade_cancel(out_trade_no=out)
        assert cancelled["code"] == "10000" and cancelled["action"] == "close", cancelled
        assert cancelled["retry_flag"] == "N"
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_CLOSED"
    # the buyer can no longer confirm it
    sim.admin("POST", f"/sim/trades/{reply['trade_no']}/confirm")
    assert sim.balance(buyer["wallet_id"]) == 100_000


def test_cancel_refunds_a_paid_trade_once(sim: RunningSim) -> None:
    client, shop, out, wallet = _paid(sim)
    assert sim.balance(wallet) == 9_000
    for _ in range(2):
        cancelled = client.api_alipay_trade_cancel(out_trade_no=out)
        assert cancelled["action"] == "refund" and cancelled["retry_flag"] == "N", cancelled
    assert sim.balance(wallet) == 10_000 and sim.app_balance(shop.app_id) == 0
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_CLOSED"


def test_cancel_retry_flag(sim: RunningSim) -> None:
    shop = sim.app()
    buyer = sim.wallet(1_000)
    client = sim.client(shop)
    out = "T" + secrets.token_hex(8)
    code = sim.code(buyer["wallet_id"], "CANCEL_RETRY")
    client.api_alipay_trade_pay(out, "bar_code", code, "x", total_amount="1.00")
    first = client.api_alipay_trade_cancel(out_trade_no=out)
    assert first["code"] == "40004" and first["retry_flag"] == "Y"
    assert sim.balance(buyer["wallet_id"]) == 900  # nothing done yet
    second = client.api_alipay_trade_cancel(out_trade_no=out)
    assert second["action"] == "refund" and second["retry_flag"] == "N"
    assert sim.balance(buyer["wallet_id"]) == 1_000


def test_refunds_are_idempotent_and_never_exceed_what_was_paid(sim: RunningSim) -> None:
    client, shop, out, wallet = _paid(sim)
    first = client.api_alipay_trade_refund("3.00", out_trade_no=out, out_request_no="R1")
    assert (
        first["code"] == "10000" and first["fund_change"] == "Y" and first["refund_fee"] == "3.00"
    )
    again = client.api_alipay_trade_refund("3.00", out_trade_no=out, out_request_no="R1")
    assert (
        again["code"] == "10000" and again["fund_change"] == "N" and again["refund_fee"] == "3.00"
    )
    assert sim.balance(wallet) == 9_300
    too_much = client.api_alipay_trade_refund("7.01", out_trade_no=out, out_request_no="R2")
    assert too_much["code"] == "40004"
    assert too_much["sub_code"] == "ACQ.REASON_TRADE_REFUND_FEE_ERR"
    # no out_request_no: a full refund only
    partial = client.api_alipay_trade_refund("1.00", out_trade_no=out)
    assert partial["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    rest = client.api_alipay_trade_refund("7.00", out_trade_no=out, out_request_no="R3")
    assert rest["refund_fee"] == "10.00"
    assert sim.balance(wallet) == 10_000 and sim.app_balance(shop.app_id) == 0
    assert client.api_alipay_trade_query(out_trade_no=out)["trade_status"] == "TRADE_CLOSED"
    after = client.api_alipay_trade_refund("0.01", out_trade_no=out, out_request_no="R4")
    assert after["code"] == "40004"
    assert sim.balance(wallet) == 10_000


def test_a_refund_the_seller_cannot_cover(sim: RunningSim) -> None:
    client, shop, out, wallet = _paid(sim)
    assert sim.app_balance(shop.app_id) == 1_000
    sim.store.credit_app(shop.app_id, -500)  # the seller withdrew 5.00 to a bank
    refused = client.api_alipay_trade_refund("10.00", out_trade_no=out)
    assert refused["sub_code"] == "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    assert sim.balance(wallet) == 9_000
    sim.store.credit_app(shop.app_id, 500)


def test_refund_query(sim: RunningSim) -> None:
    client, _, out, _ = _paid(sim)
    client.api_alipay_trade_refund("2.50", out_trade_no=out, out_request_no="Q1")
    found = client.api_alipay_trade_fastpay_refund_query("Q1", out_trade_no=out)
    assert found["code"] == "10000" and found["refund_status"] == "REFUND_SUCCESS"
    assert found["refund_amount"] == "2.50" and found["total_amount"] == "10.00"
    unknown = client.api_alipay_trade_fastpay_refund_query("NOPE", out_trade_no=out)
    assert unknown["code"] == "10000" and "refund_amount" not in unknown
    assert "refund_status" not in unknown
