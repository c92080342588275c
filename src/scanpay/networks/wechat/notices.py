"""WeChat Pay's API v3 callbacks (refund results: ``REFUND.SUCCESS``, ``.ABNORMAL``,
``.CLOSED``), read.

A v3 refund that named ``notify_url`` is called back there when it is done: JSON
``{id, create_time, resource_type: "encrypt-resource", event_type, summary, resource:
{algorithm: "AEAD_AES_256_GCM", ciphertext, nonce, associated_data, original_type}}``,
signed like a reply (``Wechatpay-*`` headers: the platform certificate or the WeChat
Pay public key), the resource sealed with the merchant's APIv3 key. WeChat sends it
again (15 s, 15 s, 30 s, 3 m, ...) until answered HTTP 200 or 204.

Nothing in clear says whose it is: :func:`claim` names no trade, and the host finds
the channel by the callback URL's last segment, the merchant id the adapter put there
(:meth:`~scanpay.networks.wechat.config.WeChatSettings.callback_url`). :func:`read`
then checks it with that channel's keys, and that the resource is that merchant's. A
callback is a hint to the host, which asks the network itself
(:class:`~scanpay.networks.port.Notice`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scanpay.networks.port import Channel, ChannelMode, Notice, NoticeReply

__all__ = ["NOTICE_REPLY", "claim", "read"]

NOTICE_REPLY = NoticeReply(
    accepted=b'{"code":"SUCCESS"}',
    refused='{"code":"FAIL","message":"失败"}'.encode(),
    media_type="application/json",
)
_MAX_BODY = 16 << 10
# Events whose resource names a trade of the merchant's (a refund's names its refund too).
_EVENTS = ("REFUND.", "TRANSACTION.")

Opener = Callable[[Mapping[str, str], bytes], dict[str, Any] | None]


def claim(body: bytes, headers: Mapping[str, str]) -> str | None:
    """None: a callback names its trade only inside what the merchant's key seals."""
    return None


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _owned_by(resource: Mapping[str, Any], channel: Channel) -> bool:
    if channel.mode is ChannelMode.SERVICE_PROVIDER:
        return (
            _text(resource, "sp_mchid") == channel.mch_id
            and _text(resource, "sub_mchid") == channel.sub_mch_id
        )
    return _text(resource, "mchid") == channel.mch_id


def read(channel: Channel, body: bytes, headers: Mapping[str, str], open_: Opener) -> Notice | None:
    """The callback, if WeChat Pay signed it and ``channel``'s APIv3 key opens it, about
    a trade of ``channel``'s merchant (``open_``: the channel's client's check and
    decryption, :meth:`~scanpay.networks.wechat.v3client.V3Client.callback`); None
    otherwise."""
    if not body or len(body) > _MAX_BODY:
        return None
    data = open_(headers, body)
    if data is None or data.get("resource_type") != "encrypt-resource":
        return None
    event = _text(data, "event_type") or ""
    resource = data["resource"]
    # Sub-merchants of one service provider share its key: the resource says whose it is.
    if not event.startswith(_EVENTS) or not _owned_by(resource, channel):
        return None
    trade_no = _text(resource, "out_trade_no")
    if trade_no is None:
        return None
    refund_no = _text(resource, "out_refund_no") if event.startswith("REFUND.") else None
    return Notice(trade_no, refund_no)
