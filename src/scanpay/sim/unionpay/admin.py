"""The UnionPay simulator's admin endpoints, under ``/sim/`` and for loopback clients only.

Make merchants (their ``merId``, signing key and certificate, and the chain and CN a
client checks replies with), wallets with a balance and a password limit, payment
codes (with a chosen outcome if wanted); confirm or cancel a consume waiting for the
password; publish and read settlement files; see orders, notifications and the books.
Amounts are fen.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from scanpay.i18n import Text
from scanpay.networks.unionpay.bill import decode_file
from scanpay.sim.common.admin import (
    add_accounts_route,
    add_decision_routes,
    add_outcome_route,
    add_wallet_routes,
    code_issued,
    delivery_json,
    parse_day,
)
from scanpay.sim.common.clock import rfc3339
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.serving import loopback_only
from scanpay.sim.unionpay import bill, outcomes
from scanpay.sim.unionpay.accounts import (
    create_merchant,
    customer_ids,
    find_merchant,
    merchant_json,
    network_json,
    order_json,
)
from scanpay.sim.unionpay.context import Sim

__all__ = ["admin_router"]


class MerchantIn(BaseModel):
    mer_id: str | None = Field(None, pattern=r"^[0-9A-Za-z]{15}$")
    name: str | None = Field(None, max_length=64)


class CodeIn(BaseModel):
    outcome: str | None = None
    seconds: float | None = Field(None, ge=0, le=3600)
    resp_code: str | None = None


def _unknown_order(query_id: str) -> SimError:
    return SimError("sim_unknown_order", Text(f"没有订单 {query_id}", f"no order {query_id}"), 404)


def admin_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.post("/merchants")
    def new_merchant(body: MerchantIn) -> dict[str, Any]:
        made = create_merchant(sim, **body.model_dump())
        return {
            **merchant_json(made.merchant),
            "sign_key": made.sign_key,
            "sign_cert": made.merchant.sign_cert,
            **network_json(sim),
        }

    @router.get("/merchants")
    def merchants() -> list[dict[str, Any]]:
        return [merchant_json(m) for m in sim.store.merchants()]

    @router.get("/merchants/{mer_id}")
    def merchant(mer_id: str) -> dict[str, Any]:
        return merchant_json(find_merchant(sim, mer_id))

    @router.get("/network")
    def network() -> dict[str, Any]:
        return network_json(sim)

    @router.post("/wallets/{wallet_id}/codes")
    def new_code(wallet_id: int, body: CodeIn | None = None) -> dict[str, Any]:
        return code_issued(
            sim.store, wallet_id, body, outcomes.choose, sim.network.issue_code, "resp_code"
        )

    @router.get("/orders")
    def orders(mer_id: str | None = None) -> list[dict[str, Any]]:
        sim.network.settle_all()
        return [order_json(o) for o in sim.store.orders(mer_id)]

    @router.get("/orders/{query_id}")
    def order(query_id: str) -> dict[str, Any]:
        sim.network.settle_all()
        found = sim.store.order_by_query_id(query_id)
        if found is None:
            raise _unknown_order(query_id)
        return order_json(found)

    @router.post("/merchants/{mer_id}/bills/{day}")
    def publish(mer_id: str, day: str) -> dict[str, Any]:
        found, when = find_merchant(sim, mer_id), parse_day(day)
        now = sim.network.clock.now()
        with sim.store.transaction():
            sim.store.add_bill(
                mer_id, when.isoformat(), bill.make_file(sim.store, found, when), now
            )
        return {"mer_id": mer_id, "day": when.isoformat(), "published_at": rfc3339(now)}

    @router.get("/merchants/{mer_id}/bills/{day}")
    def see_bill(mer_id: str, day: str) -> dict[str, Any]:
        found, when = find_merchant(sim, mer_id), parse_day(day)
        with sim.store.transaction():
            content = bill.published(sim.store, found, when, sim.network.clock.now())
        if content is None:
            raise SimError(
                "sim_bill_not_published", Text("对账文件尚未生成", "the file is not out yet"), 404
            )
        return {
            "file_name": bill.file_name(mer_id, when),
            "file_content": content,
            "zm": decode_file(content),
        }

    @router.get("/notifications")
    def notifications(mer_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "id": n.id,
                "mer_id": n.mer_id,
                "order_id": n.order_id,
                "url": n.url,
                "fields": json.loads(n.fields),
                **delivery_json(n),
            }
            for n in sim.store.notices(mer_id)
        ]

    add_wallet_routes(router, sim.store, sim.network, customer_ids)
    add_decision_routes(router, "/orders/{key}", sim.network.decide, order_json, _unknown_order)
    add_accounts_route(router, sim.network, sim.store.totals, "merchants")
    add_outcome_route(router, outcomes.Outcome, outcomes.DESCRIPTIONS)
    return router
