"""The consume (C2B, ``qrNo``) and its query: approved at once, the password step,
declines, in-doubt answers a query settles, and orderIds used once."""

from __future__ import annotations

import uuid

import pytest

from sim.unionpay.kit import Merchant, RunningSim


def _order() -> str:
    return "T" + uuid.uuid4().hex[:20]


@pytest.fixture
def shop(sim: RunningSim) -> Merchant:
    return sim.merchant()


def test_a_consume_approved_at_once(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    reply = sim.consume(shop, order, sim.code(wallet), 1_230)
    assert (reply["respCode"], reply["origRespCode"]) == ("00", "00"), reply
    assert reply["orderId"] == order and reply["txnAmt"] == "1230"
    assert len(reply["queryId"]) == 21 and reply["merId"] == shop.mer_id
    assert sim.balance(wallet) == 10_000 - 1_230
    assert sim.merchant_balance(shop.mer_id) == 1_230
    found = sim.query(shop, order, sim.order(shop.mer_id, order)["txn_time"])
    assert (found["respCode"], found["origRespCode"], found["queryId"]) == (
        "00",
        "00",
        reply["queryId"],
    )


def test_the_password_step_then_the_query(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(100_000, password_above=5_000)["wallet_id"]
    order = _order()
    reply = sim.consume(shop, order, sim.code(wallet), 8_000)
    assert reply["respCode"] == "00" and "origRespCode" not in reply
    txn_time = sim.order(shop.mer_id, order)["txn_time"]
    assert sim.query(shop, order, txn_time)["origRespCode"] == "05"
    assert sim.balance(wallet) == 100_000  # nothing taken while waiting
    sim.admin("POST", f"/sim/orders/{reply['queryId']}/confirm")
    found = sim.query(shop, order, txn_time)
    assert (found["origRespCode"], found["txnAmt"]) == ("00", "8000")
    assert sim.balance(wallet) == 92_000


def test_a_password_never_entered_closes_at_the_deadline(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    reply = sim.consume(shop, order, sim.code(wallet, "WAIT_PASSWORD_NEVER"), 500)
    assert reply["respCode"] == "00"
    txn_time = sim.order(shop.mer_id, order)["txn_time"]
    sim.admin("POST", f"/sim/orders/{reply['queryId']}/confirm")  # the customer cannot
    assert sim.query(shop, order, txn_time)["origRespCode"] == "05"
    sim.clock.advance(301)
    assert sim.query(shop, order, txn_time)["origRespCode"] == "69"
    assert sim.balance(wallet) == 10_000


@pytest.mark.parametrize(
    ("outcome", "resp_code", "expected"),
    [("DECLINE", None, "01"), ("DECLINE", "30", "30"), ("NOTENOUGH", None, "64")],
)
def test_declines_with_the_chosen_code(
    sim: RunningSim, shop: Merchant, outcome: str, resp_code: str | None, expected: str
) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    body = {"resp_code": resp_code} if resp_code else {}
    reply = sim.consume(shop, order, sim.code(wallet, outcome, **body), 500)
    assert reply["respCode"] == expected
    txn_time = sim.order(shop.mer_id, order)["txn_time"]
    assert sim.query(shop, order, txn_time)["origRespCode"] == expected
    assert sim.balance(wallet) == 10_000


def test_too_little_in_the_wallet_is_64(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(100)["wallet_id"]
    assert sim.consume(shop, _order(), sim.code(wallet), 500)["respCode"] == "64"
    assert sim.balance(wallet) == 100


def test_charged_then_unknown_is_found_by_query(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    reply = sim.consume(shop, order, sim.code(wallet, "CHARGED_THEN_UNKNOWN"), 700)
    assert reply["respCode"] == "04" and "queryId" not in reply
    found = sim.query(shop, order, sim.order(shop.mer_id, order)["txn_time"])
    assert (found["origRespCode"], found["txnAmt"]) == ("00", "700")
    assert sim.balance(wallet) == 9_300


def test_a_system_error_takes_nothing_and_the_same_request_goes_on(
    sim: RunningSim, shop: Merchant
) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order, code = _order(), sim.code(wallet)
    headers = {"UnionPay-Sim-Outcome": "SYSTEMERROR"}
    assert sim.consume(shop, order, code, 500, headers=headers)["respCode"] == "03"
    assert sim.query(shop, order, sim.txn_time())["respCode"] == "34"
    assert sim.consume(shop, order, code, 500)["origRespCode"] == "00"


def test_an_order_id_is_used_once(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    assert sim.consume(shop, order, sim.code(wallet), 500)["respCode"] == "00"
    assert sim.consume(shop, order, sim.code(wallet), 500)["respCode"] == "12"
    assert sim.balance(wallet) == 9_500


def test_a_query_at_another_txn_time_finds_nothing(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _order()
    sim.consume(shop, order, sim.code(wallet), 500)
    assert sim.query(shop, order, "20200101000000")["respCode"] == "34"
    assert sim.query(shop, "NOSUCHORDER1", sim.txn_time())["respCode"] == "34"
