"""Each call's request and the answer it makes of a verified reply, against a loopback
gateway that answers as Alipay does (the simulator's tests cover the whole flows)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from networks.alipay.kit import Gateway, channel, gateway, network, pki, signed_reply
from networks.alipay.test_bill import PAYMENT, REFUND, bill_zip, details
from scanpay.networks import RefundRequest, RefundStatus, ReverseOutcome, StatementKind, TradeState

DAY = date(2026, 12, 8)


def _by_method(gw: Gateway, nodes: dict[str, dict[str, Any]]) -> None:
    def answer(form: dict[str, str]) -> tuple[int, bytes]:
        method = form["method"]
        return 200, signed_reply(method, nodes[method], pki().alipay_key).encode()

    gw.answer = answer


def _biz(gw: Gateway, n: int = -1) -> dict[str, Any]:
    biz: dict[str, Any] = json.loads(gw.received[n]["biz_content"])
    return biz


def test_query_and_cancel() -> None:
    ch = channel()
    with gateway() as gw, network(gw.url) as made:
        gw.replying(
            {"code": "10000", "out_trade_no": "T1", "trade_no": "2026X", "trade_status":
             "WAIT_BUYER_PAY", "total_amount": "1.00"}
        )  # fmt: skip
        found = made.query(ch, "T1")
        assert (found.state, found.amount, found.transaction_id) == (
            TradeState.USER_PAYING, 100, "2026X"
        )  # fmt: skip
        assert gw.received[-1]["method"] == "alipay.trade.query"
        assert _biz(gw) == {"out_trade_no": "T1"}
        gw.replying({"code": "40004", "sub_code": "ACQ.TRADE_NOT_EXIST"})
        assert made.query(ch, "T2").state is TradeState.NOT_FOUND
        gw.replying({"code": "10000", "out_trade_no": "T1", "retry_flag": "N", "action": "refund"})
        done = made.reverse(ch, "T1")
        assert (done.outcome, done.network_code) == (ReverseOutcome.DONE, "refund")
        assert gw.received[-1]["method"] == "alipay.trade.cancel"
        gw.replying({"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR", "retry_flag": "Y"})
        assert made.reverse(ch, "T1").again


def test_a_refund_that_moved_no_money_is_settled_by_the_refund_query() -> None:
    ch = channel()
    with gateway() as gw, network(gw.url) as made:
        _by_method(
            gw,
            {
                "alipay.trade.refund": {"code": "10000", "fund_change": "N", "refund_fee": "3.00"},
                "alipay.trade.fastpay.refund.query": {
                    "code": "10000",
                    "out_trade_no": "T1",
                    "out_request_no": "R1",
                    "refund_status": "REFUND_SUCCESS",
                    "refund_amount": "1.00",
                },
            },
        )
        answer = made.refund(RefundRequest(ch, "T1", "R1", 100, 300, "CNY", "broken cup"))
        assert (answer.status, answer.amount) == (RefundStatus.SUCCESS, 100)
        refund, query = gw.received
        assert json.loads(refund["biz_content"]) == {
            "out_trade_no": "T1",
            "out_request_no": "R1",
            "refund_amount": "1.00",
            "refund_reason": "broken cup",
        }
        assert json.loads(query["biz_content"]) == {"out_trade_no": "T1", "out_request_no": "R1"}
        # The port's refund query names no trade: the adapter remembers the refund's.
        assert made.refund_query(ch, "R1").status is RefundStatus.SUCCESS
        assert _biz(gw)["out_trade_no"] == "T1"


def test_the_days_statement() -> None:
    ch = channel()
    with gateway() as gw, network(gw.url) as made:
        gw.files["/bill.zip"] = bill_zip(details(PAYMENT, REFUND))
        url = gw.url.replace("/gateway.do", "/bill.zip")
        gw.replying({"code": "10000", "bill_download_url": url})
        statement = made.statement(ch, DAY)
        assert statement.ready and [line.kind for line in statement.lines] == [
            StatementKind.PAYMENT,
            StatementKind.REFUND,
        ]
        assert _biz(gw) == {"bill_type": "trade", "bill_date": "2026-12-08"}
        gw.replying({"code": "40004", "sub_code": "isp.bill_not_exist"})
        not_yet = made.statement(ch, DAY)
        assert (not_yet.ready, not_yet.network_code) == (False, "isp.bill_not_exist")
        for where in (url.replace("bill.zip", "gone.zip"), "http://example.com/bill.zip"):
            gw.replying({"code": "10000", "bill_download_url": where})
            assert not made.statement(ch, DAY).ready
        gw.files["/bill.zip"] = b"PK not really"
        gw.replying({"code": "10000", "bill_download_url": url})
        assert not made.statement(ch, DAY).ready
