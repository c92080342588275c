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
    add_code_route,
    add_decision_routes,
    decision_buttons,
    index_page,
    no_payment_page,
    payment_page,
)
from scanpay.sim.common.serving import loopback_only

__all__ = ["pages_router"]


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        waiting = [
            (t.trade_no, f"{escape(t.subject)} {yuan(t.total)} CNY")
            for t in sim.store.waiting_trades()
            if t.wallet_id is not None
        ]
        return index_page("支付宝模拟器 / Alipay simulator", sim.store.wallets(), waiting)

    @router.get("/pay/{trade_no}", response_class=HTMLResponse)
    def pay_page(trade_no: str) -> Response:
        if sim.store.trade_by_no(trade_no) is None:
            return no_payment_page()
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
        return payment_page(
            "支付宝 / Alipay",
            [app.name if app else trade.app_id, trade.subject],
            f"{yuan(trade.total)} CNY",
            trade.status,
            buttons,
        )

    add_code_route(router, sim.store, sim.network.issue_code, sim.settings.code_ttl)
    add_decision_routes(router, sim.network.decide)
    return router
