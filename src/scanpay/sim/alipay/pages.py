"""The simulator's small pages (loopback only), in Chinese and English.

- ``/sim/``: the wallets and the payments waiting for the buyer's password.
- ``/sim/wallets/{id}/code``: a fresh payment code, as the buyer's phone shows it.
- ``/sim/pay/{trade_no}``: the buyer's password step: confirm (pay) or cancel.
"""

from __future__ import annotations

from html import escape

import segno
from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scanpay.sim.alipay.accounts import find_wallet
from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.money import yuan
from scanpay.sim.alipay.outcomes import Outcome
from scanpay.sim.wechat.admin import loopback_only
from scanpay.sim.wechat.clock import bill_time

__all__ = ["pages_router"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;"
    "text-align:left}.code{font:2rem monospace;letter-spacing:.15rem}button{font-size:1.1rem;"
    "padding:.5rem 1.2rem;margin-right:.8rem}"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def pages_router(sim: Sim) -> APIRouter:
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])  # type: ignore[arg-type]

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        rows = "".join(
            f"<tr><td>{w.id}</td><td>{escape(w.name)}</td><td>{yuan(w.balance)}</td>"
            f'<td><a href="/sim/wallets/{w.id}/code">付款码 / Code</a></td></tr>'
            for w in sim.store.wallets()
        )
        waiting = "".join(
            f'<li><a href="/sim/pay/{t.trade_no}">{escape(t.subject)} {yuan(t.total)} CNY</a></li>'
            for t in sim.store.waiting_trades()
            if t.wallet_id is not None
        )
        body = (
            "<h2>钱包 / Wallets</h2><table><tr><th>#</th><th>名称 / Name</th>"
            f"<th>余额 / Balance (CNY)</th><th></th></tr>{rows}</table>"
            f"<h2>等待输入密码 / Waiting for the password</h2><ul>{waiting or '<li>—</li>'}</ul>"
        )
        return _page("支付宝模拟器 / Alipay simulator", body)

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def code_page(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(sim, wallet_id)
        code, expires = sim.network.issue_code(wallet_id)
        ttl = int(sim.settings.code_ttl)
        body = (
            f"<p>{escape(wallet.name)} · 余额 / balance {yuan(wallet.balance)} CNY</p>"
            f'<p class="code" id="code">{code}</p>'
            f"<p>{segno.make_qr(code).svg_inline(scale=5)}</p>"
            f"<p>一次有效，{ttl} 秒后过期（{bill_time(expires)}）。"
            f"<br>One use; expires in {ttl} s.</p>"
            f'<p><a href="/sim/wallets/{wallet_id}/code">刷新 / Refresh</a> · '
            '<a href="/sim/">返回 / Back</a></p>'
        )
        return _page("付款码 / Payment code", body)

    @router.get("/pay/{trade_no}", response_class=HTMLResponse)
    def pay_page(trade_no: str) -> Response:
        if sim.store.trade_by_no(trade_no) is None:
            return _page("没有这笔交易 / No such payment", '<p><a href="/sim/">返回 / Back</a></p>')
        sim.network.settle_all()
        trade = sim.store.trade_by_no(trade_no)
        assert trade is not None
        app = sim.store.app(trade.app_id)
        waiting = (
            trade.status == "WAIT_BUYER_PAY"
            and trade.wallet_id is not None
            and trade.outcome != Outcome.WAIT_PASSWORD_NEVER
        )
        target = f"/sim/pay/{trade.trade_no}"
        buttons = (
            f'<form method="post" action="{target}/confirm" style="display:inline">'
            '<button id="confirm">确认付款 / Confirm</button></form>'
            f'<form method="post" action="{target}/cancel" style="display:inline">'
            '<button id="cancel">取消 / Cancel</button></form>'
            if waiting
            else ""
        )
        body = (
            f"<p>{escape(app.name if app else trade.app_id)}</p><p>{escape(trade.subject)}</p>"
            f'<p class="code">{yuan(trade.total)} CNY</p>'
            f'<p>状态 / State: <b id="state">{trade.status}</b></p>{buttons}'
        )
        return _page("支付宝 / Alipay", body)

    @router.post("/pay/{trade_no}/confirm")
    def confirm(trade_no: str) -> Response:
        sim.network.decide(trade_no, True)
        return RedirectResponse(f"/sim/pay/{trade_no}", status_code=303)

    @router.post("/pay/{trade_no}/cancel")
    def cancel(trade_no: str) -> Response:
        sim.network.decide(trade_no, False)
        return RedirectResponse(f"/sim/pay/{trade_no}", status_code=303)

    return router
