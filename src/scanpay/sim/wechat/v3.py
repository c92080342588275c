"""API v3 code pay: pay, query and reverse, direct and service-provider (partner) forms.

- ``POST /v3/pay/transactions/codepay`` and ``/v3/pay/partner/transactions/codepay``:
  200 with the paid order, 202 with the order when the customer must enter a password
  (``trade_state`` USERPAYING), or an error.
- ``GET /v3/pay/transactions/out-trade-no/{no}?mchid=`` (and ``/id/{transaction_id}``),
  ``GET /v3/pay/partner/transactions/out-trade-no/{no}?sp_mchid=&sub_mchid=`` (and ``/id/``).
- ``POST /v3/pay/transactions/out-trade-no/{no}/reverse`` (and the partner form): 204.

Refunds, bills and certificates (what a merchant does after a sale) are in
:mod:`.v3back_office`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from scanpay.sim.wechat import outcomes, returns
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.outcomes import Chosen
from scanpay.sim.wechat.payments import PayRequest, valid_code
from scanpay.sim.wechat.store import Merchant, Order
from scanpay.sim.wechat.v3serve import Fields, Reply, order_json, serve
from scanpay.sim.wechat.wire import Refusal

__all__ = ["OUT_TRADE_NO", "direct_merchant", "partner_merchants", "v3_router"]

# 商户订单号: digits, letters and _-*| , at most 32.
OUT_TRADE_NO = r"[0-9A-Za-z_\-*|]+"


def direct_merchant(merchant: Merchant, fields: Fields, *, appid: bool = True) -> Merchant:
    """The caller, checked as a direct merchant against the ``mchid`` (and ``appid``) it sent."""
    if merchant.kind != "direct":
        raise Refusal("NOAUTH", "服务商商户号请使用服务商（partner）接口")
    if fields.need("mchid") != merchant.mchid:
        raise Refusal("INVALID_REQUEST", "mchid与Authorization中的商户号不一致", field="mchid")
    if appid and fields.need("appid") != merchant.appid:
        raise Refusal("APPID_MCHID_NOT_MATCH", "appid和mchid不匹配", field="appid")
    return merchant


def partner_merchants(
    sim: Sim, merchant: Merchant, fields: Fields, *, appid: bool = True
) -> tuple[Merchant, Merchant, str | None]:
    """The caller as a service provider, the sub-merchant it names, and ``sub_appid``."""
    if merchant.kind != "partner":
        raise Refusal("NOAUTH", "商户号不是服务商，无权使用服务商接口")
    if fields.need("sp_mchid") != merchant.mchid:
        raise Refusal(
            "INVALID_REQUEST", "sp_mchid与Authorization中的商户号不一致", field="sp_mchid"
        )
    if appid and fields.need("sp_appid") != merchant.appid:
        raise Refusal("APPID_MCHID_NOT_MATCH", "sp_appid和sp_mchid不匹配", field="sp_appid")
    sub = sim.store.merchant(fields.need("sub_mchid"))
    if sub is None or sub.kind != "sub" or sub.parent != merchant.mchid:
        raise Refusal(
            "INVALID_REQUEST", "sub_mchid不存在或不是该服务商的特约商户", field="sub_mchid"
        )
    sub_appid = fields.text("sub_appid", required=False) if appid else None
    if sub_appid is not None and sub.appid and sub_appid != sub.appid:
        raise Refusal("APPID_MCHID_NOT_MATCH", "sub_appid和sub_mchid不匹配", field="sub_appid")
    return merchant, sub, sub_appid


def _device(scene: dict[str, Any]) -> str | None:
    store_info = scene.get("store_info")
    for value in (
        scene.get("device_id"),
        store_info.get("out_id") if isinstance(store_info, dict) else None,
    ):
        if isinstance(value, str) and value:
            return value[:32]
    return None


def _codepay(sim: Sim, partner: bool) -> Any:
    def handler(merchant: Merchant, body: bytes, chosen: Chosen | None) -> Reply:
        fields = Fields.parse(body)
        sp: Merchant | None = None
        sub_appid = None
        if partner:
            sp, owner, sub_appid = partner_merchants(sim, merchant, fields)
            appid = fields.need("sp_appid")
        else:
            owner = direct_merchant(merchant, fields)
            appid = fields.need("appid")
        description = fields.need("description", max_len=127)
        out_trade_no = fields.need("out_trade_no", pattern=OUT_TRADE_NO)
        attach = fields.text("attach", required=False, max_len=128)
        fields.mapping("payer")
        code = fields.need("payer.auth_code", max_len=128, secret=True)
        if not valid_code(code):
            raise Refusal(
                "AUTH_CODE_ERROR",
                "付款码格式错误：应为18位数字，以10至15开头",
                field="payer.auth_code",
            )
        fields.mapping("amount")
        total = fields.integer("amount.total")
        currency = fields.currency("amount.currency")
        scene = fields.mapping("scene_info") or {}
        request = PayRequest(
            owner=owner,
            sp=sp,
            appid=appid,
            sub_appid=sub_appid,
            out_trade_no=out_trade_no,
            auth_code=code,
            total=total,
            currency=currency,
            description=description,
            attach=attach,
            device=_device(scene),
            api="v3",
        )
        paid = sim.network.pay(request, chosen)
        status = 202 if paid.order.state == "USERPAYING" else 200
        return Reply(status, order_json(paid.order, partner), delivery=paid.delivery)

    return handler


def _find(
    sim: Sim, merchant: Merchant, query: Fields, partner: bool, no: str, by_id: bool
) -> Order:
    if partner:
        sp, sub, _ = partner_merchants(sim, merchant, query, appid=False)
        owner, sp_mchid = sub.mchid, sp.mchid
    else:
        owner, sp_mchid = direct_merchant(merchant, query, appid=False).mchid, None
    if by_id:
        return sim.network.find_by_id(owner, no, sp_mchid)
    return sim.network.find(owner, no, sp_mchid)


def v3_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    @router.post("/v3/pay/transactions/codepay")
    async def codepay(request: Request) -> Response:
        return await serve(sim, request, outcomes.PAY, _codepay(sim, False), pay=True)

    @router.post("/v3/pay/partner/transactions/codepay")
    async def partner_codepay(request: Request) -> Response:
        return await serve(sim, request, outcomes.PAY, _codepay(sim, True), pay=True)

    def querying(partner: bool, by_id: bool) -> Any:
        async def route(request: Request, no: str) -> Response:
            query = Fields(dict(request.query_params), "query")

            def handler(merchant: Merchant, body: bytes, chosen: Chosen | None) -> Reply:
                order = _find(sim, merchant, query, partner, no, by_id)
                return Reply(200, order_json(order, partner))

            return await serve(sim, request, outcomes.QUERY, handler)

        return route

    for partner, prefix in (
        (False, "/v3/pay/transactions"),
        (True, "/v3/pay/partner/transactions"),
    ):
        router.add_api_route(
            f"{prefix}/out-trade-no/{{no}}", querying(partner, False), methods=["GET"]
        )
        router.add_api_route(f"{prefix}/id/{{no}}", querying(partner, True), methods=["GET"])

    def reversing(partner: bool) -> Any:
        async def route(request: Request, no: str) -> Response:
            def handler(merchant: Merchant, body: bytes, chosen: Chosen | None) -> Reply:
                fields = Fields.parse(body)
                order = _find(sim, merchant, fields, partner, no, False)
                if partner:
                    partner_merchants(sim, merchant, fields)  # sp_appid checked too
                else:
                    direct_merchant(merchant, fields)
                returns.reverse(sim.network, order, chosen)
                return Reply(204)

            return await serve(sim, request, outcomes.REVERSE, handler)

        return route

    router.add_api_route(
        "/v3/pay/transactions/out-trade-no/{no}/reverse", reversing(False), methods=["POST"]
    )
    router.add_api_route(
        "/v3/pay/partner/transactions/out-trade-no/{no}/reverse", reversing(True), methods=["POST"]
    )
    return router
