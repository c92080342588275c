"""API v2 (XML): micropay, orderquery, reverse, refund and refundquery.

Every call is ``POST`` of ``<xml>…</xml>`` signed with the merchant's API v2 key
(``sign_type`` MD5, the default, or HMAC-SHA256); replies are signed the same way.
``return_code`` speaks of the call only: FAIL for unreadable XML, an unknown
``mch_id`` or a bad signature (``return_msg`` 签名错误), and then nothing is done and
the reply is not signed. Otherwise ``result_code`` and ``err_code`` give the answer.

Real WeChat Pay requires the merchant's TLS client certificate on ``/secapi/…``. The
simulator serves plain HTTP on loopback and trusts the ``mch_id``'s registration and
the signature instead: uvicorn does not hand an app the client's certificate, so
asking for one could not be tied to the merchant anyway.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from scanpay.sim.common.crypto import nonce
from scanpay.sim.wechat import outcomes
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.crypto import SIGN_TYPES, v2_sign
from scanpay.sim.wechat.delivery import deliver
from scanpay.sim.wechat.outcomes import Chosen, Outcome, from_headers
from scanpay.sim.wechat.store import Merchant
from scanpay.sim.wechat.v2calls import (
    V2Call,
    micropay,
    orderquery,
    refund_call,
    refundquery,
    reverse_call,
)
from scanpay.sim.wechat.wire import Refusal

__all__ = ["parse_xml", "to_xml", "v2_router"]

V2Handler = Callable[[V2Call], tuple[dict[str, str], Chosen | None]]
_DELIVERY = {Outcome.SLOW, Outcome.CHARGED_NO_REPLY, Outcome.WRONG_SIGNATURE}


def parse_xml(body: bytes) -> dict[str, str] | None:
    """``<xml><k>v</k>…</xml>`` as a dict; None when it is not that (or declares entities)."""
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        return None  # no entity expansion from a request
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "xml":
        return None
    return {child.tag: (child.text or "").strip() for child in root}


def to_xml(params: dict[str, str]) -> bytes:
    parts = ["<xml>"]
    for key, value in params.items():
        if value.isdigit():
            parts.append(f"<{key}>{value}</{key}>")
        else:
            safe = value.replace("]]>", "]]]]><![CDATA[>")
            parts.append(f"<{key}><![CDATA[{safe}]]></{key}>")
    parts.append("</xml>")
    return "".join(parts).encode()


def _xml_response(params: dict[str, str]) -> Response:
    return Response(to_xml(params), media_type="text/xml; charset=utf-8")


def _fail(message: str) -> Response:
    return _xml_response({"return_code": "FAIL", "return_msg": message})


async def _serve(
    sim: Sim,
    request: Request,
    allowed: frozenset[Outcome],
    handler: V2Handler,
    *,
    pay: bool = False,
    recall: bool = False,
) -> Response:
    params = parse_xml(await request.body())
    if params is None:
        return _fail("XML格式错误")
    merchant = sim.store.merchant(params.get("mch_id", ""))
    if merchant is None or merchant.kind not in ("direct", "partner") or not merchant.v2_key:
        return _fail("商户号mch_id不存在")
    sign_type = params.get("sign_type") or "MD5"
    if sign_type not in SIGN_TYPES:
        return _fail("sign_type参数错误")
    if not params.get("sign"):
        return _fail("缺少参数sign")
    if v2_sign(params, merchant.v2_key, sign_type) != params["sign"]:
        return _fail("签名错误")
    chosen: Chosen | None = None
    delivery: Chosen | None = None
    try:
        try:
            chosen = from_headers(request.headers, allowed)
        except ValueError as exc:
            raise Refusal("PARAM_ERROR", f"{outcomes.HEADER}: {exc}") from None
        if chosen is not None and chosen.outcome is Outcome.SYSTEMERROR and not pay:
            raise Refusal("SYSTEMERROR", "系统错误，请稍后重试")
        call = V2Call(sim, merchant, params, chosen)
        result, delivery = handler(call)
    except Refusal as refusal:
        code = "SYSTEMERROR" if refusal.code == "RECALL" else refusal.code
        result = {"result_code": "FAIL", "err_code": code, "err_code_des": refusal.message}
        if recall:
            result["recall"] = "Y" if refusal.recall else "N"
    if delivery is None and chosen is not None and chosen.outcome in _DELIVERY:
        delivery = chosen
    reply = _reply_head(merchant, params)
    reply.update(result)
    wrong = merchant.wrong_key or (
        delivery is not None and delivery.outcome is Outcome.WRONG_SIGNATURE
    )
    # A wrong signature: made with another key, so a client that checks refuses it.
    key = nonce(32) if wrong else merchant.v2_key
    reply["sign"] = v2_sign(reply, key, sign_type)
    return await deliver(request, _xml_response(reply), delivery)


def _reply_head(merchant: Merchant, params: dict[str, str]) -> dict[str, str]:
    head = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": params.get("appid", ""),
        "mch_id": merchant.mchid,
    }
    for key in ("sub_appid", "sub_mch_id", "device_info"):
        if params.get(key):
            head[key] = params[key]
    head["nonce_str"] = nonce(32)
    return head


def v2_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    @router.post("/pay/micropay")
    async def pay(request: Request) -> Response:
        return await _serve(sim, request, outcomes.PAY, micropay, pay=True)

    @router.post("/pay/orderquery")
    async def query(request: Request) -> Response:
        return await _serve(sim, request, outcomes.QUERY, orderquery)

    @router.post("/secapi/pay/reverse")
    async def reverse(request: Request) -> Response:
        return await _serve(sim, request, outcomes.REVERSE, reverse_call, recall=True)

    @router.post("/secapi/pay/refund")
    async def refund(request: Request) -> Response:
        return await _serve(sim, request, outcomes.REFUND, refund_call)

    @router.post("/pay/refundquery")
    async def query_refund(request: Request) -> Response:
        return await _serve(sim, request, outcomes.QUERY, refundquery)

    return router
