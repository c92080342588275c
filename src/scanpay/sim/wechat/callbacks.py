"""API v3 refund callbacks (退款结果通知): made when a refund succeeds, and delivered.

A v3 refund that named ``notify_url`` is called back there once it is SUCCESS (at
once, or when a PROCESSING one finishes). The callback is WeChat Pay's JSON::

    {id, create_time, resource_type: "encrypt-resource", event_type: "REFUND.SUCCESS",
     summary, resource: {algorithm: "AEAD_AES_256_GCM", ciphertext, nonce,
                         associated_data: "refund", original_type: "refund"}}

its resource sealed with the APIv3 key of the merchant that called (a service
provider's for its sub-merchants), and it is signed when sent like a reply
(``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``, ``-Serial``: the platform
certificate or the WeChat Pay public key, as the merchant is set up; its
``wrong_key`` switch signs it with another key). The body is made once and sent the
same at every attempt; the signature is made at each. The receiver must answer HTTP
200 or 204, or it is sent again after WeChat's intervals (15 s, 15 s, 30 s, 3 m,
10 m, 20 m, 30 m, 30 m, 30 m, 1 h, 3 h, 3 h, 3 h, 6 h, 6 h) on the simulator's clock.
Only loopback URLs are called (:mod:`scanpay.sim.common.notify`); any other is
queued unsent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from scanpay.sim.common import notify
from scanpay.sim.common.clock import rfc3339
from scanpay.sim.common.crypto import nonce
from scanpay.sim.common.notify import Post, is_loopback_url
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.crypto import aead_encrypt
from scanpay.sim.wechat.store import Callback, Order, Refund, Store
from scanpay.sim.wechat.v3auth import reply_headers

__all__ = ["RETRY_AFTER", "callback_json", "deliverer", "enqueue", "resource_of", "seal"]

# Seconds before each attempt after the first (about a day in all).
RETRY_AFTER = (
    *(15, 15, 30, 180, 600, 1200, 1800, 1800, 1800),
    *(3600, 10800, 10800, 10800, 21600, 21600),
)
_SUMMARY = {
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


def resource_of(refund: Refund, order: Order) -> dict[str, Any]:
    """The refund as its callback's resource tells it (before sealing)."""
    owner: dict[str, Any] = (
        {"sp_mchid": order.sp_mchid, "sub_mchid": order.mchid}
        if order.sp_mchid
        else {"mchid": order.mchid}
    )
    data: dict[str, Any] = {
        **owner,
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": refund.status,
        "amount": {
            "total": order.total,
            "refund": refund.amount,
            "payer_total": order.total,
            "payer_refund": refund.amount,
        },
        "user_received_account": "支付用户零钱",
    }
    if refund.success_time is not None:
        data["success_time"] = rfc3339(refund.success_time)
    return data


def seal(v3_key: str, event_type: str, resource: dict[str, Any], now: datetime) -> str:
    """The callback's body: ``resource`` sealed with ``v3_key`` (AAD ``refund``)."""
    once = nonce(12)
    plain = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return callback_json(
        {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": _SUMMARY.get(event_type, event_type),
            "resource": {
                "original_type": "refund",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": aead_encrypt(v3_key, once, plain, "refund"),
                "associated_data": "refund",
                "nonce": once,
            },
        }
    )


def callback_json(data: dict[str, Any]) -> str:
    """A callback's JSON text, as WeChat writes it (UTF-8, not escaped)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def enqueue(store: Store, refund: Refund, order: Order, now: datetime) -> None:
    """Queue ``refund``'s REFUND.SUCCESS callback (nothing without a notify_url, or when
    the calling merchant has no APIv3 key to seal it with)."""
    if not refund.notify_url or refund.kind != "refund":
        return
    top = store.merchant(order.sp_mchid or order.mchid)
    if top is None or not top.v3_key:
        return
    sendable = is_loopback_url(refund.notify_url)
    store.add_callback(
        mchid=order.mchid,
        sp_mchid=order.sp_mchid,
        refund_id=refund.refund_id,
        out_refund_no=refund.out_refund_no,
        event_type="REFUND.SUCCESS",
        url=refund.notify_url,
        body=seal(top.v3_key, "REFUND.SUCCESS", resource_of(refund, order), now),
        next_at=now if sendable else None,
        last_error=None if sendable else "not a loopback URL: not sent",
        created_at=now,
    )


class _Outbox:
    """WeChat Pay's callbacks as :class:`~scanpay.sim.common.notify.Deliverer` sends them."""

    retry_after = RETRY_AFTER

    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def due(self, now: datetime) -> list[Callback]:
        return self.sim.store.due_callbacks(now)

    def post(self, item: Callback, now: datetime) -> Post:
        signer = self.sim.store.merchant(item.sp_mchid or item.mchid)
        content = item.body.encode()
        wrong = self.sim.wrong_key if signer is not None and signer.wrong_key else None
        headers = reply_headers(self.sim.keys, signer, content, wrong_key=wrong)
        headers.pop("Request-ID", None)
        self.sim.store.update_callback(item.id, sent_headers=json.dumps(headers))
        return Post(content, {**headers, "Content-Type": "application/json"})

    def accepted(self, response: httpx.Response) -> bool:
        return response.status_code in (200, 204)

    def record(self, item: Callback, **changes: Any) -> None:
        self.sim.store.update_callback(item.id, **changes)


def deliverer(sim: Sim, settle: Callable[[], None]) -> notify.Deliverer[Callback]:
    """The task that sends due callbacks, ``settle`` first (refunds finishing)."""
    return notify.Deliverer(_Outbox(sim), sim.network.clock, settle)
