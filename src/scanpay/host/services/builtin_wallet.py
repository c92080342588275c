"""The built-in wallet behind the network port.

Every issuer answers a pay in the port's terms (:class:`~scanpay.networks.port.PayAnswer`):
approved, declined with our result code and its own reason, or the customer still to
confirm (USER_PAYING). The built-in wallet differs from a remote network
(:mod:`~scanpay.host.services.network_legs`) in one way only: its accounts are the
host's own ledger, so it answers *inside the payment's transaction*. The code is
consumed, the money moves and the payment changes state in one commit; nothing is
ever in doubt, so no leg is journaled and nobody queries or reverses at a network.
Its customer confirms with the PIN on the wallet page
(:mod:`~scanpay.host.services.pin_waits`), as a WeChat Pay customer does with a
password on the phone; a reversal or a refund is the payment's own return posting,
the wallet being the capture's source account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from scanpay.codes import ConsumerPresentedCode, WalletCode
from scanpay.host.db.models import WalletAccount
from scanpay.host.services import risk, wallets
from scanpay.host.services.context import HostContext
from scanpay.networks.port import Channel, ChannelMode, Outcome, PayAnswer, PayRequest
from scanpay.protocol.result_codes import RESULT_CODES

__all__ = ["BUILTIN_NETWORK", "BuiltinWallet"]

BUILTIN_NETWORK = "scanpay"
"""The built-in wallet's name among the networks (a payment's ``wallet``)."""

_APPROVED = PayAnswer(Outcome.APPROVED, "00", RESULT_CODES["00"].message)
_PIN = PayAnswer(Outcome.USER_PAYING, "09", RESULT_CODES["09"].message)


class BuiltinWallet:
    """The built-in wallet as one payment's issuer, bound to the payment's transaction.

    Made for the code routing parsed (a built-in wallet code or an EMV code with
    the built-in AID); :attr:`account` is the account the code claims before it is
    checked (what the risk rules see, since they run before the issuer: a locked
    terminal tests no code), and after :meth:`pay` the account it names.
    """

    name = BUILTIN_NETWORK

    def __init__(
        self,
        ctx: HostContext,
        session: Session,
        code: WalletCode | ConsumerPresentedCode,
        *,
        merchant_id: str,
        terminal_id: str,
        training: bool,
    ) -> None:
        self._ctx, self._session, self._code = ctx, session, code
        self._terminal_id, self._training = terminal_id, training
        self.claimed = wallets.claimed_account(ctx, code)
        """The account number the code claims (unchecked), for the risk rules."""
        self.account: WalletAccount | None = wallets.load_claimed(session, self.claimed)
        # Every merchant takes the built-in wallet: its channel is implicit, no secrets.
        self.channel = Channel(
            network=BUILTIN_NETWORK, mode=ChannelMode.DIRECT, app_id="scanpay", mch_id=merchant_id
        )

    def pay(self, request: PayRequest) -> PayAnswer:
        """Check the code and consume it: approved (the caller's capture moves the
        money), the PIN to come, or declined with the reason as the network code.
        A code refused for being bad, used or old counts against the terminal."""
        answer = wallets.authorise_code(
            self._ctx,
            self._session,
            self._code,
            amount=request.amount,
            currency=request.currency,
            training=self._training,
            account=self.account,
        )
        self.account = answer.account  # None when the code names no account
        if answer.verdict is wallets.CodeVerdict.DECLINE:
            reason = answer.reason or ""
            if reason in wallets.CODE_FAILURES:
                risk.record_failure(self._ctx, self._session, "terminal", self._terminal_id, reason)
            return PayAnswer(
                Outcome.DECLINED, answer.code, RESULT_CODES[answer.code].message, reason
            )
        return _PIN if answer.verdict is wallets.CodeVerdict.PIN else _APPROVED

    def deadline(self, now: datetime) -> datetime:
        """When a payment waiting for this wallet's PIN fails."""
        return wallets.pin_deadline(self._ctx, now)
