"""Who decides a new payment: the risk rules first, then the code's issuer.

The code is parsed and routed by what it is: a payment network's code (WeChat
Pay's 18 digits, an EMV code by its AID...) goes to that network through the
merchant's channel, the call made after commit
(:mod:`~scanpay.host.services.network_legs`); a code of no network the merchant
has a channel for is declined (57, ``no_channel``); the built-in wallet's code is
decided here, in the payment's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from scanpay.codes import (
    CodeError,
    ConsumerPresentedCode,
    WalletCode,
    parse_payment_code,
)
from scanpay.codes.mask import mask_text
from scanpay.host.db.models import (
    Payment,
    WalletAccount,
)
from scanpay.host.domain.payment_state import (
    Authorised,
    Declined,
    Event,
    PinRequired,
)
from scanpay.host.domain.risk import Kind, RiskDecision, RiskOutcome
from scanpay.host.domain.wallet_codes import BUILTIN_AID
from scanpay.host.services import risk, wallets
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.payment_views import risk_reason
from scanpay.networks.port import Channel
from scanpay.protocol.models import (
    PaymentRequest,
)

__all__ = ["Decided", "authorise"]


@dataclass(frozen=True, slots=True)
class Decided:
    """What authorising a new payment decided: the state machine's event, the risk
    decision, the payer's built-in account, and the network channel it is routed to."""

    event: Event
    risk: RiskDecision | None = None
    payer: WalletAccount | None = None
    channel: Channel | None = None


def authorise(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    now: datetime,
) -> Decided:
    """Parse the code, ask the risk rules, then route it to its issuer: a payment
    network through the merchant's channel (the call is made after commit), or the
    built-in wallet.

    The risk rules run before the issuer looks at the code: a terminal locked
    for too many failed codes gets no code checked at all.
    """
    try:
        code = parse_payment_code(request.auth_code, wallet_rules=ctx.wallet_rules)
    except CodeError:
        row.reason, row.payer = "bad_code", mask_text(request.auth_code[:64])
        return Decided(Declined("14"))
    if not isinstance(code, WalletCode | ConsumerPresentedCode):
        row.reason, row.payer = "merchant_presented", None
        return Decided(Declined("14"))
    if isinstance(code, WalletCode):
        row.wallet, row.payer = code.wallet, mask_text(code.payload)
    else:
        row.wallet = "scanpay" if BUILTIN_AID in code.aids else code.scheme
        row.payer = mask_text(code.pan) if code.pan else None
    if row.wallet != "scanpay":
        return _route(ctx, session, mcc, auth, request, row, now)
    claimed = wallets.claimed_account(ctx, code)
    account = wallets.load_claimed(session, claimed)  # read once: risk rules and issuer
    claimed_pk = account.id if account is not None else None
    decision = _risk(ctx, session, mcc, auth, request, row, claimed_pk, claimed)
    if decision.outcome is RiskOutcome.DECLINE:
        return Decided(Declined(decision.code), decision, account)
    answer = wallets.authorise_code(
        ctx,
        session,
        code,
        amount=request.amount,
        currency=row.currency,
        training=request.training,
        account=account,
    )
    if answer.account is not None:
        row.wallet_account_id = answer.account.id
    if answer.verdict is wallets.CodeVerdict.DECLINE:
        row.reason = answer.reason
        if answer.reason in wallets.CODE_FAILURES:
            risk.record_failure(ctx, session, "terminal", auth.terminal_id, answer.reason or "")
        return Decided(Declined(answer.code), decision, answer.account)
    if answer.verdict is wallets.CodeVerdict.PIN:
        row.pin_deadline = wallets.pin_deadline(ctx, now)
        return Decided(PinRequired(), decision, answer.account)
    return Decided(Authorised(), decision, answer.account)


def _risk(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    wallet_pk: int | None,
    wallet: str | None,
) -> RiskDecision:
    """The risk rules' decision on a new payment (its flags and decline reason set)."""
    decision = risk.evaluate(
        ctx,
        session,
        kind=Kind.PAYMENT,
        merchant_pk=auth.merchant_pk,
        merchant_id=auth.merchant_id,
        mcc=mcc,
        amount=request.amount,
        currency=row.currency,
        training=request.training,
        terminal_pk=auth.terminal_pk,
        terminal_id=auth.terminal_id,
        wallet_pk=wallet_pk,
        wallet=wallet,
        exclude_payment=row.id,
    )
    row.risk_flags = decision.flags
    if decision.outcome is RiskOutcome.DECLINE:
        row.reason = risk_reason(decision)
    return decision


def _route(
    ctx: HostContext,
    session: Session,
    mcc: str,
    auth: TerminalIdentity,
    request: PaymentRequest,
    row: Payment,
    now: datetime,
) -> Decided:
    """A code another network issued: through the merchant's channel to that network,
    the payment waiting (USER_PAYING) while the network decides."""
    assert row.wallet is not None
    if request.training:
        # Training sales never reach a real network.
        row.reason = "training_mismatch"
        return Decided(Declined("57"))
    channel = channel_for(ctx, auth.merchant_pk, row.wallet, session=session)
    if channel is None:
        row.reason = "no_channel"
        return Decided(Declined("57"))
    decision = _risk(ctx, session, mcc, auth, request, row, None, None)
    if decision.outcome is RiskOutcome.DECLINE:
        return Decided(Declined(decision.code), decision)
    row.network = channel.network
    # What the terminal counts down to: the leg's own deadline from the pay call.
    row.pin_deadline = now + timedelta(seconds=ctx.leg_rules.deadline)
    return Decided(PinRequired(), decision, None, channel)
