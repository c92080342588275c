"""The trade bill lists exactly the day's payments and refunds, in WeChat's format, with
totals that add up; fetched and downloaded by the real client."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from wechatpayv3 import WeChatPay

from scanpay.sim.wechat.bill import HEADER, SUMMARY_HEADER
from sim.kit import RunningSim, v3_call

PAY = "/v3/pay/transactions/codepay"
# 10:00 in Beijing: a whole business day ahead, whatever time the test runs.
DAY = datetime(2031, 5, 1, 2, 0, tzinfo=UTC)


def _no() -> str:
    return "T" + uuid.uuid4().hex[:20]


def _pay(
    sim: RunningSim,
    client: WeChatPay,
    appid: str,
    mchid: str,
    wallet: int,
    total: int,
    outcome: str | None = None,
    **partner: str,
) -> str:
    no = _no()
    ids = (
        {"sp_appid": appid, "sp_mchid": mchid, **partner}
        if partner
        else {"appid": appid, "mchid": mchid}
    )
    path = "/v3/pay/partner/transactions/codepay" if partner else PAY
    v3_call(
        client,
        "POST",
        path,
        {
            **ids,
            "description": "tea, hot",
            "out_trade_no": no,
            "payer": {"auth_code": sim.code(wallet, outcome)},
            "amount": {"total": total},
            "scene_info": {"device_id": "POS-1"},
        },
    )
    return no


def _bill(
    client: WeChatPay, day: str, *, gzipped: bool = True, **options: Any
) -> tuple[str, list[list[str]], list[str]]:
    if gzipped:
        status, text = client.trade_bill(bill_date=day, **options)
    else:  # wechatpayv3 always sends tar_type: the plain file asked for by hand
        query = "&".join(f"{k}={v}" for k, v in {"bill_date": day, **options}.items())
        status, text = client._core.request(f"/v3/bill/tradebill?{query}")
    assert status == 200, text
    meta = json.loads(text)
    status, content = client.download_bill(meta["download_url"])
    assert status == 200
    data = gzip.decompress(content) if gzipped else content
    assert hashlib.sha1(data).hexdigest() == meta["hash_value"] and meta["hash_type"] == "SHA1"
    text = data.decode()
    lines = text.split("\r\n")
    assert lines[-1] == ""  # every line ends with CRLF
    header, *rows, summary_header, summary, _ = lines
    assert header == HEADER and summary_header == SUMMARY_HEADER
    assert all(v.startswith("`") for row in [*rows, summary] for v in row.split(","))
    return (
        text,
        [[v[1:] for v in row.split(",")] for row in rows],
        [v[1:] for v in summary.split(",")],
    )


def test_the_days_bill(sim: RunningSim) -> None:
    sim.clock.set(DAY)
    shop, other = sim.merchant(), sim.merchant()
    wallet = int(sim.wallet(100_000)["wallet_id"])
    client = sim.client(shop)
    a = _pay(sim, client, shop.appid, shop.mchid, wallet, 100)
    b = _pay(sim, client, shop.appid, shop.mchid, wallet, 250)
    c = _pay(sim, client, shop.appid, shop.mchid, wallet, 1_000)
    _pay(sim, client, shop.appid, shop.mchid, wallet, 7, "USERPAYING_NEVER")  # not paid
    _pay(sim, client, shop.appid, shop.mchid, wallet, 7, "NOTENOUGH")  # declined
    _pay(sim, client, shop.appid, shop.mchid, wallet, 7, "SYSTEMERROR")  # stopped
    _pay(sim, sim.client(other), other.appid, other.mchid, wallet, 999)  # another merchant's
    client.refund(
        out_refund_no="RB", out_trade_no=b, amount={"refund": 50, "total": 250, "currency": "CNY"}
    )
    assert client.codepay_reverse(out_trade_no=c)[0] == 204

    _, rows, summary = _bill(client, "2031-05-01")
    trades = {(row[6], row[9]) for row in rows}
    assert trades == {(a, "SUCCESS"), (b, "SUCCESS"), (c, "SUCCESS"), (b, "REFUND"), (c, "REFUND")}
    assert len(rows) == 5
    assert all(row[2] == shop.mchid and row[3] == "0" and row[8] == "MICROPAY" for row in rows)
    refund_b = next(row for row in rows if row[6] == b and row[9] == "REFUND")
    assert refund_b[15] == "RB" and refund_b[16] == "0.50" and refund_b[19] == "SUCCESS"
    assert refund_b[12] == "0.00" and refund_b[24] == "2.50"
    assert next(row for row in rows if row[6] == c and row[9] == "REFUND")[16] == "10.00"
    assert summary == ["5", "13.50", "10.50", "0.00", "0.00000", "26.00", "10.50"]
    # What the network's own books say about the day: the same money.
    assert sim.merchant_balance(shop.mchid) == 1350 - 1050

    _, rows, summary = _bill(client, "2031-05-01", gzipped=False, bill_type="SUCCESS")
    assert {row[6] for row in rows} == {a, b, c} and summary[:3] == ["3", "13.50", "0.00"]
    _, rows, summary = _bill(client, "2031-05-01", bill_type="REFUND")
    assert {row[15] for row in rows} == {"RB", f"REVERSE{rows[-1][5]}"} and summary[2] == "10.50"

    # The next day: its own bill; the first one does not change.
    sim.clock.advance(86400)
    client.refund(
        out_refund_no="RA", out_trade_no=a, amount={"refund": 100, "total": 100, "currency": "CNY"}
    )
    d = _pay(sim, client, shop.appid, shop.mchid, wallet, 30)
    _, rows, summary = _bill(client, "2031-05-02")
    assert {(row[6], row[9]) for row in rows} == {(a, "REFUND"), (d, "SUCCESS")}
    assert summary == ["2", "0.30", "1.00", "0.00", "0.00000", "1.30", "1.00"]
    assert _bill(client, "2031-05-01")[2] == [
        "5",
        "13.50",
        "10.50",
        "0.00",
        "0.00000",
        "26.00",
        "10.50",
    ]


def test_no_bill_for_a_day_without_trades_nor_for_tomorrow(sim: RunningSim) -> None:
    sim.clock.set(DAY.replace(month=7))
    shop = sim.merchant()
    client = sim.client(shop)
    status, text = client.trade_bill(bill_date="2031-06-30")
    assert status == 400 and json.loads(text)["code"] == "NO_STATEMENT_EXIST"
    status, text = client.trade_bill(bill_date="2031-07-02")
    assert status == 400 and json.loads(text)["code"] == "INVALID_REQUEST"
    status, text = client.trade_bill(bill_date="2031-7-1")
    assert status == 400 and json.loads(text)["code"] == "PARAM_ERROR"


def test_a_service_providers_bill(sim: RunningSim) -> None:
    sim.clock.set(DAY.replace(month=8))
    provider = sim.merchant(kind="partner")
    subs = [
        sim.admin("POST", f"/sim/merchants/{provider.mchid}/sub-merchants", json={})["mchid"]
        for _ in range(2)
    ]
    wallet = int(sim.wallet(10_000)["wallet_id"])
    client = sim.client(provider)
    first = _pay(sim, client, provider.appid, provider.mchid, wallet, 100, sub_mchid=subs[0])
    second = _pay(sim, client, provider.appid, provider.mchid, wallet, 200, sub_mchid=subs[1])
    _, rows, summary = _bill(client, "2031-08-01")
    assert {(row[6], row[3]) for row in rows} == {(first, subs[0]), (second, subs[1])}
    assert all(row[2] == provider.mchid for row in rows) and summary[1] == "3.00"
    _, rows, summary = _bill(client, "2031-08-01", sub_mchid=subs[1])
    assert [row[6] for row in rows] == [second] and summary[1] == "2.00"


def test_a_download_link_is_the_askers_and_expires(sim: RunningSim) -> None:
    sim.clock.set(DAY.replace(month=9))
    shop, other = sim.merchant(), sim.merchant()
    wallet = int(sim.wallet(10_000)["wallet_id"])
    client = sim.client(shop)
    _pay(sim, client, shop.appid, shop.mchid, wallet, 100)
    status, text = client.trade_bill(bill_date="2031-09-01")
    url = json.loads(text)["download_url"]
    path = url[len(sim.url) :]
    status, body = v3_call(sim.client(other), "GET", path)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    sim.clock.advance(301)
    status, body = v3_call(client, "GET", path)
    assert status == 400 and body["code"] == "INVALID_REQUEST"
