"""The Alipay simulator's admin endpoints, under ``/sim/`` and for loopback clients only.

Make apps (their ids and the keys and certificates a client needs), wallets with a
balance and a password limit, payment codes (with a chosen outcome if wanted); switch
an app's mode, fee or badly signed replies; confirm or cancel a payment waiting for
the password; publish and read bills; see trades, notifications and the books.
Amounts are fen.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.responses import Response

from scanpay.i18n import Text
from scanpay.sim.alipay import outcomes
from scanpay.sim.alipay.accounts import (
    app_json,
    create_app_account,
    customer_ids,
    find_app,
    network_json,
    set_app,
    trade_json,
)
from scanpay.sim.alipay.bill import make_bill, published, zip_name
from scanpay.sim.alipay.context import Sim
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

__all__ = ["admin_router"]


class AppIn(BaseModel):
    app_id: str | None = Field(None, pattern=r"^\d{16}$")
    name: str | None = Field(None, max_length=64)
    mode: str = "public_key"
    app_public_key: str | None = None
    fee_bp: int | None = Field(None, ge=0, le=10_000)


class AppPatch(BaseModel):
    mode: str | None = None
    wrong_key: bool | None = None
    fee_bp: int | None = Field(None, ge=0, le=10_000)


class CodeIn(BaseModel):
    outcome: str | None = None
    seconds: float | None = Field(None, ge=0, le=3600)
    sub_code: str | None = None


def _unknown_trade(trade_no: str) -> SimError:
    return SimError("sim_unknown_trade", Text(f"没有交易 {trade_no}", f"no trade {trade_no}"), 404)


def admin_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.post("/apps")
    def new_app(body: AppIn) -> dict[str, Any]:
        made = create_app_account(sim, **body.model_dump())
        return {
            **app_json(made.app),
            "app_private_key": made.app_private_key,
            "app_cert": made.app_cert,
            **network_json(sim),
        }

    @router.get("/apps")
    def apps() -> list[dict[str, Any]]:
        return [app_json(a) for a in sim.store.apps()]

    @router.get("/apps/{app_id}")
    def app(app_id: str) -> dict[str, Any]:
        return app_json(find_app(sim, app_id))

    @router.patch("/apps/{app_id}")
    def patch_app(app_id: str, body: AppPatch) -> dict[str, Any]:
        return app_json(set_app(sim, app_id, **body.model_dump()))

    @router.get("/network")
    def network() -> dict[str, Any]:
        return network_json(sim)

    @router.post("/wallets/{wallet_id}/codes")
    def new_code(wallet_id: int, body: CodeIn | None = None) -> dict[str, Any]:
        return code_issued(
            sim.store, wallet_id, body, outcomes.choose, sim.network.issue_code, "sub_code"
        )

    @router.get("/trades")
    def trades(app_id: str | None = None) -> list[dict[str, Any]]:
        sim.network.settle_all()
        return [trade_json(t) for t in sim.store.trades(app_id)]

    @router.get("/trades/{trade_no}")
    def trade(trade_no: str) -> dict[str, Any]:
        sim.network.settle_all()
        found = sim.store.trade_by_no(trade_no)
        if found is None:
            raise _unknown_trade(trade_no)
        refunds = [
            {
                "out_request_no": r.out_request_no,
                "amount": r.amount,
                "fee": r.fee,
                "created_at": rfc3339(r.created_at),
            }
            for r in sim.store.refunds_of(trade_no)
        ]
        return {**trade_json(found), "refunds": refunds}

    @router.post("/apps/{app_id}/bills/{day}")
    def publish(app_id: str, day: str) -> dict[str, Any]:
        found, when = find_app(sim, app_id), parse_day(day)
        now = sim.network.clock.now()
        with sim.store.transaction():
            sim.store.add_bill(
                app_id, when.isoformat(), make_bill(sim.store, found, when, now), now
            )
        return {"app_id": app_id, "day": when.isoformat(), "published_at": rfc3339(now)}

    @router.get("/apps/{app_id}/bills/{day}")
    def see_bill(app_id: str, day: str) -> Response:
        found, when = find_app(sim, app_id), parse_day(day)
        with sim.store.transaction():
            data = published(sim.store, found, when, sim.network.clock.now())
        if data is None:
            raise SimError(
                "sim_bill_not_published", Text("账单尚未发布", "the bill is not published yet"), 404
            )
        name = zip_name(found, when)
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/notifications")
    def notifications(app_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "id": n.id,
                "app_id": n.app_id,
                "trade_no": n.trade_no,
                "url": n.url,
                "params": json.loads(n.params),
                **delivery_json(n),
            }
            for n in sim.store.notices(app_id)
        ]

    add_wallet_routes(router, sim.store, sim.network, customer_ids)
    add_decision_routes(router, "/trades/{key}", sim.network.decide, trade_json, _unknown_trade)
    add_accounts_route(router, sim.network, sim.store.totals, "apps")
    add_outcome_route(router, outcomes.Outcome, outcomes.DESCRIPTIONS)
    return router
