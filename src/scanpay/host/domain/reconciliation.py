"""Daily reconciliation: the host's trades of a day against a network's statement. Pure.

The service (:mod:`scanpay.host.services.reconciliation`) reads the host's trades
and fetches the network's statement (:class:`~scanpay.networks.port.Statement`);
:func:`match` pairs them one to one and names every difference as a :class:`Break`
of a stable :class:`BreakKind`. No I/O and no clock: the same input gives the same
result, whatever the order of the lines.

**Keys.** A payment is matched by its trade number (the host's payment id, ``P…``,
the network's ``out_trade_no``), a refund by its trade number and refund number.

**The network's side of a trade**, from its lines:

- *charged*: a payment line whose status is ``SUCCESS``;
- *reversed*: a payment line ``REVOKED`` or ``CLOSED`` (WeChat Pay's words for a
  trade reversed or closed), or the refund a reverse makes, told from a refund anyone
  asked for by its refund number: ``REVERSE`` and the transaction id (how the WeChat
  Pay simulator's bill writes it, ``docs/networks.md``). A charge and its reversal
  together hold nothing, and neither does a reversal on its own (its charge was on an
  earlier day's statement);
- *refunded*: every other refund line, one per refund number.

A payment line with another status is an ``unknown_status`` break of its own, and
used for nothing else. A second line for the same charge, reversal or refund is a
``duplicate_line`` break: it is never a second match.

**The host's side** is a :class:`HostTrade` per payment: *captured* (the host holds
the money: SUCCESS, or refunded since) or not (failed, waiting, reversed), and
``on_day``: the host captured it on the statement's day, so a line is expected.
Trades that are not ``on_day`` are there because a line names them: they are
compared with it, never missed.

**Kinds** (:class:`BreakKind`):

- ``network_only``: the network holds the money (charged, not reversed) and the host
  has no such payment, or has it failed, waiting or reversed;
- ``host_only``: the host captured it on the day, and the network has no line for
  it, or has it reversed;
- ``amount_mismatch``, ``currency_mismatch``: charged and captured, but not the same;
- ``refund_network_only``: a refund line the host has no refund for (one made at the
  network's merchant platform, say);
- ``refund_host_only``: a refund the host made that day, with no line;
- ``refund_amount_mismatch``: a refund on both sides, its amount or currency not the same;
- ``duplicate_line``: a line seen already (the same charge, reversal or refund again);
- ``unknown_status``: a payment line whose status is none of the above.

A trade the host does not know that the network reversed holds nothing and is no
break. A trade reversed at the network and failed or reversed at the host is a match.

**Midnight.** A sale the host captured just after midnight may have been booked by
the network just before it, on the previous day's statement. ``earlier``: the
previous day's lines; a host trade missing today that is charged there is no break
today (it was matched on that day, where the line is). The service passes them for
trades created before the day began. A sale reversed across midnight (charged on
one day, its reversal on the next) is a ``network_only`` break on its first day.

Money is integer minor units throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from scanpay.host.domain.reconciliation_detail import Detail, DetailCode
from scanpay.i18n import Text
from scanpay.networks.port import StatementKind, StatementLine

__all__ = [
    "KIND_TEXTS",
    "PAID_STATUSES",
    "REVERSAL_PREFIX",
    "REVERSED_STATUSES",
    "Break",
    "BreakKind",
    "HostRefund",
    "HostTrade",
    "Result",
    "is_reversal",
    "match",
]

#: A payment line's status saying the customer was charged.
PAID_STATUSES = frozenset({"SUCCESS"})
#: A payment line's status saying the trade was reversed or closed: nothing is held.
REVERSED_STATUSES = frozenset({"REVOKED", "CLOSED"})
#: The refund number of the refund a reverse makes: this, then the transaction id.
REVERSAL_PREFIX = "REVERSE"


class BreakKind(StrEnum):
    """What a break is; the values are stable (stored, shown, filtered on)."""

    NETWORK_ONLY = "network_only"
    HOST_ONLY = "host_only"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    REFUND_NETWORK_ONLY = "refund_network_only"
    REFUND_HOST_ONLY = "refund_host_only"
    REFUND_AMOUNT_MISMATCH = "refund_amount_mismatch"
    DUPLICATE_LINE = "duplicate_line"
    UNKNOWN_STATUS = "unknown_status"


#: Each kind in words, for the operator's screens.
KIND_TEXTS: Mapping[BreakKind, Text] = MappingProxyType(
    {
        BreakKind.NETWORK_ONLY: Text(
            "网络已扣款，本机构未收款", "charged at the network, not captured by the host"
        ),
        BreakKind.HOST_ONLY: Text(
            "本机构已收款，网络账单无此交易", "captured by the host, not charged at the network"
        ),
        BreakKind.AMOUNT_MISMATCH: Text("金额不一致", "the amounts differ"),
        BreakKind.CURRENCY_MISMATCH: Text("币种不一致", "the currencies differ"),
        BreakKind.REFUND_NETWORK_ONLY: Text(
            "网络有退款，本机构无此退款", "a refund at the network the host did not make"
        ),
        BreakKind.REFUND_HOST_ONLY: Text(
            "本机构有退款，网络账单无此退款", "a refund of the host missing at the network"
        ),
        BreakKind.REFUND_AMOUNT_MISMATCH: Text(
            "退款金额或币种不一致", "the refund's amount or currency differs"
        ),
        BreakKind.DUPLICATE_LINE: Text("账单中重复的记录", "a line repeated in the statement"),
        BreakKind.UNKNOWN_STATUS: Text("账单记录状态无法识别", "a line with an unknown status"),
    }
)


@dataclass(frozen=True, slots=True)
class HostRefund:
    """A refund the host made of a trade (successful: refused ones are not refunds)."""

    refund_no: str
    amount: int
    currency: str
    on_day: bool = True
    """Made on the statement's day: a line is expected for it."""


@dataclass(frozen=True, slots=True)
class HostTrade:
    """One payment as the host holds it."""

    trade_no: str
    """Its trade number at the network (the payment's id)."""
    amount: int
    currency: str
    status: str
    """The host's word for it (``SUCCESS``, ``FAILED``...): shown in a break's detail."""
    captured: bool
    """The host holds the money (captured, whether or not refunded since)."""
    on_day: bool
    """Captured on the statement's day: a line is expected for it."""
    payment_id: int | None = None
    """The host's own key of the payment, carried into its breaks."""
    refunds: tuple[HostRefund, ...] = ()


@dataclass(frozen=True, slots=True)
class Break:
    """A difference between the host and the network, about one trade or refund."""

    kind: BreakKind
    trade_no: str
    refund_no: str | None = None
    transaction_id: str | None = None
    """The network's own id of the trade, when a line named it."""
    payment_id: int | None = None
    """The host's payment (:attr:`HostTrade.payment_id`), when the host has one."""
    host_amount: int | None = None
    network_amount: int | None = None
    currency: str | None = None
    """The host's currency when it has the trade, else the network's."""
    detail: Detail | None = None
    """What else there is to say (what the host has it as, the other currency...)."""


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`match` found: how many trades and refunds agree, and the breaks
    (sorted by trade number, refund number and kind)."""

    matched: int
    breaks: tuple[Break, ...]

    @property
    def clean(self) -> bool:
        """No break."""
        return not self.breaks

    def count(self) -> Counter[BreakKind]:
        """The breaks by kind."""
        return Counter(b.kind for b in self.breaks)


def is_reversal(line: StatementLine) -> bool:
    """Whether ``line`` is the refund a reverse made (not a refund anyone asked for):
    WeChat Pay numbers it ``REVERSE`` and the transaction id; Alipay numbers a cancel's
    refund as its trade (its default refund number), which no refund of the host's
    takes (the host numbers each of its refunds)."""
    return (
        line.kind is StatementKind.REFUND
        and line.refund_no is not None
        and line.refund_no in (REVERSAL_PREFIX + line.transaction_id, line.trade_no)
    )


@dataclass(slots=True)
class _Lines:
    """The lines of one trade number, sorted into their places."""

    charged: StatementLine | None = None
    revoked: StatementLine | None = None
    reversal: StatementLine | None = None
    refunds: dict[str, StatementLine] = field(default_factory=dict)

    @property
    def paid_side(self) -> bool:
        return self.charged is not None or self.reversed

    @property
    def reversed(self) -> bool:
        return self.revoked is not None or self.reversal is not None


def _line_order(line: StatementLine) -> tuple[str, str, str, str, int, str, str, str]:
    # Every field, so the line that is used (and the one that is a duplicate) does not
    # depend on the order the network listed them in.
    return (
        line.trade_no,
        line.kind.value,
        line.refund_no or "",
        line.status,
        line.amount,
        line.currency,
        line.transaction_id,
        line.time.isoformat(),
    )


def _break_order(item: Break) -> tuple[str, str, str, str, int, int, str, str]:
    return (
        item.trade_no,
        item.refund_no or "",
        item.kind.value,
        item.transaction_id or "",
        -1 if item.host_amount is None else item.host_amount,
        -1 if item.network_amount is None else item.network_amount,
        item.currency or "",
        item.detail.stored() if item.detail is not None else "",
    )


def _duplicate(line: StatementLine) -> Break:
    return Break(
        BreakKind.DUPLICATE_LINE,
        line.trade_no,
        refund_no=line.refund_no,
        transaction_id=line.transaction_id,
        network_amount=line.amount,
        currency=line.currency,
        detail=Detail(DetailCode.SEEN_ALREADY, (line.kind.value, line.status)),
    )


def _sort_lines(lines: Iterable[StatementLine], breaks: list[Break]) -> dict[str, _Lines]:
    """Each trade number's lines in their places; duplicates and unknown statuses to
    ``breaks``."""
    trades: dict[str, _Lines] = {}
    for line in sorted(lines, key=_line_order):
        if line.kind is StatementKind.PAYMENT and not (
            line.status in PAID_STATUSES or line.status in REVERSED_STATUSES
        ):
            breaks.append(
                Break(
                    BreakKind.UNKNOWN_STATUS,
                    line.trade_no,
                    transaction_id=line.transaction_id,
                    network_amount=line.amount,
                    currency=line.currency,
                    detail=Detail(DetailCode.STATUS, (line.status,)),
                )
            )
            continue
        place = trades.setdefault(line.trade_no, _Lines())
        if line.kind is StatementKind.PAYMENT:
            slot = "charged" if line.status in PAID_STATUSES else "revoked"
        elif is_reversal(line):
            slot = "reversal"
        else:
            key = line.refund_no or ""
            if key in place.refunds:
                breaks.append(_duplicate(line))
            else:
                place.refunds[key] = line
            continue
        if getattr(place, slot) is not None:
            breaks.append(_duplicate(line))
        else:
            setattr(place, slot, line)
    return trades


def _index_host(host: Iterable[HostTrade]) -> dict[str, HostTrade]:
    found: dict[str, HostTrade] = {}
    for trade in host:
        if trade.trade_no in found:
            raise ValueError(f"two host trades numbered {trade.trade_no!r}")
        numbers = Counter(r.refund_no for r in trade.refunds)
        twice = [no for no, n in numbers.items() if n > 1]
        if twice:
            raise ValueError(f"two refunds of {trade.trade_no!r} numbered {twice[0]!r}")
        found[trade.trade_no] = trade
    return found


def _payment(
    trade_no: str, host: HostTrade | None, lines: _Lines, earlier: set[str]
) -> Break | None:
    """The payment's break, or None when it matches or there is nothing to match."""
    if not lines.paid_side:
        if host is None or not (host.captured and host.on_day) or trade_no in earlier:
            return None
        return Break(
            BreakKind.HOST_ONLY,
            trade_no,
            payment_id=host.payment_id,
            host_amount=host.amount,
            currency=host.currency,
            detail=Detail(DetailCode.NO_LINE),
        )
    shown = lines.charged or lines.revoked or lines.reversal
    assert shown is not None
    if lines.reversed:
        if host is None or not host.captured:
            return None  # nothing held on either side
        return Break(
            BreakKind.HOST_ONLY,
            trade_no,
            transaction_id=shown.transaction_id,
            payment_id=host.payment_id,
            host_amount=host.amount,
            network_amount=lines.charged.amount if lines.charged is not None else None,
            currency=host.currency,
            detail=Detail(DetailCode.REVERSED_AT_NETWORK),
        )
    charged = lines.charged
    assert charged is not None
    if host is None or not host.captured:
        return Break(
            BreakKind.NETWORK_ONLY,
            trade_no,
            transaction_id=charged.transaction_id,
            payment_id=host.payment_id if host is not None else None,
            host_amount=host.amount if host is not None else None,
            network_amount=charged.amount,
            currency=host.currency if host is not None else charged.currency,
            detail=Detail(DetailCode.NO_SUCH_PAYMENT)
            if host is None
            else Detail(DetailCode.HOST_STATUS, (host.status,)),
        )
    if charged.currency != host.currency:
        kind = BreakKind.CURRENCY_MISMATCH
        detail: Detail | None = Detail(DetailCode.NETWORK_CURRENCY, (charged.currency,))
    elif charged.amount != host.amount:
        kind, detail = BreakKind.AMOUNT_MISMATCH, None
    else:
        return None
    return Break(
        kind,
        trade_no,
        transaction_id=charged.transaction_id,
        payment_id=host.payment_id,
        host_amount=host.amount,
        network_amount=charged.amount,
        currency=host.currency,
        detail=detail,
    )


def _refunds(
    trade_no: str,
    host: HostTrade | None,
    lines: _Lines,
    earlier: set[tuple[str, str]],
    breaks: list[Break],
) -> int:
    """The refunds' breaks to ``breaks``; how many refunds matched."""
    made = {r.refund_no: r for r in host.refunds} if host is not None else {}
    payment_id = host.payment_id if host is not None else None
    matched = 0
    for refund_no in sorted(set(made) | set(lines.refunds)):
        ours, line = made.get(refund_no), lines.refunds.get(refund_no)
        if line is None:
            assert ours is not None
            if ours.on_day and (trade_no, refund_no) not in earlier:
                breaks.append(
                    Break(
                        BreakKind.REFUND_HOST_ONLY,
                        trade_no,
                        refund_no=refund_no,
                        payment_id=payment_id,
                        host_amount=ours.amount,
                        currency=ours.currency,
                        detail=Detail(DetailCode.NO_LINE),
                    )
                )
        elif ours is None:
            breaks.append(
                Break(
                    BreakKind.REFUND_NETWORK_ONLY,
                    trade_no,
                    refund_no=line.refund_no,
                    transaction_id=line.transaction_id,
                    payment_id=payment_id,
                    network_amount=line.amount,
                    currency=line.currency,
                    detail=Detail(DetailCode.NO_SUCH_REFUND),
                )
            )
        elif line.amount != ours.amount or line.currency != ours.currency:
            breaks.append(
                Break(
                    BreakKind.REFUND_AMOUNT_MISMATCH,
                    trade_no,
                    refund_no=refund_no,
                    transaction_id=line.transaction_id,
                    payment_id=payment_id,
                    host_amount=ours.amount,
                    network_amount=line.amount,
                    currency=ours.currency,
                    detail=None
                    if line.currency == ours.currency
                    else Detail(DetailCode.NETWORK_CURRENCY, (line.currency,)),
                )
            )
        else:
            matched += 1
    return matched


def match(
    host: Iterable[HostTrade],
    lines: Iterable[StatementLine],
    *,
    earlier: Iterable[StatementLine] = (),
) -> Result:
    """Match the host's trades with a statement's ``lines``, one to one.

    ``host``: the trades captured on the statement's day (``on_day``) and any other
    the lines name; a trade number at most once (``ValueError`` otherwise).
    ``earlier``: the previous day's lines, to excuse a trade (or refund) the host
    booked today that the network booked the day before (see the module's notes).
    """
    hosts = _index_host(host)
    breaks: list[Break] = []
    trades = _sort_lines(lines, breaks)
    before = _sort_lines(earlier, [])
    paid_before = {no for no, found in before.items() if found.charged is not None}
    refunded_before = {(no, r) for no, found in before.items() for r in found.refunds}
    matched = 0
    for trade_no in sorted(set(hosts) | set(trades)):
        ours, theirs = hosts.get(trade_no), trades.get(trade_no, _Lines())
        found = _payment(trade_no, ours, theirs, paid_before)
        if found is not None:
            breaks.append(found)
        elif theirs.paid_side and ours is not None:
            matched += 1
        matched += _refunds(trade_no, ours, theirs, refunded_before, breaks)
    return Result(matched, tuple(sorted(breaks, key=_break_order)))
