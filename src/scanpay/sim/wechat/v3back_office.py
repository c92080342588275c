"""API v3 back office, beyond pay: refunds, the platform certificates, the trade bill.

- ``POST /v3/refund/domestic/refunds``; ``GET /v3/refund/domestic/refunds/{out_refund_no}``
  (a service provider adds ``sub_mchid``: in the body, in the query). A refund's
  ``notify_url`` is called back when it succeeds (:mod:`.callbacks`).
- ``GET /v3/certificates``: the platform certificate, sealed with AEAD_AES_256_GCM under
  the calling merchant's APIv3 key, exactly the shape clients decrypt.
- ``GET /v3/bill/tradebill?bill_date=&bill_type=&tar_type=`` answers a ``download_url``
  (``hash_value``: SHA1 of the bill before compression); ``GET /v3/billdownload/file?token=``
  answers the bill (gzip when ``tar_type=GZIP``), for five minutes.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from scanpay.sim.common.clock import beijing_day, from_db, rfc3339
from scanpay.sim.common.crypto import nonce
from scanpay.sim.wechat import outcomes, returns
from scanpay.sim.wechat.bill import BILL_TYPES, make_bill
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.crypto import aead_encrypt
from scanpay.sim.wechat.outcomes import Chosen
from scanpay.sim.wechat.store import Merchant, Order, Refund
from scanpay.sim.wechat.v3 import OUT_TRADE_NO
from scanpay.sim.wechat.v3serve import Fields, Reply, serve
from scanpay.sim.wechat.wire import Refusal

__all__ = ["refund_json", "v3_back_office_router"]

_TOKEN_LIFE = timedelta(minutes=5)
_NOTIFY_URL = r"https?://[^\s?#]+"


def _owner(sim: Sim, merchant: Merchant, sub_mchid: str | None) -> tuple[str, str | None]:
    """(whose orders, service provider) for a refund or bill call by ``merchant``."""
    if merchant.kind == "direct":
        return merchant.mchid, None
    if merchant.kind != "partner":
        raise Refusal("NOAUTH", "商户号无权调用此接口")
    if sub_mchid is None:
        raise Refusal("PARAM_ERROR", "参数错误：服务商须传sub_mchid", field="sub_mchid")
    sub = sim.store.merchant(sub_mchid)
    if sub is None or sub.kind != "sub" or sub.parent != merchant.mchid:
        raise Refusal(
            "INVALID_REQUEST", "sub_mchid不存在或不是该服务商的特约商户", field="sub_mchid"
        )
    return sub.mchid, merchant.mchid


def refund_json(made: Refund, order: Order) -> dict[str, Any]:
    data: dict[str, Any] = {
        "refund_id": made.refund_id,
        "out_refund_no": made.out_refund_no,
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": rfc3339(made.created_at),
        "status": made.status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order.total,
            "refund": made.amount,
            "from": [],
            "payer_total": order.total,
            "payer_refund": made.amount,
            "settlement_refund": made.amount,
            "settlement_total": order.total,
            "discount_refund": 0,
            "currency": order.currency,
            "refund_fee": 0,
        },
        "promotion_detail": [],
    }
    if made.success_time is not None:
        data["success_time"] = rfc3339(made.success_time)
    return data


def _refund(sim: Sim) -> Any:
    def handler(merchant: Merchant, body: bytes, chosen: Chosen | None) -> Reply:
        fields = Fields.parse(body)
        owner, sp = _owner(sim, merchant, fields.text("sub_mchid", required=False))
        transaction_id = fields.text("transaction_id", required=False)
        out_trade_no = fields.text("out_trade_no", required=False, pattern=OUT_TRADE_NO)
        out_refund_no = fields.need("out_refund_no", max_len=64, pattern=r"[0-9A-Za-z_\-|*@]+")
        reason = fields.text("reason", required=False, max_len=80)
        # WeChat takes no query string in a notify_url ("不能携带参数").
        notify_url = fields.text("notify_url", required=False, max_len=256, pattern=_NOTIFY_URL)
        fields.mapping("amount")
        amount = fields.integer("amount.refund")
        total = fields.integer("amount.total")
        fields.currency("amount.currency")
        if transaction_id:
            order = sim.network.find_by_id(owner, transaction_id, sp)
        elif out_trade_no:
            order = sim.network.find(owner, out_trade_no, sp)
        else:
            raise Refusal(
                "PARAM_ERROR",
                "参数错误：transaction_id和out_trade_no须传其一",
                field="out_trade_no",
            )
        made, after = returns.refund(
            sim.network, order, out_refund_no, amount, total, reason, chosen, notify_url
        )
        return Reply(200, refund_json(made, after))

    return handler


def _certificates(sim: Sim, merchant: Merchant) -> Reply:
    if not merchant.v3_key:
        raise Refusal("NOAUTH", "商户未设置APIv3密钥")
    certificate = sim.keys.certificate
    once = nonce(12)
    sealed = aead_encrypt(merchant.v3_key, once, sim.keys.certificate_pem, "certificate")
    entry = {
        "serial_no": sim.keys.certificate_serial,
        "effective_time": rfc3339(certificate.not_valid_before_utc),
        "expire_time": rfc3339(certificate.not_valid_after_utc),
        "encrypt_certificate": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": once,
            "associated_data": "certificate",
            "ciphertext": sealed,
        },
    }
    return Reply(200, {"data": [entry]})


def _tradebill(sim: Sim, merchant: Merchant, query: Fields, base_url: str) -> Reply:
    text = query.need("bill_date", max_len=10, pattern=r"\d{4}-\d{2}-\d{2}")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Refusal(
            "PARAM_ERROR", "参数错误：bill_date格式为yyyy-MM-dd", field="bill_date"
        ) from None
    bill_type = query.text("bill_type", required=False) or "ALL"
    if bill_type not in BILL_TYPES:
        raise Refusal(
            "PARAM_ERROR", "参数错误：bill_type应为ALL、SUCCESS或REFUND", field="bill_type"
        )
    tar_type = query.text("tar_type", required=False)
    if tar_type not in (None, "GZIP"):
        raise Refusal("PARAM_ERROR", "参数错误：tar_type只能为GZIP", field="tar_type")
    sub_mchid = query.text("sub_mchid", required=False)
    if merchant.kind == "partner" and sub_mchid is not None:
        _owner(sim, merchant, sub_mchid)
    elif merchant.kind not in ("direct", "partner"):
        raise Refusal("NOAUTH", "商户号无权调用此接口")
    now = sim.network.clock.now()
    # A real bill is ready the next morning; the simulator's is ready at once (today's
    # too), so a test can reconcile the day it made.
    if day > beijing_day(now):
        raise Refusal("INVALID_REQUEST", "账单日期不能晚于今天", field="bill_date")
    sim.network.settle_all()
    bill = make_bill(sim.store, merchant, day, bill_type, sub_mchid)
    if bill.payments + bill.refunds == 0:
        raise Refusal("NO_STATEMENT_EXIST", "该日期没有交易，账单不存在")
    token = secrets.token_urlsafe(32)
    sim.store.add_token(
        token=token,
        mchid=merchant.mchid,
        sub_mchid=sub_mchid,
        bill_date=day.isoformat(),
        bill_type=bill_type,
        tar_type=tar_type,
        content=bill.data,
        created_at=now,
    )
    return Reply(
        200,
        {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(bill.data).hexdigest(),
            "download_url": f"{base_url}/v3/billdownload/file?token={token}",
        },
    )


def _download(sim: Sim, merchant: Merchant, token: str | None) -> Reply:
    found = sim.store.token(token or "")
    if found is None or found["mchid"] != merchant.mchid:
        raise Refusal("INVALID_REQUEST", "token无效", field="token")
    if sim.network.clock.now() - from_db(found["created_at"]) > _TOKEN_LIFE:
        raise Refusal("INVALID_REQUEST", "下载链接已过期，请重新申请账单", field="token")
    content = bytes(found["content"])
    if found["tar_type"] == "GZIP":
        content = gzip.compress(content, mtime=0)
    return Reply(200, raw=content)


def v3_back_office_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    @router.post("/v3/refund/domestic/refunds")
    async def refund(request: Request) -> Response:
        return await serve(sim, request, outcomes.REFUND, _refund(sim))

    @router.get("/v3/refund/domestic/refunds/{out_refund_no}")
    async def query_refund(request: Request, out_refund_no: str) -> Response:
        sub_mchid = request.query_params.get("sub_mchid")

        def handler(merchant: Merchant, body: bytes, chosen: Chosen | None) -> Reply:
            owner, _ = _owner(sim, merchant, sub_mchid)
            made, order = returns.find_refund(sim.network, owner, out_refund_no)
            return Reply(200, refund_json(made, order))

        return await serve(sim, request, outcomes.QUERY, handler)

    @router.get("/v3/certificates")
    async def certificates(request: Request) -> Response:
        return await serve(
            sim,
            request,
            outcomes.QUERY,
            lambda merchant, body, chosen: _certificates(sim, merchant),
        )

    @router.get("/v3/bill/tradebill")
    async def tradebill(request: Request) -> Response:
        query = Fields(dict(request.query_params), "query")
        base = str(request.base_url).rstrip("/")
        return await serve(
            sim,
            request,
            outcomes.QUERY,
            lambda merchant, body, chosen: _tradebill(sim, merchant, query, base),
        )

    @router.get("/v3/billdownload/file")
    async def download(request: Request) -> Response:
        token = request.query_params.get("token")
        return await serve(
            sim,
            request,
            outcomes.QUERY,
            lambda merchant, body, chosen: _download(sim, merchant, token),
        )

    return router
