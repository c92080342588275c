"""The settlement file (``txnType=76``) read back by the adapter's ``bill``, and the
``backUrl`` notification read by the adapter's ``notify``, sent again until HTTP 200."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from scanpay.networks.port import StatementKind
from scanpay.networks.unionpay.bill import decode_file, parse_zm
from scanpay.networks.unionpay.notify import read_notification
from scanpay.sim.common.clock import BEIJING
from sim.unionpay.kit import BACK_PATH, FILE_PATH, Merchant, RunningSim, receiver


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _file(sim: RunningSim, shop: Merchant, mmdd: str) -> dict[str, str]:
    fields = {
        "txnType": "76",
        "txnSubType": "01",
        "settleDate": mmdd,
        "txnTime": sim.txn_time(),
        "fileType": "00",
    }
    return sim.call(shop, FILE_PATH, fields)


def _return(
    sim: RunningSim, shop: Merchant, txn_type: str, orig: str, amount: int, back: str
) -> dict[str, str]:
    fields = {
        "txnType": txn_type,
        "txnSubType": "00",
        "channelType": "08",
        "orderId": _no(),
        "origQryId": orig,
        "txnTime": sim.txn_time(),
        "txnAmt": str(amount),
        "currencyCode": "156",
        "backUrl": back,
    }
    return sim.call(shop, BACK_PATH, fields)


def test_the_days_file_is_what_the_adapter_reads(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(100_000)["wallet_id"]
    paid, kept, cancelled = _no(), _no(), _no()
    first = sim.consume(shop, paid, sim.code(wallet), 1_000)
    sim.consume(shop, kept, sim.code(wallet), 2_000)
    third = sim.consume(shop, cancelled, sim.code(wallet), 500)
    sim.consume(shop, _no(), sim.code(wallet, "DECLINE"), 700)  # declined: not in the file
    refund = _return(sim, shop, "04", first["queryId"], 300, "http://127.0.0.1:9/b")
    cancel = _return(sim, shop, "31", third["queryId"], 500, "http://127.0.0.1:9/b")
    day = sim.clock.now().astimezone(BEIJING).date()
    assert _file(sim, shop, f"{day:%m%d}")["respCode"] == "98"  # not out before 09:00 next day
    sim.admin("POST", f"/sim/merchants/{shop.mer_id}/bills/{day.isoformat()}")
    reply = _file(sim, shop, f"{day:%m%d}")
    assert reply["respCode"] == "00" and reply["fileName"].endswith(".zip")
    lines = parse_zm(decode_file(reply["fileContent"]), day)
    got = sorted((line.kind, line.trade_no, line.refund_no, line.amount) for line in lines)
    assert got == sorted(
        [
            (StatementKind.PAYMENT, paid, None, 1_000),
            (StatementKind.PAYMENT, kept, None, 2_000),
            (StatementKind.PAYMENT, cancelled, None, 500),
            (StatementKind.REFUND, paid, refund["orderId"], 300),
            (StatementKind.REFUND, cancelled, "REVERSE" + cancel["queryId"], 500),
        ]
    )
    assert {line.transaction_id for line in lines} >= {first["queryId"], third["queryId"]}
    assert all(line.time.astimezone(BEIJING).date() == day for line in lines)


def test_a_day_is_out_at_nine_the_next_morning(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(10_000)["wallet_id"]
    sim.consume(shop, _no(), sim.code(wallet), 100)
    now = sim.clock.now().astimezone(BEIJING)
    day = now.date()
    nine = now.replace(hour=9, minute=0, second=1) + timedelta(days=1)
    sim.clock.advance((nine - now).total_seconds())
    reply = _file(sim, shop, f"{day:%m%d}")
    assert reply["respCode"] == "00"
    assert len(parse_zm(decode_file(reply["fileContent"]), day)) == 1
    assert _file(sim, shop, "1332")["respCode"] == "10"


def test_the_back_url_notification_is_sent_until_answered_200(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(10_000)["wallet_id"]
    with receiver([500, 200]) as back:
        order = _no()
        reply = sim.consume(shop, order, sim.code(wallet), 1_230, backUrl=back.url)
        deadline = time.monotonic() + 60
        while not back.forms():
            assert time.monotonic() < deadline, "never notified"
            time.sleep(0.05)
        sim.clock.advance(61)  # the second try is a minute later, on the simulator's clock
        while len(back.forms()) < 2:
            assert time.monotonic() < deadline, "never sent again"
            time.sleep(0.05)
        form = back.forms()[1]
        notice = read_notification(
            form, root=shop.root, middle=shop.middle, expected_cn=shop.expected_cn
        )
        assert (notice.order_id, notice.query_id, notice.amount) == (
            order,
            reply["queryId"],
            1_230,
        )
        assert notice.succeeded and notice.txn_type == "01"
        while True:
            [sent] = [n for n in sim.admin("GET", "/sim/notifications") if n["order_id"] == order]
            if sent["delivered_at"] is not None:
                break
            assert time.monotonic() < deadline, "never marked delivered"
            time.sleep(0.05)
        assert sent["attempts"] == 2 and sent["next_at"] is None
        # A refund's notification names the consume by origQryId.
        done = _return(sim, shop, "04", reply["queryId"], 230, back.url)
        while len(back.forms()) < 3:
            assert time.monotonic() < deadline, "the refund was never notified"
            time.sleep(0.05)
        refund = read_notification(
            back.forms()[2], root=shop.root, middle=shop.middle, expected_cn=shop.expected_cn
        )
        assert (refund.txn_type, refund.order_id, refund.orig_query_id, refund.amount) == (
            "04",
            done["orderId"],
            reply["queryId"],
            230,
        )


def test_a_back_url_off_this_machine_is_never_called(sim: RunningSim) -> None:
    shop = sim.merchant()
    wallet = sim.wallet(10_000)["wallet_id"]
    order = _no()
    sim.consume(shop, order, sim.code(wallet), 100, backUrl="https://shop.example.com/back")
    [sent] = [n for n in sim.admin("GET", "/sim/notifications") if n["order_id"] == order]
    assert sent["next_at"] is None and "loopback" in sent["last_error"]
