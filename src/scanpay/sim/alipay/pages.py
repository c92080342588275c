"""The Alipay simulator's small pages (loopback only), in Chinese and English.

- ``/sim/``: the wallets and the payments waiting for the buyer's password.
- ``/sim/wallets/{id}/code``: a fresh payment code, as the buyer's phone shows it.
- ``/sim/pay/{trade_no}``: the buyer's password step: confirm (pay) or cancel.

The frame and the shared parts are :mod:`scanpay.sim.common.pages`'.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, Response

from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.outcomes import Outcome
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

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = "".join(
            f'<li><a href="/sim/pay/{t.trade_no}">{escape(t.subject)} {yuan(t.total)} CNY</a></li>'
            for t in sim.store.waiting_trades()
            if t.wallet_id is not None
        )
        body = (
            f"{wallets_table(sim.store.wallets())}"
            f"<h2>等待输入密码 / Waiting for the password</h2><ul>{waiting or '<li>—</li>'}</ul>"
        )
        return page("支付宝模拟器 / Alipay simulator", body)

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def wallet_code(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(sim.store, wallet_id)
        code, expires = sim.network.issue_code(wallet_id)
        return code_page(wallet, code, expires, sim.settings.code_ttl)

    @router.get("/pay/{trade_no}", response_class=HTMLResponse)
    def pay_page(trade_no: str) -> Response:
        if sim.store.trade_by_no(trade_no) is None:
            return page("没有这笔交易 / No such payment", '<p><a href="/sim/">返回 / Back</a></p>')
        sim.network.settle_all()
        trade = sim.store.trade_by_no(trade_no)
        assert trade is not None
        app = sim.store.app(trade.app_id)
        waiting = (
            trade.status == "WAIT_BUYER_PAY"
            and trade.wallet_id is not None
            and trade.outcome != Outcome.WAIT_PASSWORD_NEVER
        )
        buttons = decision_buttons(trade.trade_no, "确认付款 / Confirm") if waiting else ""
        body = (
            f"<p>{escape(app.name if app else trade.app_id)}</p><p>{escape(trade.subject)}</p>"
            f'<p class="code">{yuan(trade.total)} CNY</p>'
            f'<p>状态 / State: <b id="state">{trade.status}</b></p>{buttons}'
        )
        return page("支付宝 / Alipay", body)

    add_decision_routes(router, sim.network.decide)
    return router
