"""UnionPay's ``backUrl`` notifications as the host's port reads them.

UnionPay POSTs a URL-encoded form when a consume, cancel or refund is done, signed as
its replies are (:mod:`.acp`), and sends it again until the receiver answers HTTP 200
(the body is not read: ``ok`` here). A notification is only a hint to the host, which
asks the network itself (:class:`~scanpay.networks.port.Notice`): here it is only
checked and its numbers read.

The host finds the payment by its trade number, the consume's ``orderId``. A consume's
notification names it; a cancel's or refund's names its own ``orderId`` and the
consume's ``queryId`` (``origQryId``): the trade is the consume this process
remembers under that queryId (``known``) and, when it remembers none, the
notification's own ``orderId`` (which names no payment: the host refuses it and
UnionPay sends it again, by when a query may have taught the adapter the queryId).
A refund's ``orderId`` is its refund number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from cryptography import x509

from scanpay.networks.port import Channel, Notice, NoticeReply
from scanpay.networks.unionpay.notify import Untrusted, read_notification

__all__ = ["NOTICE_REPLY", "claim", "read"]

NOTICE_REPLY = NoticeReply(accepted=b"ok", refused=b"failure")
_MAX_BODY = 32 << 10  # a signing certificate rides along
_RETURNS = ("31", "04")

Known = Callable[[str], Mapping[str, str]]
"""merId -> (queryId -> orderId) of the consumes the adapter remembers."""


def _form(body: bytes) -> dict[str, str] | None:
    if not body or len(body) > _MAX_BODY:
        return None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None  # a name given twice: not UnionPay's


def _trade_no(form: Mapping[str, str], known: Known) -> str | None:
    order_id = form.get("orderId") or None
    if order_id is None or form.get("txnType") not in ("01", *_RETURNS):
        return None
    orig = form.get("origQryId")
    if form["txnType"] in _RETURNS and orig:
        return known(form.get("merId", "")).get(orig, order_id)
    return order_id


def claim(body: bytes, known: Known) -> str | None:
    """The trade number a notification names, unverified."""
    form = _form(body)
    return None if form is None else _trade_no(form, known)


def read(
    channel: Channel,
    body: bytes,
    known: Known,
    *,
    root: x509.Certificate,
    middle: x509.Certificate,
    expected_cn: str,
) -> Notice | None:
    """The notification, if UnionPay signed it about ``channel``'s merchant; None
    otherwise."""
    form = _form(body)
    if form is None or form.get("merId") != channel.mch_id:
        return None
    try:
        notice = read_notification(form, root=root, middle=middle, expected_cn=expected_cn)
    except Untrusted:
        return None
    trade_no = _trade_no(form, known)
    if trade_no is None:
        return None
    return Notice(trade_no, notice.order_id if notice.txn_type == "04" else None)
