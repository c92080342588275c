"""The reconciliation breaks the host resolves by itself (issue 17), by the policy in
:mod:`scanpay.host.domain.break_policy`: reverse at the network what it charged for a
sale the host failed; query what the host captured or refunded and the statement
lacks. Each call is made outside any transaction, through the payment's own channel
(a disabled one too), with the trade's placing time; a break the network's answer
settles is resolved as an operator's would be, audited, by ``host:policy``. Nothing
else changes: what the policy cannot settle stays open for an operator.

Run by ``scanpay host reconcile policy`` and after each scheduled reconciliation.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from scanpay.host.db.models import NetworkLeg, NetworkRefund, Payment, Refund
from scanpay.host.domain.break_policy import (
    RESOLUTIONS,
    PolicyAction,
    action_for,
    after_query,
    after_refund_query,
    after_reverse,
)
from scanpay.host.services import audit
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.network_legs import placed_at
from scanpay.host.services.reconciliation_records import (
    BreakInfo,
    ReconciliationError,
    list_breaks,
    resolve_break,
)
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import Leg

__all__ = ["POLICY", "PolicyResult", "apply_policy"]

log = logging.getLogger("scanpay.host.break_policy")

#: Who resolves a break by the policy.
POLICY = audit.Actor("host", "policy")


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """What the policy did about one open break: its action, the network's word, and the
    resolution when that settled it (None: still open)."""

    break_id: int
    kind: str
    trade_no: str
    action: PolicyAction
    network_code: str | None = None
    resolution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action"] = self.action.value
        return data


def apply_policy(
    ctx: HostContext, *, day: date | None = None, network: str | None = None
) -> list[PolicyResult]:
    """Apply the policy to every open break (of ``day``, of ``network``)."""
    found = list_breaks(ctx, day=day, network=network, resolved=False, limit=10_000)
    return [_apply(ctx, item) for item in found]


def _apply(ctx: HostContext, item: BreakInfo) -> PolicyResult:
    with ctx.db.read() as session:
        payment = (
            session.scalar(select(Payment).where(Payment.public_id == item.payment_id))
            if item.payment_id is not None
            else None
        )
        action = action_for(item.kind, payment.status if payment is not None else None)
        done = PolicyResult(item.id, item.kind.value, item.trade_no, action)
        if action in (PolicyAction.WAIT, PolicyAction.OPERATOR) or payment is None:
            return done
        channel = channel_for(
            ctx, payment.merchant_id, item.network, session=session, disabled=True
        )
        leg = session.scalar(select(NetworkLeg.leg).where(NetworkLeg.payment_id == payment.id))
        placed = placed_at(Leg.from_dict(json.loads(leg))) if leg is not None else None
        asked = session.scalar(
            select(NetworkRefund.created_at)
            .join(Refund, Refund.id == NetworkRefund.refund_id)
            .where(Refund.public_id == (item.refund_no or "")[:32])
        )
    if channel is None:
        log.warning("break %s: no %s channel to ask through", item.id, item.network)
        return done
    adapter = ctx.network(item.network)
    code: str | None
    try:
        if action is PolicyAction.REVERSE:
            reversed_ = adapter.reverse(channel, item.trade_no, placed)
            resolution, code = after_reverse(reversed_.outcome), reversed_.network_code
        elif action is PolicyAction.QUERY:
            queried = adapter.query(channel, item.trade_no, placed)
            resolution, code = after_query(queried.state), queried.network_code
        else:
            refund = adapter.refund_query(channel, item.refund_no or "", item.trade_no, asked)
            resolution, code = after_refund_query(refund.status), refund.network_code
    except NetworkError as exc:  # a channel the adapter cannot use: nothing was sent
        log.error("break %s: %s refused the call: %s", item.id, item.network, exc.code)
        return done
    log.info("break %s (%s %s): %s -> %s", item.id, item.kind, item.trade_no, action, resolution)
    if resolution is None:
        return PolicyResult(item.id, item.kind.value, item.trade_no, action, code)
    text = RESOLUTIONS[resolution]
    try:
        resolve_break(ctx, item.id, f"{text.zh_cn} / {text.en}", POLICY)
    except ReconciliationError as exc:  # an operator resolved it meanwhile
        log.info("break %s: %s", item.id, exc.reason)
        return PolicyResult(item.id, item.kind.value, item.trade_no, action, code)
    return PolicyResult(item.id, item.kind.value, item.trade_no, action, code, resolution)
