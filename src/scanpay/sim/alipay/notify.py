"""Asynchronous notifications (``trade_status_sync``) and their delivery.

When a trade whose pay call carried ``notify_url`` is paid, closed or refunded, a
notification is queued with Alipay's parameters. :class:`Deliverer` (a task of the
app's lifespan) POSTs each as ``application/x-www-form-urlencoded``, signed then (RSA2
over the sorted parameters without ``sign`` and ``sign_type``) with its
``notify_time``; the receiver must answer the literal text ``success``, or it is sent
again after Alipay's intervals (4 m, 10 m, 10 m, 1 h, 2 h, 6 h, 15 h), on the
simulator's clock. Only loopback URLs are ever called; any other is recorded unsent.
The delivery itself is every simulator's (:mod:`scanpay.sim.common.notify`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.alipay.store import App, Notice, Refund, Store, Trade, Wallet
from scanpay.sim.alipay.wire import signed_content
from scanpay.sim.common import notify as common
from scanpay.sim.common.clock import Clock, bill_time
from scanpay.sim.common.crypto import rsa_sign
from scanpay.sim.common.money import yuan
from scanpay.sim.common.notify import Post, delivering, first_attempt, form_post
from scanpay.sim.common.urls import is_loopback_url

__all__ = [
    "RETRY_AFTER",
    "Deliverer",
    "delivering",
    "enqueue",
    "is_loopback_url",
    "mask_logon",
    "signed_params",
]

RETRY_AFTER = (240, 600, 600, 3600, 7200, 21600, 54000)


def enqueue(
    store: Store,
    app: App,
    trade: Trade,
    wallet: Wallet | None,
    now: datetime,
    refund: Refund | None = None,
) -> None:
    """Queue the notification of ``trade``'s new state (nothing without a notify_url)."""
    if not trade.notify_url:
        return
    params: dict[str, Any] = {
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(16),
        "app_id": app.app_id,
        "auth_app_id": app.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "seller_id": app.pid,
        "trade_status": trade.status,
        "total_amount": yuan(trade.total),
        "subject": trade.subject,
        "gmt_create": bill_time(trade.created_at),
    }
    if wallet is not None:
        params["buyer_id"] = wallet.user_id
        params["buyer_logon_id"] = mask_logon(wallet.logon_id)
    if trade.paid_at is not None:
        paid = yuan(trade.total)
        params.update(
            receipt_amount=paid,
            invoice_amount=paid,
            buyer_pay_amount=paid,
            point_amount="0.00",
            gmt_payment=bill_time(trade.paid_at),
            fund_bill_list=json.dumps(
                [{"amount": paid, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
            ),
        )
    if trade.closed_at is not None:
        params["gmt_close"] = bill_time(trade.closed_at)
    if refund is not None:
        params.update(
            out_biz_no=refund.out_request_no,
            refund_fee=yuan(trade.refunded),
            gmt_refund=bill_time(refund.created_at) + ".000",
        )
    store.add_notice(
        app_id=app.app_id,
        trade_no=trade.trade_no,
        url=trade.notify_url,
        params=json.dumps(params, ensure_ascii=False),
        created_at=now,
        **first_attempt(trade.notify_url, now),
    )


def mask_logon(logon_id: str) -> str:
    """Alipay's masked buyer_logon_id: ``138****1234`` (an e-mail: ``ali***@example.com``)."""
    if "@" in logon_id:
        name, domain = logon_id.split("@", 1)
        return name[:3] + "***@" + domain
    return logon_id[:3] + "****" + logon_id[-4:]


def signed_params(notice: Notice, key: RSAPrivateKey, now: datetime) -> dict[str, str]:
    """The notification's form as sent at ``now``."""
    params: dict[str, str] = json.loads(notice.params)
    params["notify_time"] = bill_time(now)
    params["sign"] = rsa_sign(key, signed_content(params, leave_out=("sign", "sign_type")))
    return params


class _Outbox(common.StoredOutbox[Notice]):
    """Alipay's notifications as :class:`~scanpay.sim.common.notify.Deliverer` sends them:
    the form signed at each attempt, taken when answered ``success``."""

    retry_after = RETRY_AFTER

    def __init__(self, store: Store, key: RSAPrivateKey) -> None:
        super().__init__(store)
        self.key = key

    def post(self, item: Notice, now: datetime) -> Post:
        return form_post(signed_params(item, self.key, now))

    def accepted(self, response: httpx.Response) -> bool:
        return response.text.strip() == "success"


class Deliverer(common.Deliverer[Notice]):
    """Sends due notifications; run as a task while the app serves."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        key: RSAPrivateKey,
        settle: Callable[[], None] = lambda: None,
        tick: float = 0.05,
    ) -> None:
        # Trades whose password step or deadline fell due are settled first (``settle``).
        super().__init__(_Outbox(store, key), clock, settle, tick)
