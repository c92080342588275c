"""The WeChat Pay simulator's small pages (loopback only), in Chinese and English.

- ``/sim/``: the wallets and the payments waiting for a password.
- ``/sim/wallets/{id}/code``: a fresh payment code for a wallet, as the customer's
  phone would show it, digits and QR code (what a cashier scans or types in the demo).
- ``/sim/pay/{transaction_id}``: the customer's password step of a payment waiting
  in USERPAYING: confirm (pay) or cancel.

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
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.outcomes import Outcome

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = [
            (o.transaction_id, f"{escape(o.description)} {yuan(o.total)} {o.currency}")
            for o in sim.store.orders()
            if o.state == "USERPAYING"
        ]
        return index_page(
            "微信支付模拟器 / WeChat Pay simulator",
            sim.store.wallets(),
            waiting,
            heading="等待输入密码 / Waiting for a password",
        )

    @router.get("/pay/{transaction_id}", response_class=HTMLResponse)
    def pay_page(transaction_id: str) -> Response:
        found = sim.store.order_by_id(transaction_id)
        if found is None:
            return no_payment_page("没有这笔订单 / No such payment")
        order = sim.network.settle(found)
        merchant = sim.store.merchant(order.mchid)
        waiting = order.state == "USERPAYING" and order.outcome != Outcome.USERPAYING_NEVER
        buttons = decision_buttons(order.transaction_id, "确认支付 / Confirm") if waiting else ""
        return payment_page(
            "微信支付 / WeChat Pay",
            [merchant.name if merchant else order.mchid, order.description],
            f"{yuan(order.total)} {order.currency}",
            order.state,
            buttons,
            state_after=f" {escape(order.state_desc)}",
        )

    add_code_route(router, sim.store, sim.network.issue_code, sim.settings.code_ttl)
    add_decision_routes(router, sim.network.decide)
    return router
