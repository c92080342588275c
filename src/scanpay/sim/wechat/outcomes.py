"""Outcomes a test chooses, as the retired v2 sandbox let it.

Two ways to choose:

- a header on one request, ``Wechatpay-Negative-Test: NAME`` (the sandbox's own header;
  its ``MICROPAY_USERPAYING``, ``MICROPAY_TIMEOUT`` and ``MICROPAY_PAYERROR`` are accepted
  too), with ``Wechatpay-Sim-Seconds: N`` where a delay is involved;
- attached to a payment code when it is issued (``POST /sim/wallets/{id}/codes`` with
  ``outcome`` and ``seconds``): for tests that drive a client that sends no test
  headers, the host's adapter above all. A code's outcome fires on the first pay
  attempt with that code (the later steps of that order where it shapes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from scanpay.i18n import Text
from scanpay.sim.common.delivery import (
    CHARGED_NO_REPLY_SECONDS,
    CHARGED_NO_REPLY_TEXT,
    SLOW_SECONDS,
    SLOW_TEXT,
    WRONG_SIGNATURE_TEXT,
)

__all__ = [
    "CODE",
    "DEFAULT_SECONDS",
    "DESCRIPTIONS",
    "HEADER",
    "PAY",
    "QUERY",
    "REFUND",
    "REVERSE",
    "SECONDS_HEADER",
    "Chosen",
    "Outcome",
    "from_headers",
    "parse",
]

HEADER = "Wechatpay-Negative-Test"
SECONDS_HEADER = "Wechatpay-Sim-Seconds"


class Outcome(StrEnum):
    SYSTEMERROR = "SYSTEMERROR"
    BANKERROR = "BANKERROR"
    USERPAYING_SUCCESS = "USERPAYING_SUCCESS"
    USERPAYING_FAIL = "USERPAYING_FAIL"
    USERPAYING_NEVER = "USERPAYING_NEVER"
    NOTENOUGH = "NOTENOUGH"
    AUTHCODEEXPIRE = "AUTHCODEEXPIRE"
    SLOW = "SLOW"
    CHARGED_NO_REPLY = "CHARGED_NO_REPLY"
    REVERSE_RECALL = "REVERSE_RECALL"
    REFUND_PROCESSING = "REFUND_PROCESSING"
    WRONG_SIGNATURE = "WRONG_SIGNATURE"


_ALIASES = {
    "MICROPAY_USERPAYING": Outcome.USERPAYING_SUCCESS,
    "MICROPAY_PAYERROR": Outcome.USERPAYING_FAIL,
    "MICROPAY_TIMEOUT": Outcome.SYSTEMERROR,
}

DESCRIPTIONS: dict[Outcome, Text] = {
    Outcome.SYSTEMERROR: Text(
        "系统错误，未扣款：订单记为未支付，付款码未用，用相同参数重试即可继续。",
        "System error, nothing charged: the order is recorded NOTPAY, the code stays unused,"
        " a retry with the same parameters goes on.",
    ),
    Outcome.BANKERROR: Text(
        "银行系统异常，与 SYSTEMERROR 相同，错误码为 BANKERROR。",
        "Bank error: as SYSTEMERROR, with the code BANKERROR.",
    ),
    Outcome.USERPAYING_SUCCESS: Text(
        "回答“用户支付中”，N 秒后（默认 0，即下次查询时）支付成功。",
        "Answers USERPAYING; paid N seconds later (default 0: at the next query).",
    ),
    Outcome.USERPAYING_FAIL: Text(
        "回答“用户支付中”，N 秒后支付失败（PAYERROR），不扣款。",
        "Answers USERPAYING; fails N seconds later (PAYERROR), nothing charged.",
    ),
    Outcome.USERPAYING_NEVER: Text(
        "回答“用户支付中”，一直不完成，直到撤销。",
        "Answers USERPAYING and never completes until reversed.",
    ),
    Outcome.NOTENOUGH: Text("余额不足，不论余额多少。", "Balance too low, whatever the balance."),
    Outcome.AUTHCODEEXPIRE: Text("付款码已过期。", "The code has expired."),
    Outcome.SLOW: SLOW_TEXT,
    Outcome.CHARGED_NO_REPLY: CHARGED_NO_REPLY_TEXT,
    Outcome.REVERSE_RECALL: Text(
        "撤销第一次回答 recall=Y（未完成），再次撤销才完成。",
        "The first reverse answers recall=Y (not done); the next one does it.",
    ),
    Outcome.REFUND_PROCESSING: Text(
        "退款回答 PROCESSING，下次查询退款时为 SUCCESS；"
        "给了 N 秒则 N 秒后自行完成（并回调 notify_url）。",
        "The refund answers PROCESSING; SUCCESS at the next refund query, or by itself"
        " N seconds later when N is given (its notify_url then called back).",
    ),
    Outcome.WRONG_SIGNATURE: WRONG_SIGNATURE_TEXT,
}

_ANY = {Outcome.SYSTEMERROR, Outcome.SLOW, Outcome.CHARGED_NO_REPLY, Outcome.WRONG_SIGNATURE}
QUERY = frozenset(_ANY)
REVERSE = frozenset(_ANY | {Outcome.REVERSE_RECALL})
REFUND = frozenset(_ANY | {Outcome.REFUND_PROCESSING})
# Pay takes every outcome but the refund's; a code may carry that one too (its order's
# first refund answers PROCESSING).
PAY = frozenset(set(Outcome) - {Outcome.REFUND_PROCESSING})
CODE = frozenset(Outcome)

DEFAULT_SECONDS = {
    Outcome.SLOW: SLOW_SECONDS,
    Outcome.CHARGED_NO_REPLY: CHARGED_NO_REPLY_SECONDS,
    Outcome.USERPAYING_SUCCESS: 0.0,
    Outcome.USERPAYING_FAIL: 0.0,
}


@dataclass(frozen=True)
class Chosen:
    """An outcome a test chose, with its seconds where it has any."""

    outcome: Outcome
    seconds: float | None = None

    @property
    def delay(self) -> float:
        if self.seconds is not None:
            return self.seconds
        return DEFAULT_SECONDS.get(self.outcome, 0.0)


def parse(name: str) -> Outcome:
    """An outcome by name (or a sandbox alias); ValueError for an unknown one."""
    key = name.strip().upper()
    if key in _ALIASES:
        return _ALIASES[key]
    return Outcome(key)


def from_headers(headers: Mapping[str, str], allowed: frozenset[Outcome]) -> Chosen | None:
    """The outcome a request's headers choose; ValueError for an unknown name, a bad
    number of seconds, or an outcome this kind of request cannot take."""
    name = headers.get(HEADER.lower()) or headers.get(HEADER)
    if not name:
        return None
    outcome = parse(name)
    if outcome not in allowed:
        raise ValueError(f"{outcome} does not apply to this request")
    raw = headers.get(SECONDS_HEADER.lower()) or headers.get(SECONDS_HEADER)
    seconds = None
    if raw:
        seconds = float(raw)
        if not 0 <= seconds <= 3600:
            raise ValueError(f"{SECONDS_HEADER} must be within 0..3600")
    return Chosen(outcome, seconds)
