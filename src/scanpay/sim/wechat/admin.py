"""The simulator's own admin endpoints, under ``/sim/`` and for loopback clients only.

For tests and the demo: make merchants (their ids and the keys a client needs),
sub-merchants, wallets with a balance and a password limit, payment codes (with a
chosen outcome if wanted); switch a merchant's signing mode or make its replies
badly signed; read balances, orders, refund callbacks and the network's books. Amounts
are fen.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from scanpay.i18n import Text
from scanpay.sim.common.admin import add_outcome_route, add_wallet_routes
from scanpay.sim.common.clock import rfc3339
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.serving import loopback_only
from scanpay.sim.common.wallets import find_wallet
from scanpay.sim.wechat import outcomes
from scanpay.sim.wechat.accounts import (
    create_merchant,
    create_sub_merchant,
    customer_ids,
    find_merchant,
    merchant_json,
    order_json,
    platform_json,
    set_merchant,
)
from scanpay.sim.wechat.context import Sim

__all__ = ["admin_router"]


class MerchantIn(BaseModel):
    kind: str = "direct"
    mchid: str | None = Field(None, pattern=r"^\d{6,32}$")
    appid: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=64)
    mode: str = "public_key"
    client_certificate: str | None = None
    client_public_key: str | None = None
    client_serial: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{1,40}$")
    v2_key: str | None = Field(None, min_length=32, max_length=32)
    v3_key: str | None = Field(None, min_length=32, max_length=32)


class SubMerchantIn(BaseModel):
    sub_mchid: str | None = Field(None, pattern=r"^\d{6,32}$")
    sub_appid: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=64)


class MerchantPatch(BaseModel):
    mode: str | None = None
    wrong_key: bool | None = None


class CodeIn(BaseModel):
    outcome: str | None = None
    seconds: float | None = Field(None, ge=0, le=3600)


def admin_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.post("/merchants")
    def new_merchant(body: MerchantIn) -> dict[str, Any]:
        made = create_merchant(sim, **body.model_dump())
        merchant = made.merchant
        return {
            **merchant_json(merchant),
            "api_v2_key": merchant.v2_key,
            "api_v3_key": merchant.v3_key,
            "client_private_key": made.client_private_key,
            "client_certificate": made.client_certificate,
            "platform": platform_json(sim),
        }

    @router.get("/merchants")
    def merchants() -> list[dict[str, Any]]:
        return [merchant_json(m) for m in sim.store.merchants()]

    @router.get("/merchants/{mchid}")
    def merchant(mchid: str) -> dict[str, Any]:
        return merchant_json(find_merchant(sim, mchid))

    @router.patch("/merchants/{mchid}")
    def patch_merchant(mchid: str, body: MerchantPatch) -> dict[str, Any]:
        return merchant_json(set_merchant(sim, mchid, mode=body.mode, wrong_key=body.wrong_key))

    @router.post("/merchants/{mchid}/sub-merchants")
    def new_sub_merchant(mchid: str, body: SubMerchantIn) -> dict[str, Any]:
        return merchant_json(create_sub_merchant(sim, mchid, **body.model_dump()))

    @router.get("/platform")
    def platform() -> dict[str, Any]:
        return platform_json(sim)

    @router.post("/wallets/{wallet_id}/codes")
    def new_code(wallet_id: int, body: CodeIn | None = None) -> dict[str, Any]:
        find_wallet(sim.store, wallet_id)
        chosen = None
        if body is not None and body.outcome:
            try:
                chosen = outcomes.parse(body.outcome)
            except ValueError:
                raise SimError(
                    "sim_bad_outcome",
                    Text(f"没有这个结果：{body.outcome}", f"no such outcome: {body.outcome}"),
                    field="outcome",
                ) from None
        seconds = body.seconds if body is not None else None
        code, expires = sim.network.issue_code(wallet_id, chosen, seconds)
        return {
            "wallet_id": wallet_id,
            "auth_code": code,
            "expires_at": rfc3339(expires),
            "outcome": chosen.value if chosen else None,
        }

    @router.get("/orders")
    def orders(mchid: str | None = None) -> list[dict[str, Any]]:
        sim.network.settle_all()
        return [order_json(o) for o in sim.store.orders(mchid)]

    @router.get("/orders/{transaction_id}")
    def order(transaction_id: str) -> dict[str, Any]:
        sim.network.settle_all()
        found = sim.store.order_by_id(transaction_id)
        if found is None:
            raise SimError(
                "sim_unknown_order",
                Text(f"没有订单 {transaction_id}", f"no order {transaction_id}"),
                404,
            )
        refunds = [
            {
                "refund_id": r.refund_id,
                "out_refund_no": r.out_refund_no,
                "amount": r.amount,
                "kind": r.kind,
                "status": r.status,
                "created_at": rfc3339(r.created_at),
            }
            for r in sim.store.refunds_of(transaction_id)
        ]
        return {**order_json(found), "refunds": refunds}

    @router.get("/callbacks")
    def callbacks(mchid: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "id": c.id,
                "mchid": c.mchid,
                "sp_mchid": c.sp_mchid,
                "refund_id": c.refund_id,
                "out_refund_no": c.out_refund_no,
                "event_type": c.event_type,
                "url": c.url,
                "body": c.body,
                "headers": json.loads(c.sent_headers) if c.sent_headers else None,
                "attempts": c.attempts,
                "next_at": rfc3339(c.next_at) if c.next_at else None,
                "delivered_at": rfc3339(c.delivered_at) if c.delivered_at else None,
                "last_error": c.last_error,
                "created_at": rfc3339(c.created_at),
            }
            for c in sim.store.callbacks(mchid)
        ]

    @router.get("/accounts")
    def accounts() -> dict[str, Any]:
        sim.network.settle_all()
        totals = sim.store.totals()
        return {
            "funded": totals.funded,
            "wallets": totals.wallets,
            "merchants": totals.merchants,
            "balanced": totals.balanced,
        }

    add_wallet_routes(router, sim.store, sim.network, customer_ids)
    add_outcome_route(router, outcomes.Outcome, outcomes.DESCRIPTIONS)
    return router
