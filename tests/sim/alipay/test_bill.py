"""The day's trade bill: asked for through the SDK's signed call, downloaded from the
link, a zip of GBK CSV read back: every payment and refund once, yuan exact, fees."""

from __future__ import annotations

import csv
import io
import secrets
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from scanpay.sim.alipay.bill import COLUMNS
from sim.alipay.kit import running_sim


def _rows(text: str) -> tuple[list[str], list[dict[str, str]], list[str]]:
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    data = [line for line in lines if not line.startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(data)))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader], comments


def test_the_days_bill(tmp_path: Path) -> None:
    # 10:00 Beijing on 2024-06-01
    with running_sim(tmp_path, fee_bp=60) as sim:
        sim.clock.set(datetime(2024, 6, 1, 2, 0, tzinfo=UTC))
        shop = sim.app()
        buyer = sim.wallet(100_000)
        client = sim.client(shop)
        outs = ["A" + secrets.token_hex(6) for _ in range(3)]
        amounts = ["12.34", "0.01", "100.00"]
        for out, amount in zip(outs, amounts, strict=True):
            code = sim.code(buyer["wallet_id"])
            reply = client.api_alipay_trade_pay(
                out, "bar_code", code, "奶茶,大杯", total_amount=amount, store_id="S1"
            )
            assert reply["code"] == "10000"
        client.api_alipay_trade_refund("50.00", out_trade_no=outs[2], out_request_no="RF1")
        # not yet published: the day is not over
        _, node = sim.call(
            shop,
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": "2024-06-01"},
        )
        assert node["code"] == "40004" and node["sub_code"] == "isp.bill_not_exist"
        # a trade of the next Beijing day is not in it
        sim.clock.set(datetime(2024, 6, 1, 16, 30, tzinfo=UTC))  # 00:30 on 2024-06-02
        later = client.api_alipay_trade_pay(
            "B" + secrets.token_hex(6),
            "bar_code",
            sim.code(buyer["wallet_id"]),
            "x",
            total_amount="1.00",
        )
        assert later["code"] == "10000"
        sim.clock.set(datetime(2024, 6, 2, 1, 0, tzinfo=UTC))  # 09:00 the next day
        found = client.server_api(
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": "2024-06-01"},
        )
        assert found["code"] == "10000", found
        data = httpx.get(found["bill_download_url"]).content
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        detail_name = next(n for n in names if n.endswith("_业务明细.csv"))
        summary_name = next(n for n in names if n.endswith("_业务明细(汇总).csv"))
        header, rows, comments = _rows(archive.read(detail_name).decode("gbk"))
        assert header == COLUMNS
        assert comments[0] == "#支付宝业务明细查询"
        trades = [r for r in rows if r["业务类型"] == "交易"]
        refunds = [r for r in rows if r["业务类型"] == "退款"]
        assert sorted(r["商户订单号"] for r in trades) == sorted(outs)
        assert {r["商户订单号"]: r["订单金额（元）"] for r in trades} == dict(
            zip(outs, amounts, strict=True)
        )
        assert all(r["商品名称"] == "奶茶,大杯" and r["门店编号"] == "S1" for r in trades)
        # the fee: 0.6 % of each, half up to the fen, taken (negative) on payments
        fees = {r["商户订单号"]: Decimal(r["服务费（元）"]) for r in trades}
        assert fees == {
            outs[0]: Decimal("-0.07"),
            outs[1]: Decimal("0.00"),
            outs[2]: Decimal("-0.60"),
        }
        assert len(refunds) == 1
        refund = refunds[0]
        assert refund["商户订单号"] == outs[2] and refund["退款批次号/请求号"] == "RF1"
        assert refund["商家实收（元）"] == "-50.00" and refund["服务费（元）"] == "0.30"
        assert "#交易合计：3笔，商家实收共112.35元，商家优惠共0.00元" in comments
        assert any(c.startswith("#退款合计：1笔") for c in comments)
        _, summary, _ = _rows(archive.read(summary_name).decode("gbk"))
        total = next(r for r in summary if r["门店编号"] == "合计")
        assert total["交易订单总笔数"] == "3" and total["退款订单总笔数"] == "1"
        assert total["商家实收（元）"] == "62.35" and total["服务费（元）"] == "-0.37"
        # the link is short-lived
        sim.clock.advance(31)
        assert httpx.get(found["bill_download_url"]).status_code == 404


def test_a_bill_published_early_by_the_admin(tmp_path: Path) -> None:
    with running_sim(tmp_path) as sim:
        shop = sim.app()
        buyer = sim.wallet(1_000)
        client = sim.client(shop)
        client.api_alipay_trade_pay(
            "P1", "bar_code", sim.code(buyer["wallet_id"]), "x", total_amount="1.00"
        )
        today = (sim.clock.now() + timedelta(hours=8)).date().isoformat()
        sim.admin("POST", f"/sim/apps/{shop.app_id}/bills/{today}")
        found = client.server_api(
            "alipay.data.dataservice.bill.downloadurl.query",
            {"bill_type": "trade", "bill_date": today},
        )
        archive = zipfile.ZipFile(io.BytesIO(httpx.get(found["bill_download_url"]).content))
        detail = next(n for n in archive.namelist() if n.endswith("_业务明细.csv"))
        _, rows, _ = _rows(archive.read(detail).decode("gbk"))
        assert [r["商户订单号"] for r in rows] == ["P1"]
