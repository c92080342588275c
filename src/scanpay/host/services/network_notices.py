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

A notification that names no trade in clear (WeChat Pay's callbacks: the merchant's
own key seals what they are about) comes to a URL of its merchant's,
``/networks/{network}/notify/{key}`` (:class:`~scanpay.networks.port.Notifying`):
the channel of that network whose merchant id is ``key`` verifies and opens it, and
the trade it names must be a payment of that channel's merchant. Another merchant's
key, an unknown one, or a trade of another merchant: refused, nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from scanpay.host.db.models import MerchantChannel, NetworkLeg, NetworkRefund, Payment, Refund
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import ChannelMode, Notice, NoticeReply, Notifying

__all__ = ["NoticeAnswer", "accept"]

log = logging.getLogger("scanpay.host.network_notices")

# A merchant id is one channel's in practice; a few more are tried, never a scan.
_MAX_KEYED = 5


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    """The HTTP answer the network expects: 200 with its word of acceptance, or 400
    with its word of refusal (404 for a network that sends none)."""

    status: int
    body: bytes
    media_type: str = "text/plain"


def accept(
    ctx: HostContext,
    network: str,
    body: bytes,
    headers: Mapping[str, str],
    key: str | None = None,
) -> NoticeAnswer:
    """Take one notification of ``network``, posted to its URL of merchant ``key`` when
    it names one (see the module docstring)."""
    try:
        adapter = ctx.network(network)
    except NetworkError:
        return NoticeAnswer(404, b"")
    if not isinstance(adapter, Notifying):
        return NoticeAnswer(404, b"")
    reply = adapter.notice_reply
    refused = NoticeAnswer(400, reply.refused, reply.media_type)
    trade_no = adapter.notice_claim(body, headers)
    if trade_no is None and key is not None:
        return _keyed(ctx, adapter, network, key, body, headers)
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
    return _taken(ctx, network, payment.id, notice, reply)


def _keyed(
    ctx: HostContext,
    adapter: Notifying,
    network: str,
    key: str,
    body: bytes,
    headers: Mapping[str, str],
) -> NoticeAnswer:
    """A notification posted to merchant ``key``'s URL, checked with that channel."""
    reply = adapter.notice_reply
    refused = NoticeAnswer(400, reply.refused, reply.media_type)
    with ctx.db.read() as session:
        owners = session.scalars(
            select(MerchantChannel.merchant_id)
            .where(
                MerchantChannel.network == network,
                or_(
                    and_(
                        MerchantChannel.mode == ChannelMode.DIRECT.value,
                        MerchantChannel.mch_id == key,
                    ),
                    and_(
                        MerchantChannel.mode == ChannelMode.SERVICE_PROVIDER.value,
                        MerchantChannel.sub_mch_id == key,
                    ),
                ),
            )
            .order_by(MerchantChannel.id)
            .limit(_MAX_KEYED)
        ).all()
        channels = [
            (owner, channel_for(ctx, owner, network, session=session, disabled=True))
            for owner in owners
        ]
    if not channels:
        log.warning("%s notification refused: no channel of merchant %s", network, key[:32])
        return refused
    for owner, channel in channels:
        # Verified outside any transaction: it may fetch the network's certificates.
        notice = None if channel is None else adapter.notice(channel, body, headers)
        if notice is None:
            continue
        with ctx.db.read() as session:
            payment_pk = session.scalar(
                select(Payment.id).where(
                    Payment.public_id == notice.trade_no[:32],
                    Payment.network == network,
                    Payment.merchant_id == owner,
                )
            )
        if payment_pk is None:
            log.warning(
                "%s notification of merchant %s refused: no payment %s of its here",
                network,
                key[:32],
                notice.trade_no[:32],
            )
            return refused
        return _taken(ctx, network, payment_pk, notice, reply)
    # Forged, tampered, or sealed with another merchant's key: nothing may change.
    log.warning("%s notification of merchant %s refused: it does not verify", network, key[:32])
    ctx.metrics.notice(network, "forged")
    return refused


def _taken(
    ctx: HostContext, network: str, payment_pk: int, notice: Notice, reply: NoticeReply
) -> NoticeAnswer:
    woken = _wake(ctx, payment_pk, notice.refund_no)
    log.info("%s notification for %s: %s made due", network, notice.trade_no, woken or "nothing")
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
