"""Cancel (31) and refund (04): by ``origQryId``, under orderIds of their own; never
more back than was paid; the same orderId again changes nothing (12)."""

from __future__ import annotations

import uuid

import pytest

from sim.unionpay.kit import BACK_PATH, BACK_URL, Merchant, RunningSim


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


@pytest.fixture
def shop(sim: RunningSim) -> Merchant:
    return sim.merchant()


def _back(
    sim: RunningSim, shop: Merchant, txn_type: str, order_id: str, orig: str, amount: int
) -> dict[str, str]:
    fields = {
        "txnType": txn_type,
        "txnSubType": "00",
        "channelType": "08",
        "orderId": order_id,
        "origQryId": orig,
        "txnTime": sim.txn_time(),
        "txnAmt": str(amount),
        "currencyCode": "156",
        "backUrl": BACK_URL,
    }
    return sim.call(shop, BACK_PATH, fields)


def _paid(sim: RunningSim, shop: Merchant, amount: int) -> tuple[int, str]:
    wallet = int(sim.wallet(10_000)["wallet_id"])
    reply = sim.consume(shop, _no(), sim.code(wallet), amount)
    assert reply["origRespCode"] == "00"
    return wallet, reply["queryId"]


def test_a_cancel_gives_all_back_once(sim: RunningSim, shop: Merchant) -> None:
    wallet, query_id = _paid(sim, shop, 1_000)
    assert _back(sim, shop, "31", _no(), query_id, 999)["respCode"] == "36"
    cancel = _no()
    done = _back(sim, shop, "31", cancel, query_id, 1_000)
    assert done["respCode"] == "00" and done["origQryId"] == query_id
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mer_id) == 0
    assert _back(sim, shop, "31", _no(), query_id, 1_000)["respCode"] == "45"
    assert _back(sim, shop, "04", _no(), query_id, 100)["respCode"] == "45"
    assert _back(sim, shop, "31", cancel, query_id, 1_000)["respCode"] == "12"
    txn_time = sim.order(shop.mer_id, cancel)["txn_time"]
    assert sim.query(shop, cancel, txn_time)["origRespCode"] == "00"
    assert sim.balance(wallet) == 10_000


def test_a_cancel_closes_a_consume_waiting_for_the_password(
    sim: RunningSim, shop: Merchant
) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _no()
    reply = sim.consume(shop, order, sim.code(wallet, "WAIT_PASSWORD_NEVER"), 800)
    assert _back(sim, shop, "31", _no(), reply["queryId"], 800)["respCode"] == "00"
    txn_time = sim.order(shop.mer_id, order)["txn_time"]
    assert sim.query(shop, order, txn_time)["origRespCode"] == "01"
    assert sim.balance(wallet) == 10_000


def test_a_cancel_of_another_days_consume_is_35(sim: RunningSim, shop: Merchant) -> None:
    _, query_id = _paid(sim, shop, 300)
    sim.clock.advance(86_400)
    assert _back(sim, shop, "31", _no(), query_id, 300)["respCode"] == "35"


def test_refunds_never_more_than_paid_and_idempotent_by_order_id(
    sim: RunningSim, shop: Merchant
) -> None:
    wallet, query_id = _paid(sim, shop, 1_000)
    first = _no()
    done = _back(sim, shop, "04", first, query_id, 600)
    assert (done["respCode"], done["origRespCode"], done["txnAmt"]) == ("00", "00", "600")
    assert _back(sim, shop, "04", first, query_id, 600)["respCode"] == "12"
    assert sim.balance(wallet) == 9_600
    assert _back(sim, shop, "04", _no(), query_id, 401)["respCode"] == "30"
    assert _back(sim, shop, "04", _no(), query_id, 400)["respCode"] == "00"
    assert _back(sim, shop, "04", _no(), query_id, 1)["respCode"] == "30"
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mer_id) == 0
    found = sim.query(shop, first, sim.order(shop.mer_id, first)["txn_time"])
    assert (found["origRespCode"], found["txnAmt"], found["origQryId"]) == ("00", "600", query_id)
    # Another day's consume is refunded all the same.
    _, later = _paid(sim, shop, 200)
    sim.clock.advance(86_400)
    assert _back(sim, shop, "04", _no(), later, 200)["respCode"] == "00"


def test_a_refund_of_nothing_paid_is_35(sim: RunningSim, shop: Merchant) -> None:
    assert _back(sim, shop, "04", _no(), "0" * 21, 100)["respCode"] == "35"
    wallet = sim.wallet(100)["wallet_id"]
    declined = sim.consume(shop, _no(), sim.code(wallet, "DECLINE"), 50)
    assert declined["respCode"] == "01"
    other = sim.merchant()
    _, query_id = _paid(sim, other, 100)
    assert _back(sim, shop, "04", _no(), query_id, 100)["respCode"] == "35"  # not its own
