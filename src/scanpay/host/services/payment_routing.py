"""Who decides a new payment: the risk rules first, then the code's issuer.

The code is parsed and routed by what it is, every issuer behind the network port
and answering a pay the same way (:class:`~scanpay.networks.port.PayAnswer`): a
WeChat Pay code (18 digits, 10–15), an EMV code by its AID... goes to its network
through the merchant's channel; the built-in wallet's code to the built-in wallet
(:mod:`~scanpay.host.services.builtin_wallet`). A code of a network the merchant
has no channel for is declined (57, ``no_channel``).

Issuers differ only in *when* they answer. The built-in wallet answers inside the
payment's transaction (its accounts are the host's own ledger). A remote network
is called after commit: here its leg is journaled as sent and the payment waits
USER_PAYING; :mod:`~scanpay.host.services.network_legs` makes the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from scanpay.codes import (
    CodeError,
    ConsumerPresentedCode,
    WalletCode,
    parse_payment_code,
)
from scanpay.codes.mask import mask_text
from scanpay.host.db.models import Payment, WalletAccount
from scanpay.host.domain.payment_state import (
    Authorised,
    Declined,
    Event,
    PinRequired,
)
from scanpay.host.domain.risk import Kind, RiskDecision, RiskOutcome
from scanpay.host.domain.wallet_codes import BUILTIN_AID
from scanpay.host.services import network_legs, risk
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.builtin_wallet import BUILTIN_NETWORK, BuiltinWallet
from scanpay.host.services.channels import channel_for
from scanpay.host.services.context import HostContext
from scanpay.host.services.payment_views import risk_reason
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Channel, Outcome, PayAnswer, PayRequest
from scanpay.protocol.models import PaymentRequest
from scanpay.protocol.result_codes import RESULT_CODES

__all__ = ["Decided", "NewPayment", "authorise"]

# A wallet whose codes a network of another name takes: UnionPay's C2B codes
# (QuickPass, 62 + 17 digits) go through the merchant's channel at "unionpay".
_NETWORK_OF_WALLET = {"unionpay_quickpass": "unionpay"}


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A payment request being decided, with what routing needs to know around it."""

    auth: TerminalIdentity
    request: PaymentRequest
    mcc: str
    merchant_name: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Decided:
    """What authorising a new payment decided: the state machine's event, the risk
    decision, the payer's account at the host (when the host is the issuer), and —
    for a network called after commit — its journaled leg and the call to make."""

    event: Event
    risk: RiskDecision | None = None
    payer: WalletAccount | None = None
    leg_pk: int | None = None
    call: PayRequest | None = None


class _Issuer(Protocol):
    """One payment's issuer, as routing drives it (bound to the payment's transaction)."""

    @property
    def channel(self) -> Channel: ...

    @property
    def account(self) -> WalletAccount | None: ...

    @property
    def claimed(self) -> str | None: ...

    def pay(self, request: PayRequest) -> PayAnswer: ...

    def deadline(self, now: datetime) -> datetime: ...


class _RemoteNetwork:
    """A network reached over the wire: :meth:`pay` journals the leg as sent and
    answers USER_PAYING; the call itself is made after commit, outside any
    transaction (:func:`network_legs.pay`)."""

    account: WalletAccount | None = None
    claimed: str | None = None

    def __init__(
        self, ctx: HostContext, session: Session, channel: Channel, row: Payment, now: datetime
    ) -> None:
        self._ctx, self._session, self.channel = ctx, session, channel
        self._row, self._now = row, now
        self.leg_pk: int | None = None

    def pay(self, request: PayRequest) -> PayAnswer:
        row = self._row
        row.network = self.channel.network
        # Journaled before the call: a crash from here on leaves a leg to recover.
        self.leg_pk = network_legs.open_leg(self._ctx, self._session, row, self._now)
        return PayAnswer(Outcome.USER_PAYING, "09", RESULT_CODES["09"].message)

    def deadline(self, now: datetime) -> datetime:
        # What the terminal counts down to: the leg's own deadline from the pay call.
        return now + timedelta(seconds=self._ctx.leg_rules.deadline)


def authorise(ctx: HostContext, session: Session, sale: NewPayment, row: Payment) -> Decided:
    """Parse the code, find its issuer, ask the risk rules, then the issuer.

    The risk rules run before the issuer looks at the code: a terminal locked
    for too many failed codes gets no code checked at all.
    """
    request = sale.request
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
        row.wallet = BUILTIN_NETWORK if BUILTIN_AID in code.aids else code.scheme
        row.payer = mask_text(code.pan) if code.pan else None
    issuer = _issuer(ctx, session, sale, row, code)
    if isinstance(issuer, Decided):
        return issuer
    decision = _risk(ctx, session, sale, row, issuer)
    if decision.outcome is RiskOutcome.DECLINE:
        return Decided(Declined(decision.code), decision, issuer.account)
    try:
        call = PayRequest(
            channel=issuer.channel,
            trade_no=row.public_id,
            auth_code=request.auth_code,
            amount=row.amount,
            currency=row.currency,
            description=((request.description or "").strip() or sale.merchant_name)[:127],
            placed_at=sale.now,  # the instant the leg is journaled as sent
        )
    except NetworkError:  # a code no network could take (spaces in it...): nothing sent
        row.reason = "bad_code"
        return Decided(Declined("14"), decision)
    answer = issuer.pay(call)
    payer = issuer.account
    row.wallet_account_id = payer.id if payer is not None else None
    event: Event
    if answer.outcome is Outcome.DECLINED:
        row.reason = answer.network_code
        event = Declined(answer.result_code)
    elif answer.outcome is Outcome.USER_PAYING:
        row.pin_deadline = issuer.deadline(sale.now)
        event = PinRequired()
    else:
        # An issuer answering in the transaction has the final word: approved or not.
        assert answer.outcome is Outcome.APPROVED, answer.outcome
        event = Authorised()
    if isinstance(issuer, _RemoteNetwork):
        return Decided(event, decision, payer, issuer.leg_pk, call)
    return Decided(event, decision, payer)


def _issuer(
    ctx: HostContext,
    session: Session,
    sale: NewPayment,
    row: Payment,
    code: WalletCode | ConsumerPresentedCode,
) -> _Issuer | Decided:
    """The code's issuer, or the decline of a code no issuer of this merchant takes."""
    auth = sale.auth
    if row.wallet == BUILTIN_NETWORK:
        return BuiltinWallet(
            ctx,
            session,
            code,
            merchant_id=auth.merchant_id,
            terminal_id=auth.terminal_id,
            training=sale.request.training,
        )
    assert row.wallet is not None
    if sale.request.training:
        # Training sales never reach a real network.
        row.reason = "training_mismatch"
        return Decided(Declined("57"))
    network = _NETWORK_OF_WALLET.get(row.wallet, row.wallet)
    channel = channel_for(ctx, auth.merchant_pk, network, session=session)
    if channel is None:
        row.reason = "no_channel"
        return Decided(Declined("57"))
    return _RemoteNetwork(ctx, session, channel, row, sale.now)


def _risk(
    ctx: HostContext, session: Session, sale: NewPayment, row: Payment, issuer: _Issuer
) -> RiskDecision:
    """The risk rules' decision on a new payment (its flags and decline reason set)."""
    auth, request, account = sale.auth, sale.request, issuer.account
    decision = risk.evaluate(
        ctx,
        session,
        kind=Kind.PAYMENT,
        merchant_pk=auth.merchant_pk,
        merchant_id=auth.merchant_id,
        mcc=sale.mcc,
        amount=request.amount,
        currency=row.currency,
        training=request.training,
        terminal_pk=auth.terminal_pk,
        terminal_id=auth.terminal_id,
        wallet_pk=account.id if account is not None else None,
        wallet=issuer.claimed,
        exclude_payment=row.id,
    )
    row.risk_flags = decision.flags
    if decision.outcome is RiskOutcome.DECLINE:
        row.reason = risk_reason(decision)
    return decision
