"""Alipay's asynchronous notifications (``notify_url``, ``trade_status_sync``), read.

Alipay POSTs a form when a trade whose pay call named ``notify_url`` is paid, closed
or refunded, signed like its replies but over the sorted ``k=v`` parameters without
``sign`` and ``sign_type``, and sends it again (4 m, 10 m, ... for a day) until the
receiver answers the literal text ``success``. A notification is only a hint to the
host, which asks the network itself (:class:`~scanpay.networks.port.Notice`): here it
is only checked and its numbers read.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl

from scanpay.networks.port import Channel, Notice, NoticeReply

__all__ = ["NOTICE_REPLY", "claim", "read"]

NOTICE_REPLY = NoticeReply(accepted=b"success", refused=b"failure")
_MAX_BODY = 16 << 10
_NOT_SIGNED = ("sign", "sign_type")


def _form(body: bytes) -> dict[str, str] | None:
    if not body or len(body) > _MAX_BODY:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None  # a name given twice: not Alipay's


def claim(body: bytes) -> str | None:
    """The ``out_trade_no`` a notification names, unverified."""
    form = _form(body)
    if form is None or form.get("notify_type") != "trade_status_sync":
        return None
    return form.get("out_trade_no") or None


def read(channel: Channel, body: bytes, verify: Callable[[str, str], bool]) -> Notice | None:
    """The notification, if Alipay signed it for ``channel``'s app (``verify``: the
    channel's check of Alipay's signature over a text); None otherwise."""
    form = _form(body)
    if form is None or form.get("app_id") != channel.app_id:
        return None
    signature, trade_no = form.get("sign", ""), form.get("out_trade_no", "")
    if not signature or not trade_no or form.get("sign_type", "RSA2") != "RSA2":
        return None
    text = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k not in _NOT_SIGNED and v)
    if not verify(text, signature):
        return None
    # A refund's notification carries its request number (``out_biz_no``).
    return Notice(trade_no, form.get("out_biz_no") or None)
