"""The payment networks' asynchronous notifications, taken as hints (issue 17).

Alipay posts to ``notify_url`` (WeChat Pay to a callback URL, UnionPay to ``backUrl``)
when a trade is paid, closed or refunded, and posts again until it is answered as it
expects. The host does not take a notification's word for anything: it checks that
the network signed it for the channel of the payment it names, then makes that
payment's leg (and the named refund's call) due *now*, so the sweeper asks the
network at once instead of at its next scheduled query. What changes the payment is
the query's answer, through the leg's rules, as always. So:

- a notification late, twice or out of order changes nothing a query would not
  (a settled leg is not asked again);
- a forged or tampered one, one of another channel, or one naming no payment of this
  network changes nothing and is refused (the network sends a real one again);
- it is answered only once its hint is journaled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update

from scanpay.host.db.models import NetworkLeg, NetworkRefund, Payment, Refund
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Notifying

__all__ = ["NoticeAnswer", "accept"]

log = logging.getLogger("scanpay.host.network_notices")


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    """The HTTP answer the network expects: 200 with its word of acceptance, or 400
    with its word of refusal (404 for a network that sends none)."""

    status: int
    body: bytes
    media_type: str = "text/plain"


def accept(ctx: HostContext, network: str, body: bytes, headers: Mapping[str, str]) -> NoticeAnswer:
    """Take one notification of ``network`` (see the module docstring)."""
    try:
        adapter = ctx.network(network)
    except NetworkError:
        return NoticeAnswer(404, b"")
    if not isinstance(adapter, Notifying):
        return NoticeAnswer(404, b"")
    reply = adapter.notice_reply
    refused = NoticeAnswer(400, reply.refused, reply.media_type)
    trade_no = adapter.notice_claim(body, headers)
    if trade_no is None:
        log.warning("%s notification refused: not one of its notifications", network)
        return refused
    with ctx.db.read() as session:
        payment = session.scalar(
            select(Payment).where(Payment.public_id == trade_no[:32], Payment.network == network)
        )
        channel = (
            channel_for(ctx, payment.merchant_id, network, session=session, disabled=True)
            if payment is not None
            else None
        )
    if payment is None or channel is None:
        log.warning("%s notification refused: no payment %s here", network, trade_no[:32])
        return refused
    notice = adapter.notice(channel, body, headers)
    if notice is None or notice.trade_no != trade_no:
        # Forged, tampered, or signed for another channel: nothing may change.
        log.warning("%s notification for %s refused: it does not verify", network, trade_no)
        ctx.metrics.notice(network, "forged")
        return refused
    woken = _wake(ctx, payment.id, notice.refund_no)
    log.info("%s notification for %s: %s made due", network, trade_no, woken or "nothing")
    ctx.metrics.notice(network, "accepted")
    return NoticeAnswer(200, reply.accepted, reply.media_type)


def _wake(ctx: HostContext, payment_pk: int, refund_no: str | None) -> str:
    """Make the payment's unsettled leg, and the named refund's unsettled call, due now;
    what was made due, in words for the log."""
    now = ctx.now()
    woken = []
    with ctx.db.write() as session:
        legs = session.execute(
            update(NetworkLeg)
            .where(
                NetworkLeg.payment_id == payment_pk,
                NetworkLeg.next_at.is_not(None),
                NetworkLeg.next_at > now,
            )
            .values(next_at=now)
        )
        if getattr(legs, "rowcount", 0):
            woken.append("the leg")
        if refund_no is not None:
            refund_pk = select(Refund.id).where(
                Refund.payment_id == payment_pk, Refund.public_id == refund_no[:32]
            )
            refunds = session.execute(
                update(NetworkRefund)
                .where(
                    NetworkRefund.refund_id.in_(refund_pk),
                    NetworkRefund.next_at.is_not(None),
                    NetworkRefund.next_at > now,
                )
                .values(next_at=now)
            )
            if getattr(refunds, "rowcount", 0):
                woken.append(f"refund {refund_no[:32]}")
    return ", ".join(woken)
