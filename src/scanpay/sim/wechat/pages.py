"""The simulator's small pages (loopback only), in Chinese and English.

- ``/sim/``: the wallets and the payments waiting for a password.
- ``/sim/wallets/{id}/code``: a fresh payment code for a wallet, as the customer's
  phone would show it, digits and QR code (what a cashier scans or types in the demo).
- ``/sim/pay/{transaction_id}``: the customer's password step of a payment waiting
  in USERPAYING: confirm (pay) or cancel.
"""

from __future__ import annotations

from html import escape

import segno
from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scanpay.sim.wechat.accounts import find_wallet
from scanpay.sim.wechat.admin import loopback_only
from scanpay.sim.wechat.bill import yuan
from scanpay.sim.wechat.clock import bill_time
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.outcomes import Outcome

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
    router = APIRouter(prefix="/sim", dependencies=[Depends(loopback_only(sim))])

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        sim.network.settle_all()
        rows = "".join(
            f"<tr><td>{w.id}</td><td>{escape(w.name)}</td><td>{yuan(w.balance)}</td>"
            f'<td><a href="/sim/wallets/{w.id}/code">付款码 / Code</a></td></tr>'
            for w in sim.store.wallets()
        )
        waiting = "".join(
            f'<li><a href="/sim/pay/{o.transaction_id}">{escape(o.description)} '
            f"{yuan(o.total)} {o.currency}</a></li>"
            for o in sim.store.orders()
            if o.state == "USERPAYING"
        )
        body = (
            "<h2>钱包 / Wallets</h2><table><tr><th>#</th><th>名称 / Name</th>"
            f"<th>余额 / Balance (CNY)</th><th></th></tr>{rows}</table>"
            f"<h2>等待输入密码 / Waiting for a password</h2><ul>{waiting or '<li>—</li>'}</ul>"
        )
        return _page("微信支付模拟器 / WeChat Pay simulator", body)

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def code_page(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(sim, wallet_id)
        code, expires = sim.network.issue_code(wallet_id)
        body = (
            f"<p>{escape(wallet.name)} · 余额 / balance {yuan(wallet.balance)} CNY</p>"
            f'<p class="code" id="code">{code}</p>'
            # A QR code of the digits too, so a scanner or a camera can read it.
            f"<p>{segno.make_qr(code).svg_inline(scale=5)}</p>"
            f"<p>一次有效，{int(sim.settings.code_ttl)} 秒后过期（{bill_time(expires)}）。"
            f"<br>One use; expires in {int(sim.settings.code_ttl)} s.</p>"
            f'<p><a href="/sim/wallets/{wallet_id}/code">刷新 / Refresh</a> · '
            '<a href="/sim/">返回 / Back</a></p>'
        )
        return _page("付款码 / Payment code", body)

    @router.get("/pay/{transaction_id}", response_class=HTMLResponse)
    def pay_page(transaction_id: str) -> Response:
        found = sim.store.order_by_id(transaction_id)
        if found is None:
            return _page("没有这笔订单 / No such payment", '<p><a href="/sim/">返回 / Back</a></p>')
        order = sim.network.settle(found)
        merchant = sim.store.merchant(order.mchid)
        waiting = order.state == "USERPAYING" and order.outcome != Outcome.USERPAYING_NEVER
        target = f"/sim/pay/{order.transaction_id}"
        buttons = (
            f'<form method="post" action="{target}/confirm" style="display:inline">'
            '<button id="confirm">确认支付 / Confirm</button></form>'
            f'<form method="post" action="{target}/cancel" style="display:inline">'
            '<button id="cancel">取消 / Cancel</button></form>'
            if waiting
            else ""
        )
        body = (
            f"<p>{escape(merchant.name if merchant else order.mchid)}</p>"
            f"<p>{escape(order.description)}</p>"
            f'<p class="code">{yuan(order.total)} {order.currency}</p>'
            f'<p>状态 / State: <b id="state">{order.state}</b> {escape(order.state_desc)}</p>'
            f"{buttons}"
        )
        return _page("微信支付 / WeChat Pay", body)

    @router.post("/pay/{transaction_id}/confirm")
    def confirm(transaction_id: str) -> Response:
        sim.network.decide(transaction_id, True)
        return RedirectResponse(f"/sim/pay/{transaction_id}", status_code=303)

    @router.post("/pay/{transaction_id}/cancel")
    def cancel(transaction_id: str) -> Response:
        sim.network.decide(transaction_id, False)
        return RedirectResponse(f"/sim/pay/{transaction_id}", status_code=303)

    return router
