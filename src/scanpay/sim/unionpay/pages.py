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
    add_decision_routes,
    code_page,
    decision_buttons,
    page,
    wallets_table,
)
from scanpay.sim.common.serving import loopback_only
from scanpay.sim.common.wallets import find_wallet
from scanpay.sim.unionpay.context import Sim
from scanpay.sim.unionpay.outcomes import Outcome

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = "".join(
            f'<li><a href="/sim/pay/{o.query_id}">{escape(o.order_id)}'
            f" {yuan(o.amount)} CNY</a></li>"
            for o in sim.store.pending_orders()
        )
        body = (
            f"{wallets_table(sim.store.wallets())}"
            f"<h2>等待输入密码 / Waiting for the password</h2><ul>{waiting or '<li>—</li>'}</ul>"
        )
        return page("银联模拟器 / UnionPay simulator", body)

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def wallet_code(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(sim.store, wallet_id)
        code, expires = sim.network.issue_code(wallet_id)
        return code_page(wallet, code, expires, sim.settings.code_ttl)

    @router.get("/pay/{query_id}", response_class=HTMLResponse)
    def pay_page(query_id: str) -> Response:
        sim.network.settle_all()
        order = sim.store.order_by_query_id(query_id)
        if order is None:
            return page("没有这笔交易 / No such payment", '<p><a href="/sim/">返回 / Back</a></p>')
        merchant = sim.store.merchant(order.mer_id)
        waiting = order.pending and order.outcome != Outcome.WAIT_PASSWORD_NEVER
        buttons = decision_buttons(order.query_id, "确认付款 / Confirm") if waiting else ""
        body = (
            f"<p>{escape(merchant.name if merchant else order.mer_id)}</p>"
            f'<p class="code">{yuan(order.amount)} CNY</p>'
            f'<p>状态 / State: <b id="state">{order.state}</b></p>{buttons}'
        )
        return page("银联 / UnionPay", body)

    add_decision_routes(router, sim.network.decide)
    return router
