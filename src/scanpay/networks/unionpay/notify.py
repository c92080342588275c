"""The asynchronous result UnionPay POSTs to ``backUrl`` (a URL-encoded form), verified
and read (pure: the host's HTTP layer decodes the form and calls this).

The notification is signed like a reply (:mod:`.acp`): one that does not verify is
:class:`~scanpay.networks.unionpay.acp.Untrusted` and must be ignored (answer it
non-200 and UnionPay sends it again). A verified one is UnionPay's word on the
transaction ``orderId``: ``respCode`` 00 succeeded; the host still checks the amount
against its own order. UnionPay expects HTTP 200 once the host has taken it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from scanpay.networks.unionpay.acp import Untrusted, verify_fields
from scanpay.networks.unionpay.answers import amount_of, text_of

__all__ = ["BackNotice", "Untrusted", "read_notification"]


@dataclass(frozen=True, slots=True)
class BackNotice:
    """A verified ``backUrl`` notification."""

    mer_id: str
    order_id: str
    query_id: str
    resp_code: str
    txn_type: str
    """01 consume, 31 cancel, 04 refund."""
    amount: int
    """``txnAmt`` in fen."""
    txn_time: str
    """The transaction's ``txnTime`` (yyyyMMddHHmmss, Beijing) as the merchant sent it."""
    orig_query_id: str | None = None
    """For a cancel or refund: the consume's ``queryId``."""

    @property
    def succeeded(self) -> bool:
        return self.resp_code == "00"


def read_notification(
    fields: Mapping[str, str],
    *,
    root: x509.Certificate,
    middle: x509.Certificate,
    expected_cn: str,
    now: datetime | None = None,
) -> BackNotice:
    """The notification's facts once verified; :class:`Untrusted` when it does not
    verify or lacks one of them."""
    verify_fields(fields, root=root, middle=middle, expected_cn=expected_cn, now=now)
    names = ("merId", "orderId", "queryId", "respCode", "txnType", "txnTime")
    values = {name: text_of(fields, name) for name in names}
    amount = amount_of(fields)
    missing = [name for name, value in values.items() if value is None]
    if missing or amount is None:
        raise Untrusted(f"notification lacks {', '.join(missing) or 'txnAmt'}")
    return BackNotice(
        mer_id=values["merId"] or "",
        order_id=values["orderId"] or "",
        query_id=values["queryId"] or "",
        resp_code=values["respCode"] or "",
        txn_type=values["txnType"] or "",
        amount=amount,
        txn_time=values["txnTime"] or "",
        orig_query_id=text_of(fields, "origQryId"),
    )
