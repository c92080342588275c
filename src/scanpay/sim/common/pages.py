"""The frame and the shared parts of a simulator's small pages, in Chinese and English.

Every simulator serves, under ``/sim/`` (loopback only): an index of its wallets, a
wallet's fresh payment code as the customer's phone shows it (digits and QR code: what
a cashier scans or types in the demo), and the customer's password step of a payment
waiting for it, confirmed or cancelled by a form posted to ``/sim/pay/{id}/confirm``
or ``/cancel``. A network's pages module adds what only it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from typing import Any, Protocol

import segno
from fastapi import APIRouter
from starlette.responses import HTMLResponse, RedirectResponse, Response

from scanpay.sim.common.clock import bill_time
from scanpay.sim.common.money import yuan
from scanpay.sim.common.store import SimStore
from scanpay.sim.common.wallets import find_wallet

__all__ = [
    "ShownWallet",
    "add_code_route",
    "add_decision_routes",
    "code_page",
    "decision_buttons",
    "index_page",
    "no_payment_page",
    "page",
    "payment_page",
    "wallets_table",
]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;"
    "text-align:left}.code{font:2rem monospace;letter-spacing:.15rem}button{font-size:1.1rem;"
    "padding:.5rem 1.2rem;margin-right:.8rem}"
)


class ShownWallet(Protocol):
    """What the pages show of a wallet."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def balance(self) -> int: ...


def page(title: str, body: str) -> HTMLResponse:
    """A page titled ``title`` around ``body`` (HTML, already escaped)."""
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def wallets_table(wallets: Iterable[ShownWallet]) -> str:
    """The index's wallets, each with a link to a fresh payment code."""
    rows = "".join(
        f"<tr><td>{w.id}</td><td>{escape(w.name)}</td><td>{yuan(w.balance)}</td>"
        f'<td><a href="/sim/wallets/{w.id}/code">付款码 / Code</a></td></tr>'
        for w in wallets
    )
    return (
        "<h2>钱包 / Wallets</h2><table><tr><th>#</th><th>名称 / Name</th>"
        f"<th>余额 / Balance (CNY)</th><th></th></tr>{rows}</table>"
    )


def code_page(wallet: ShownWallet, code: str, expires: datetime, ttl: float) -> HTMLResponse:
    """A wallet's payment ``code``, good once until ``expires`` (``ttl`` seconds)."""
    seconds = int(ttl)
    body = (
        f"<p>{escape(wallet.name)} · 余额 / balance {yuan(wallet.balance)} CNY</p>"
        f'<p class="code" id="code">{code}</p>'
        # A QR code of the digits too, so a scanner or a camera can read it.
        f"<p>{segno.make_qr(code).svg_inline(scale=5)}</p>"
        f"<p>一次有效，{seconds} 秒后过期（{bill_time(expires)}）。"
        f"<br>One use; expires in {seconds} s.</p>"
        f'<p><a href="/sim/wallets/{wallet.id}/code">刷新 / Refresh</a> · '
        '<a href="/sim/">返回 / Back</a></p>'
    )
    return page("付款码 / Payment code", body)


def decision_buttons(payment_id: str, confirm_label: str) -> str:
    """The password step's two forms: confirm (pay) and cancel."""
    target = f"/sim/pay/{payment_id}"
    return (
        f'<form method="post" action="{target}/confirm" style="display:inline">'
        f'<button id="confirm">{escape(confirm_label)}</button></form>'
        f'<form method="post" action="{target}/cancel" style="display:inline">'
        '<button id="cancel">取消 / Cancel</button></form>'
    )


def add_decision_routes(router: APIRouter, decide: Callable[[str, bool], object]) -> None:
    """``POST /pay/{id}/confirm`` and ``/cancel`` on ``router``: ``decide`` the payment
    (True: the customer confirmed), then back to its page."""

    @router.post("/pay/{payment_id}/confirm")
    def confirm(payment_id: str) -> Response:
        decide(payment_id, True)
        return RedirectResponse(f"/sim/pay/{payment_id}", status_code=303)

    @router.post("/pay/{payment_id}/cancel")
    def cancel(payment_id: str) -> Response:
        decide(payment_id, False)
        return RedirectResponse(f"/sim/pay/{payment_id}", status_code=303)


def index_page(
    title: str,
    wallets: Iterable[ShownWallet],
    waiting: Iterable[tuple[str, str]],
    heading: str = "等待输入密码 / Waiting for the password",
) -> HTMLResponse:
    """The index: the wallets, and under ``heading`` the payments waiting for the
    password, each ``(id, label)`` a link to its page."""
    links = "".join(
        f'<li><a href="/sim/pay/{payment_id}">{label}</a></li>' for payment_id, label in waiting
    )
    body = f"{wallets_table(wallets)}<h2>{heading}</h2><ul>{links or '<li>—</li>'}</ul>"
    return page(title, body)


def add_code_route(
    router: APIRouter,
    store: SimStore[Any, Any],
    issue_code: Callable[[int], tuple[str, datetime]],
    ttl: float,
) -> None:
    """``GET /wallets/{id}/code`` on ``router``: a fresh code from ``issue_code``, shown."""

    @router.get("/wallets/{wallet_id}/code", response_class=HTMLResponse)
    def wallet_code(wallet_id: int) -> HTMLResponse:
        wallet = find_wallet(store, wallet_id)
        code, expires = issue_code(wallet_id)
        return code_page(wallet, code, expires, ttl)


def no_payment_page(title: str = "没有这笔交易 / No such payment") -> HTMLResponse:
    """The page of a payment the simulator does not have."""
    return page(title, '<p><a href="/sim/">返回 / Back</a></p>')


def payment_page(
    title: str,
    lines: Iterable[str],
    amount: str,
    state: str,
    buttons: str,
    state_after: str = "",
) -> HTMLResponse:
    """A payment's page: ``lines`` (payee, subject: text), the ``amount`` shown large, its
    ``state`` (``state_after``: markup after it) and the password step's ``buttons``."""
    text = "".join(f"<p>{escape(line)}</p>" for line in lines)
    body = (
        f'{text}<p class="code">{amount}</p>'
        f'<p>状态 / State: <b id="state">{state}</b>{state_after}</p>{buttons}'
    )
    return page(title, body)
