"""The network port: the one interface every payment network's adapter implements.

The host routes a scanned code to the network that issued it (WeChat Pay,
Alipay, UnionPay, the built-in wallet) through :class:`Network`. An adapter
speaks its network's protocol; what crosses the port is network-neutral: a
:class:`PayRequest` in, a :class:`PayAnswer` out, and so on.

Two rules every adapter keeps:

- **Network trouble is an answer, never an exception.** A timeout, a reset, a
  5xx, a reply that is unsigned, badly signed or unreadable is an ``UNKNOWN``
  answer (``Outcome.UNKNOWN``, ``TradeState.UNKNOWN``,
  ``ReverseOutcome.UNKNOWN``, ``RefundStatus.UNKNOWN``): nobody may read a lost
  reply as a decline, since the network may have charged the customer.
- **Configuration trouble is an exception**: a :class:`NetworkError` with a
  stable ``code`` and the ``field`` it is about (a channel without its merchant
  id, a secret the adapter needs and the channel lacks, a trade number the
  network cannot take). Nothing was sent when one is raised.

Secrets never leave the port in text: :class:`Channel` hides them from
``repr`` and :class:`PayRequest` masks the payment code (``scanpay.codes.mask``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from scanpay.codes.mask import mask_text
from scanpay.i18n import Text
from scanpay.money import MoneyError, get_currency
from scanpay.networks.errors import NetworkError
from scanpay.protocol.result_codes import RESULT_CODES

__all__ = [
    "Channel",
    "ChannelMode",
    "Network",
    "Notice",
    "NoticeReply",
    "Notifying",
    "Outcome",
    "PayAnswer",
    "PayRequest",
    "QueryAnswer",
    "RefundAnswer",
    "RefundRequest",
    "RefundStatus",
    "ReverseAnswer",
    "ReverseOutcome",
    "Statement",
    "StatementKind",
    "StatementLine",
    "TradeState",
]

_NETWORK_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# WeChat Pay's out_trade_no alphabet and length, the tightest of the networks
# (Alipay takes 64): one trade number then fits every network.
_TRADE_NO = re.compile(r"[A-Za-z0-9_\-|*]{1,32}")
_REFUND_NO = re.compile(r"[A-Za-z0-9_\-|*@]{1,64}")


def _check_trade_no(value: str, name: str = "trade_no") -> None:
    if not isinstance(value, str) or not _TRADE_NO.fullmatch(value):
        raise NetworkError("bad_trade_no", field=name)


def _check_amount(value: int, name: str = "amount") -> None:
    # bool is an int in Python; True is not one fen.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise NetworkError("bad_amount", field=name)


def _check_instant(value: datetime | None, name: str) -> None:
    # A naive time would be read in the machine's zone: another date at the network.
    if value is not None and value.utcoffset() is None:
        raise NetworkError("bad_time", field=name)


def _check_currency(value: str) -> None:
    try:
        known = get_currency(value).alpha
    except MoneyError:
        known = None
    if known != value:
        raise NetworkError("bad_currency", field="currency")


class ChannelMode(StrEnum):
    """Who holds the network account."""

    SERVICE_PROVIDER = "service_provider"
    """The acquirer holds the account; the merchant is its sub-merchant (``sub_mch_id``)."""
    DIRECT = "direct"
    """The merchant holds its own account; the acquirer only drives it."""


@dataclass(frozen=True, slots=True, repr=False)
class Channel:
    """One merchant's way into one network: accounts in the clear, secrets sealed off.

    ``secrets`` is opaque to the port (API keys, private keys, certificate
    serials, the network's public key...): only the adapter knows which names
    it needs, and raises ``channel_secret_missing`` naming the one it lacks.
    The mapping is copied and read-only, and ``repr`` shows its names only. It
    counts in equality (a rotated key makes another channel, so nothing cached
    for the old one is reused) but not in the hash.
    """

    network: str
    mode: ChannelMode
    app_id: str
    mch_id: str
    sub_mch_id: str | None = None
    sub_app_id: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _NETWORK_NAME.fullmatch(self.network):
            raise NetworkError("bad_network_name", field="network")
        try:
            object.__setattr__(self, "mode", ChannelMode(self.mode))
        except ValueError:
            raise NetworkError("channel_mode", field="mode") from None
        for name in ("app_id", "mch_id"):
            if not getattr(self, name):
                raise NetworkError("channel_incomplete", field=name)
        if self.mode is ChannelMode.SERVICE_PROVIDER and not self.sub_mch_id:
            raise NetworkError("channel_incomplete", field="sub_mch_id")
        if self.mode is ChannelMode.DIRECT and (self.sub_mch_id or self.sub_app_id):
            # A sub-merchant id on a direct channel means the mode was set wrong:
            # the payment would be booked to the wrong account.
            raise NetworkError("channel_mode", field="mode")
        object.__setattr__(self, "secrets", MappingProxyType(dict(self.secrets)))

    def __repr__(self) -> str:
        hidden = ", ".join(sorted(self.secrets))
        return (
            f"Channel(network={self.network!r}, mode={self.mode.value!r}, "
            f"app_id={self.app_id!r}, mch_id={self.mch_id!r}, "
            f"sub_mch_id={self.sub_mch_id!r}, sub_app_id={self.sub_app_id!r}, "
            f"secrets=<hidden: {hidden}>)"
        )

    def secret(self, name: str) -> str:
        """The secret ``name``; ``channel_secret_missing`` (field ``name``) when absent."""
        value = self.secrets.get(name)
        if not value:
            raise NetworkError("channel_secret_missing", field=name)
        return value


@dataclass(frozen=True, slots=True, repr=False)
class PayRequest:
    """Charge the customer's payment code (B scans C) once, under ``trade_no``.

    ``trade_no`` is the network's ``out_trade_no``: a retry of this request
    reuses it, a new code (a rescan) always gets a new one. ``auth_code`` is a
    bearer credential: ``repr`` masks it, and it must never be stored or logged.
    """

    channel: Channel
    trade_no: str
    auth_code: str
    amount: int
    """Integer minor units (fen for CNY)."""
    currency: str
    """ISO 4217 alphabetic code, upper case ("CNY")."""
    description: str
    device_ip: str | None = None
    store_id: str | None = None
    placed_at: datetime | None = None
    """When the trade was placed (its leg first sent). Networks that find a trade by its
    number *and* its date (UnionPay's ``txnTime``) need it; the host always gives it,
    and the same instant to every later call about the trade (``query``, ``reverse``)."""

    def __post_init__(self) -> None:
        _check_trade_no(self.trade_no)
        if not self.auth_code or any(c.isspace() for c in self.auth_code):
            raise NetworkError("bad_auth_code", field="auth_code")
        _check_amount(self.amount)
        _check_currency(self.currency)
        if not self.description.strip():
            raise NetworkError("bad_description", field="description")
        _check_instant(self.placed_at, "placed_at")

    def __repr__(self) -> str:
        return (
            f"PayRequest(network={self.channel.network!r}, trade_no={self.trade_no!r}, "
            f"auth_code={mask_text(self.auth_code)!r}, amount={self.amount}, "
            f"currency={self.currency!r})"
        )


class Outcome(StrEnum):
    """What a pay call decided."""

    APPROVED = "APPROVED"
    """Charged: the money moved."""
    DECLINED = "DECLINED"
    """A final no from the network: nothing moved, and nothing will under this trade number."""
    USER_PAYING = "USER_PAYING"
    """The customer must confirm on their phone (password): query until the deadline."""
    UNKNOWN = "UNKNOWN"
    """No answer, or an answer that does not settle it (SYSTEMERROR): query, then reverse."""


# What an answer's result code may be for each outcome: an approval is only ever "00",
# and a decline is never a code that tells the terminal to wait or to query.
_OUTCOME_CODES: dict[Outcome, frozenset[str]] = {
    Outcome.APPROVED: frozenset({"00"}),
    Outcome.USER_PAYING: frozenset({"09"}),
    Outcome.UNKNOWN: frozenset({"91", "96"}),
    Outcome.DECLINED: frozenset(RESULT_CODES) - {"00", "09", "91", "94", "96"},
}


@dataclass(frozen=True, slots=True)
class PayAnswer:
    """The network's word on a pay call, in our terms and its own.

    ``result_code`` is the host's two-digit code (``scanpay.protocol.result_codes``),
    ``network_code`` the network's (``NOTENOUGH``, ``USERPAYING``, ``SYSTEMERROR``;
    ``None`` when nothing came back), ``message`` what the cashier reads.
    """

    outcome: Outcome
    result_code: str
    message: Text
    network_code: str | None = None
    transaction_id: str | None = None
    """The network's own id of the charge, when it named one."""

    def __post_init__(self) -> None:
        if self.result_code not in _OUTCOME_CODES[self.outcome]:
            raise NetworkError("bad_answer", field="result_code")

    @classmethod
    def unknown(cls, network_code: str | None = None, message: Text | None = None) -> PayAnswer:
        """No answer, or one that does not settle the payment (code 91)."""
        return cls(Outcome.UNKNOWN, "91", message or RESULT_CODES["91"].message, network_code)


class TradeState(StrEnum):
    """A trade as a query finds it at the network."""

    PAID = "PAID"
    NOT_PAID = "NOT_PAID"
    """The order exists and is not paid yet; it still can be (WeChat ``NOTPAY``)."""
    USER_PAYING = "USER_PAYING"
    CLOSED = "CLOSED"
    REVERSED = "REVERSED"
    REFUNDED = "REFUNDED"
    """Paid, then (partly) refunded."""
    PAY_ERROR = "PAY_ERROR"
    """The payment failed (the customer closed the password dialog, the bank refused)."""
    NOT_FOUND = "NOT_FOUND"
    """No such trade (yet: a pay call may still be on its way)."""
    UNKNOWN = "UNKNOWN"
    """No answer, or an unreadable one."""


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    """A trade's state at the network; amount and transaction id when it named them."""

    state: TradeState
    network_code: str | None = None
    transaction_id: str | None = None
    amount: int | None = None
    message: Text | None = None

    @classmethod
    def unknown(cls, network_code: str | None = None) -> QueryAnswer:
        """No answer to the query."""
        return cls(TradeState.UNKNOWN, network_code)


class ReverseOutcome(StrEnum):
    """What a reverse (撤销 / cancel) call did."""

    DONE = "DONE"
    """Reversed: the order is closed, and refunded if it had been paid."""
    AGAIN = "AGAIN"
    """The network asks to call reverse again (WeChat ``recall=Y``, Alipay ``retry_flag=Y``)."""
    REFUSED = "REFUSED"
    """A definite error (too old to reverse, bad signature...): nothing was reversed."""
    UNKNOWN = "UNKNOWN"
    """No answer: the reverse may or may not have happened; call it again (it is idempotent)."""


@dataclass(frozen=True, slots=True)
class ReverseAnswer:
    """The network's word on a reverse call."""

    outcome: ReverseOutcome
    network_code: str | None = None
    message: Text | None = None

    @property
    def done(self) -> bool:
        return self.outcome is ReverseOutcome.DONE

    @property
    def again(self) -> bool:
        return self.outcome is ReverseOutcome.AGAIN

    @property
    def unknown(self) -> bool:
        return self.outcome is ReverseOutcome.UNKNOWN


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Refund ``amount`` of the paid trade ``trade_no`` (of ``total``) under ``refund_no``.

    ``refund_no`` is the refund's idempotency key at the network: a retry reuses
    it, each further partial refund gets a new one.
    """

    channel: Channel
    trade_no: str
    refund_no: str
    amount: int
    total: int
    """The original payment's amount (WeChat wants it with every refund)."""
    currency: str
    reason: str | None = None
    placed_at: datetime | None = None
    """When this refund was first asked (the same for every call about it)."""
    trade_placed_at: datetime | None = None
    """When the refunded trade was placed (:attr:`PayRequest.placed_at`)."""

    def __post_init__(self) -> None:
        _check_trade_no(self.trade_no)
        if not isinstance(self.refund_no, str) or not _REFUND_NO.fullmatch(self.refund_no):
            raise NetworkError("bad_refund_no", field="refund_no")
        _check_amount(self.total, "total")
        _check_amount(self.amount)
        if self.amount > self.total:
            raise NetworkError("bad_amount", field="amount")
        _check_currency(self.currency)
        _check_instant(self.placed_at, "placed_at")
        _check_instant(self.trade_placed_at, "trade_placed_at")


class RefundStatus(StrEnum):
    SUCCESS = "SUCCESS"
    PROCESSING = "PROCESSING"
    """Accepted, not yet paid back: ask again later with the same refund number."""
    FAILED = "FAILED"
    """A definite no: nothing was refunded under this refund number."""
    UNKNOWN = "UNKNOWN"
    """No answer: ask again (refund query, or the same refund request)."""


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    """The network's word on a refund or a refund query."""

    status: RefundStatus
    refund_no: str
    network_code: str | None = None
    refund_id: str | None = None
    """The network's own id of the refund."""
    amount: int | None = None
    message: Text | None = None


class StatementKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of the network's statement of a day (its bill)."""

    trade_no: str
    transaction_id: str
    kind: StatementKind
    amount: int
    """Minor units, positive for both kinds (``kind`` says which way it went)."""
    currency: str
    status: str
    """The network's own status word for the line (``SUCCESS``, ``REVOKED``, ``REFUND``...)."""
    time: datetime
    """When the network booked it (timezone-aware)."""
    refund_no: str | None = None
    fee: int | None = None
    """What the network charged for the line, minor units: positive on a payment, negative
    when a refund gives some back; None when the statement does not say."""


@dataclass(frozen=True, slots=True)
class Statement:
    """A day's statement; ``ready`` is false while the network has none to give
    (not yet published, or no answer), and then ``lines`` is empty."""

    day: date
    ready: bool
    lines: Sequence[StatementLine] = ()
    network_code: str | None = None


@runtime_checkable
class Network(Protocol):
    """A payment network, as the host sees it. Every call is synchronous and
    returns within the adapter's own timeout; none raises for network trouble
    (a timeout or a lost reply is an ``UNKNOWN`` answer), only
    :class:`NetworkError` for a configuration it cannot use."""

    @property
    def name(self) -> str:
        """The network's name, as in :attr:`Channel.network` (``wechat_pay``)."""
        ...

    def pay(self, request: PayRequest) -> PayAnswer:
        """Charge the customer's code. Must be called at most once per trade number
        with a given code; the leg (``scanpay.networks.leg``) decides what follows."""
        ...

    def query(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> QueryAnswer:
        """The trade's state at the network (``NOT_FOUND`` when it has none)."""
        ...

    def reverse(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> ReverseAnswer:
        """Close the trade, refunding it if it was paid. Idempotent; the leg calls it
        no sooner than the network allows (WeChat: 15 s after the pay call)."""
        ...

    def refund(self, request: RefundRequest) -> RefundAnswer:
        """Refund part or all of a paid trade (idempotent on ``refund_no``)."""
        ...

    def refund_query(
        self,
        channel: Channel,
        refund_no: str,
        trade_no: str | None = None,
        placed_at: datetime | None = None,
    ) -> RefundAnswer:
        """A refund's state at the network. ``trade_no``: the refunded trade's number,
        which some networks (Alipay) find a refund by; ``placed_at``: when the refund was
        first asked (:attr:`RefundRequest.placed_at`); the host always gives both."""
        ...

    def statement(self, channel: Channel, day: date) -> Statement:
        """The network's statement of ``day`` (in the network's time zone)."""
        ...


@dataclass(frozen=True, slots=True)
class Notice:
    """What a network's asynchronous notification is about: a trade, and the refund when
    it is about one. Only a hint: the host asks the network (query, refund query) and
    acts on that answer, so a notification late, twice or out of order changes nothing
    a query would not."""

    trade_no: str
    refund_no: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeReply:
    """What the network expects back: ``accepted`` when the notification was taken (it
    stops sending it), ``refused`` otherwise (it sends it again later)."""

    accepted: bytes
    refused: bytes
    media_type: str = "text/plain"


@runtime_checkable
class Notifying(Protocol):
    """A network that sends notifications (Alipay's ``notify_url``, WeChat Pay's
    callbacks, UnionPay's ``backUrl``), as the host reads them: first which trade one
    claims to be about (unverified: it says which channel's keys verify it), then the
    notification verified with that channel's keys.

    A network whose notifications name nothing in clear (WeChat Pay's, sealed with the
    merchant's own key) is given one URL per merchant instead: the adapter sends its
    ``notify_url`` followed by ``/`` and the channel's merchant id (``sub_mch_id`` for
    a service provider's channel, else ``mch_id``), and its :meth:`notice_claim`
    answers None. The host then takes the channel whose merchant id is that last path
    segment (``POST /networks/{network}/notify/{key}``), verifies with it, and acts
    only if the trade named is a payment of that channel's merchant."""

    @property
    def notice_reply(self) -> NoticeReply:
        """The answers the network expects."""
        ...

    def notice_claim(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """The trade number the notification names, unverified; None when it names none
        in clear (the URL's key names the channel then) or is not one of this
        network's notifications."""
        ...

    def notice(self, channel: Channel, body: bytes, headers: Mapping[str, str]) -> Notice | None:
        """The notification verified with ``channel``'s keys; None when it does not verify
        (forged, tampered, another channel's): it must change nothing."""
        ...
