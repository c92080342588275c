"""The adapter against a loopback gateway: what it sends (signed as ACP says, checked
here with the merchant certificate's key), what it remembers (txnTime, queryId), and
what it believes: only replies UnionPay's certificate signed; a 5xx, a timeout, a
refused connection, an unsigned or forged reply are all UNKNOWN, and nothing raises."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from networks.unionpay.kit import (
    BACK_URL,
    MER_ID,
    QR,
    Gateway,
    channel,
    gateway,
    network,
    pay_request,
    pki,
)
from networks.unionpay.test_bill import ZM, pack
from scanpay.codes.mask import mask_text
from scanpay.networks import (
    NetworkError,
    Outcome,
    PayRequest,
    RefundRequest,
    RefundStatus,
    ReverseOutcome,
    TradeState,
)
from scanpay.networks.unionpay.acp import reply_text, signed_text
from scanpay.networks.unionpay.config import BEIJING
from sim.kit import free_socket

TRADE = "20261208101500T0001"  # begins with its txnTime


def echo(form: dict[str, str], **fields: str) -> dict[str, str]:
    """A reply to ``form``: its keys echoed, then ``fields``."""
    keys = ("version", "encoding", "signMethod", "merId", "orderId", "txnTime", "txnType")
    return {**{k: form[k] for k in keys if k in form}, "respMsg": "成功[0000000]", **fields}


def gateway_of(gw: Gateway, **by_type: dict[str, str]) -> None:
    """Answer each transaction type (01 pay, 00 query, 31, 04, 76) with its fields."""

    def make(form: dict[str, str]) -> dict[str, str]:
        extra = dict(by_type.get(form["txnType"], {"respCode": "99"}))
        if extra.pop("amount", None) == "echo":
            extra["txnAmt"] = form.get("txnAmt", "1230")
        return echo(form, **extra)

    gw.replying(make)


def _merchant_signed(form: dict[str, str]) -> bool:
    digest = hashlib.sha256(signed_text(form).encode()).hexdigest()
    try:
        pki().merchant_cert.public_key().verify(  # type: ignore[call-arg, union-attr]
            base64.b64decode(form["signature"]),
            digest.encode(),
            padding.PKCS1v15(),  # type: ignore[arg-type]
            hashes.SHA256(),  # type: ignore[arg-type]
        )
    except Exception:
        return False
    return True


def test_a_signed_consume_and_a_believed_approval() -> None:
    with gateway() as gw, network(gw.url) as made:
        paid = {"respCode": "00", "origRespCode": "00", "queryId": "Q1", "amount": "echo"}
        gateway_of(gw, **{"01": paid})
        answer = made.pay(pay_request(TRADE))
    assert (answer.outcome, answer.result_code, answer.transaction_id) == (
        Outcome.APPROVED,
        "00",
        "Q1",
    )
    ((path, form),) = gw.received
    assert path == "/gateway/api/backTransReq.do"
    assert _merchant_signed(form)
    assert not _merchant_signed({**form, "txnAmt": "1"})
    assert form == {
        **form,
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "certId": "68759529225",
        "txnType": "01",
        "txnSubType": "06",
        "bizType": "000000",
        "channelType": "08",
        "accessType": "0",
        "merId": MER_ID,
        "orderId": TRADE,
        "txnTime": "20261208101500",
        "txnAmt": "1230",
        "currencyCode": "156",
        "backUrl": BACK_URL,
        "qrNo": QR,
    }


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, Outcome.APPROVED),
        ({"txnAmt": "1231"}, Outcome.UNKNOWN),  # approved, not as asked
        ({"orderId": "20261208101500T0002"}, Outcome.UNKNOWN),  # another order's
        ({"origRespCode": None}, Outcome.UNKNOWN),  # accepted only: the result comes later
        ({"respCode": "05", "origRespCode": None}, Outcome.UNKNOWN),
        ({"respCode": "64", "origRespCode": None}, Outcome.DECLINED),
        ({"respCode": "11", "origRespCode": None}, Outcome.DECLINED),
    ],
)
def test_what_a_consume_reply_means(changes: dict[str, str | None], outcome: Outcome) -> None:
    def make(form: dict[str, str]) -> dict[str, str]:
        fields = echo(form, respCode="00", origRespCode="00", queryId="Q1", txnAmt="1230")
        return {k: v for k, v in {**fields, **changes}.items() if v is not None}

    with gateway() as gw, network(gw.url) as made:
        gw.replying(make)
        answer = made.pay(pay_request(TRADE))
    assert answer.outcome is outcome


def test_the_query_is_dated_by_the_pay_call() -> None:
    trade = "T20261208NOTIME1"  # no time in it: the adapter remembers the one it sent
    with gateway() as gw, network(gw.url) as made:
        gateway_of(
            gw,
            **{
                "01": {"respCode": "00", "queryId": "Q1"},
                "00": {"respCode": "00", "origRespCode": "00", "queryId": "Q1", "txnAmt": "1230"},
            },
        )
        assert made.pay(pay_request(trade)).outcome is Outcome.UNKNOWN  # accepted
        found = made.query(channel(), trade)
        assert (found.state, found.amount, found.transaction_id) == (TradeState.PAID, 1230, "Q1")
    (_, pay), (path, query) = gw.received
    assert path == "/gateway/api/queryTrans.do" and _merchant_signed(query)
    assert (query["txnType"], query["orderId"]) == ("00", trade)
    assert query["txnTime"] == pay["txnTime"]
    sent = datetime.strptime(pay["txnTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
    assert abs(sent - datetime.now(BEIJING)) < timedelta(minutes=10)  # Beijing time
    with gateway() as gw, network(gw.url) as fresh:
        with pytest.raises(NetworkError) as caught:
            fresh.query(channel(), trade)  # another process: it cannot date the order
        assert (caught.value.code, caught.value.field) == ("bad_trade_no", "trade_no")
        gateway_of(gw, **{"00": {"respCode": "34"}})
        assert fresh.query(channel(), TRADE).state is TradeState.NOT_FOUND  # dated by its number
        assert gw.forms[-1]["txnTime"] == "20261208101500"


@pytest.mark.parametrize(
    ("request_of", "code", "field"),
    [
        (lambda: pay_request("T1"), "bad_trade_no", "trade_no"),  # shorter than 8
        (lambda: pay_request("T-000000001"), "bad_trade_no", "trade_no"),
        (
            lambda: PayRequest(channel(), TRADE, "281234567890123456", 1, "CNY", "tea"),
            "bad_auth_code",
            "auth_code",
        ),
        (lambda: PayRequest(channel(), TRADE, QR, 1, "USD", "tea"), "bad_currency", "currency"),
    ],
)
def test_refused_before_sending(request_of: object, code: str, field: str) -> None:
    with gateway() as gw, network(gw.url) as made:
        with pytest.raises(NetworkError) as caught:
            made.pay(request_of())  # type: ignore[operator]
        assert (caught.value.code, caught.value.field) == (code, field)
        with pytest.raises(NetworkError):
            made.refund(RefundRequest(channel(), TRADE, "R-1", 1, 2, "CNY"))
    assert gw.received == []


PAID = {"respCode": "00", "origRespCode": "00", "queryId": "Q1", "amount": "echo"}


def test_reverse_with_the_query_id_remembered() -> None:
    with gateway() as gw, network(gw.url) as made:
        gateway_of(gw, **{"01": PAID, "31": {"respCode": "00", "queryId": "Q2"}})
        made.pay(pay_request(TRADE))
        answer = made.reverse(channel(), TRADE)
    assert answer.outcome is ReverseOutcome.DONE
    cancel = gw.forms[-1]
    assert _merchant_signed(cancel) and len(gw.received) == 2
    assert (cancel["txnType"], cancel["origQryId"], cancel["txnAmt"]) == ("31", "Q1", "1230")
    assert cancel["orderId"].startswith(TRADE + "C") and len(cancel["orderId"]) <= 40
    assert cancel["orderId"] != TRADE and cancel["backUrl"] == BACK_URL


@pytest.mark.parametrize(
    ("query", "outcome", "calls"),
    [
        (
            {"respCode": "00", "origRespCode": "00", "queryId": "Q1", "txnAmt": "1230"},
            ReverseOutcome.DONE,
            2,
        ),
        ({"respCode": "34"}, ReverseOutcome.DONE, 1),  # no such order: nothing held
        ({"respCode": "00", "origRespCode": "64", "queryId": "Q1"}, ReverseOutcome.DONE, 1),
        ({"respCode": "03"}, ReverseOutcome.UNKNOWN, 1),
    ],
)
def test_reverse_asks_first_when_it_knows_no_query_id(
    query: dict[str, str], outcome: ReverseOutcome, calls: int
) -> None:
    with gateway() as gw, network(gw.url) as made:
        gateway_of(gw, **{"00": query, "31": {"respCode": "00"}})
        assert made.reverse(channel(), TRADE).outcome is outcome
    assert len(gw.received) == calls
    assert gw.forms[0]["txnType"] == "00"


def test_refund_and_its_query() -> None:
    refund = RefundRequest(channel(), TRADE, "R20261208A", 100, 1230, "CNY")
    with gateway() as gw, network(gw.url) as made:
        gateway_of(gw, **{"01": PAID, "04": {"respCode": "00", "queryId": "Q3"}})
        made.pay(pay_request(TRADE))
        assert made.refund(refund).status is RefundStatus.PROCESSING
        sent = gw.forms[-1]
        assert (sent["txnType"], sent["origQryId"], sent["txnAmt"]) == ("04", "Q1", "100")
        assert sent["orderId"] == "R20261208A" and _merchant_signed(sent)
        gateway_of(gw, **{"00": {"respCode": "00", "origRespCode": "00", "txnAmt": "100"}})
        done = made.refund_query(channel(), "R20261208A")
        assert (done.status, done.amount) == (RefundStatus.SUCCESS, 100)
        asked = gw.forms[-1]
        assert (asked["orderId"], asked["txnTime"]) == ("R20261208A", sent["txnTime"])
        # A repeat UnionPay calls a duplicate (12): the refund query says at once.
        gateway_of(
            gw,
            **{"04": {"respCode": "12"}, "00": {"respCode": "00", "origRespCode": "00"}},
        )
        assert made.refund(refund).status is RefundStatus.SUCCESS
        assert [f["txnType"] for f in gw.forms[-2:]] == ["04", "00"]
        with pytest.raises(NetworkError) as caught:
            made.refund_query(channel(), "RNEVERMADE1")
        assert caught.value.code == "bad_refund_no"


def test_statement() -> None:
    day = date(2026, 12, 8)
    with gateway() as gw, network(gw.url) as made:
        gateway_of(gw, **{"76": {"respCode": "00", "fileContent": pack(ZM), "fileName": "x.zip"}})
        statement = made.statement(channel(), day)
        assert statement.ready and len(statement.lines) == 4
        path, form = gw.received[-1]
        assert path == "/gateway/api/fileTransReq.do" and _merchant_signed(form)
        assert (form["txnType"], form["settleDate"], form["fileType"]) == ("76", "1208", "00")
        gateway_of(gw, **{"76": {"respCode": "98"}})
        missing = made.statement(channel(), day)
        assert (missing.ready, missing.network_code) == (False, "98")
        gateway_of(gw, **{"76": {"respCode": "00", "fileContent": "bm90IGEgZmlsZQ=="}})
        assert not made.statement(channel(), day).ready


@pytest.mark.parametrize(
    "reply", ["stranger", "wrong chain", "unsigned", "tampered", "500", "302", "not k=v"]
)
def test_only_what_unionpay_signed_is_believed(reply: str) -> None:
    p = pki()

    def declined(form: dict[str, str]) -> dict[str, str]:
        return echo(form, respCode="64")

    with gateway() as gw, network(gw.url) as made:
        gw.replying(declined)
        good = made.pay(pay_request(TRADE))
        assert (good.outcome, good.result_code) == (Outcome.DECLINED, "51")  # the control
        if reply == "stranger":
            gw.replying(declined, key=p.stranger_key)
        elif reply == "wrong chain":
            gw.replying(declined, key=p.stranger_key, cert=p.stranger_cert)
        else:
            inner = gw.answer

            def spoil(form: dict[str, str]) -> tuple[int, bytes]:
                status, body = inner(form)
                text = body.decode()
                if reply == "unsigned":
                    text = text.split("&signature=")[0]
                elif reply == "tampered":
                    text = text.replace("respCode=64", "respCode=65")
                elif reply == "not k=v":
                    text = "<html>busy</html>"
                return {"500": 500, "302": 302}.get(reply, status), text.encode()

            gw.answer = spoil
        answer = made.pay(pay_request(TRADE))
        assert (answer.outcome, answer.result_code) == (Outcome.UNKNOWN, "91")
        assert made.query(channel(), TRADE).state is TradeState.UNKNOWN


def test_a_gateway_that_does_not_answer_in_time() -> None:
    with gateway() as gw, network(gw.url, pay=1.0) as made:
        gw.hold.set()  # the first call gets no reply until the test ends
        assert made.pay(pay_request(TRADE)).outcome is Outcome.UNKNOWN
        assert len(gw.received) == 1


def test_a_gateway_that_is_not_there(caplog: pytest.LogCaptureFixture) -> None:
    closed = free_socket()  # bound, never listening: the connection is refused
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    ch = channel()
    caplog.set_level(logging.DEBUG)
    try:
        with network(url) as made:
            assert made.pay(pay_request(TRADE)).outcome is Outcome.UNKNOWN
            assert made.query(ch, TRADE).state is TradeState.UNKNOWN
            assert made.reverse(ch, TRADE).outcome is ReverseOutcome.UNKNOWN
            refund = made.refund(RefundRequest(ch, TRADE, "R20261208A", 100, 1230, "CNY"))
            assert refund.status is RefundStatus.UNKNOWN
            assert not made.statement(ch, date(2026, 12, 8)).ready
    finally:
        closed.close()
    logged = caplog.text
    assert mask_text(QR) in logged and QR not in logged
    assert "PRIVATE KEY" not in logged and "BEGIN" not in logged


def test_reply_text_round_trip_through_http() -> None:
    # The gateway's reply is not URL-encoded: a "+" in the certificate stays a "+".
    with gateway() as gw, network(gw.url) as made:
        gateway_of(
            gw,
            **{
                "00": {
                    "respCode": "00",
                    "origRespCode": "00",
                    "txnAmt": "1",
                    "reserved": "{a=1&b=2}",
                }
            },
        )
        assert made.query(channel(), TRADE).state is TradeState.PAID
    assert "&" in reply_text({"a": "1", "b": "2"})
