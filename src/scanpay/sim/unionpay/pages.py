"""The UnionPay simulator's small pages (loopback only), in Chinese and English.

- ``/sim/``: the wallets and the consumes waiting for the customer's password.
- ``/sim/wallets/{id}/code``: a fresh payment code, as the customer's phone shows it.
- ``/sim/pay/{queryId}``: the customer's password step: confirm (pay) or cancel.

The frame and the shared parts are :mod:`scanpay.sim.common.pages`'.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, Response

from scanpay.sim.common.money import yuan
from scanpay.sim.common.pages import (
    add_code_route,
    add_decision_routes,
    decision_buttons,
    index_page,
    no_payment_page,
    payment_page,
)
from scanpay.sim.common.serving import loopback_only
from scanpay.sim.unionpay.context import Sim
from scanpay.sim.unionpay.outcomes import Outcome

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = [
            (o.query_id, f"{escape(o.order_id)} {yuan(o.amount)} CNY")
            for o in sim.store.pending_orders()
        ]
        return index_page("银联模拟器 / UnionPay simulator", sim.store.wallets(), waiting)

    @router.get("/pay/{query_id}", response_class=HTMLResponse)
    def pay_page(query_id: str) -> Response:
        sim.network.settle_all()
        order = sim.store.order_by_query_id(query_id)
        if order is None:
            return no_payment_page()
        merchant = sim.store.merchant(order.mer_id)
        waiting = order.pending and order.outcome != Outcome.WAIT_PASSWORD_NEVER
        buttons = decision_buttons(order.query_id, "确认付款 / Confirm") if waiting else ""
        return payment_page(
            "银联 / UnionPay",
            [merchant.name if merchant else order.mer_id],
            f"{yuan(order.amount)} CNY",
            order.state,
            buttons,
        )

    add_code_route(router, sim.store, sim.network.issue_code, sim.settings.code_ttl)
    add_decision_routes(router, sim.network.decide)
    return router
