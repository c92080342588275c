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
    add_decision_routes,
    code_page,
    decision_buttons,
    page,
    wallets_table,
)
from scanpay.sim.common.serving import loopback_only
from scanpay.sim.common.wallets import find_wallet
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.outcomes import Outcome

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = "".join(
            f'<li><a href="/sim/pay/{o.transaction_id}">{escape(o.description)} '
            f"{yuan(o.total)} {o.currency}</a></li>"
            for o in sim.store.orders()
            if o.state == "USERPAYING"
        )
        body = (
            f"{wallets_table(sim.store.wallets())}"
            f"<h2>等待输入密码 / Waiting for a password</h2><ul>{waiting or '<li>—</li>'}</ul>"
        )
        return page("微信支付模拟器 / WeChat Pay simulator", body)

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def wallet_code(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(sim.store, wallet_id)
        code, expires = sim.network.issue_code(wallet_id)
        return code_page(wallet, code, expires, sim.settings.code_ttl)

    @router.get("/pay/{transaction_id}", response_class=HTMLResponse)
    def pay_page(transaction_id: str) -> Response:
        found = sim.store.order_by_id(transaction_id)
        if found is None:
            return page("没有这笔订单 / No such payment", '<p><a href="/sim/">返回 / Back</a></p>')
        order = sim.network.settle(found)
        merchant = sim.store.merchant(order.mchid)
        waiting = order.state == "USERPAYING" and order.outcome != Outcome.USERPAYING_NEVER
        buttons = decision_buttons(order.transaction_id, "确认支付 / Confirm") if waiting else ""
        body = (
            f"<p>{escape(merchant.name if merchant else order.mchid)}</p>"
            f"<p>{escape(order.description)}</p>"
            f'<p class="code">{yuan(order.total)} {order.currency}</p>'
            f'<p>状态 / State: <b id="state">{order.state}</b> {escape(order.state_desc)}</p>'
            f"{buttons}"
        )
        return page("微信支付 / WeChat Pay", body)

    add_decision_routes(router, sim.network.decide)
    return router
